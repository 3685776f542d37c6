import App
import Foundation
import JSON
import Testing
import TokenmeterCore

/// Budgets, rules, destinations and dead letters over HTTP: numbers equal SQL over events,
/// mutations need the admin token, bad input is a 400 naming the field, projects are isolated.
struct AlertAPITests {
    let server: RunningServer

    init() throws { server = try RunningServer(configure: AlertTest.configure) }

    func admin(_ method: String, _ path: String, _ body: String? = nil) throws -> HTTPClient.Response {
        try AlertTest.send(server.port, method, path, token: AlertTest.adminToken, body: body)
    }

    /// A $1 daily budget: $0.85 spent → 85%, warning, one 80% alert; $1.05 → exceeded, escalated
    /// once to critical. The status's numbers equal sums over the events table.
    @Test func budgetStatusAndAlerts() throws {
        let receiver = try TestReceiver()
        try AlertTest.setDestination(server.port, project: "test", url: receiver.url())
        let put = try admin("PUT", "/v1/budgets/daily-total?project=test", #"{"period":"daily","unit":"usd","limit":1}"#)
        #expect(put.status == 201, "\(put.text)")
        #expect(try admin("PUT", "/v1/budgets/daily-total?project=test", #"{"period":"daily","limit":"1.00"}"#).status == 200)

        let now = Date()
        let dayStart = Calendar(identifier: .gregorian).startOfDay(for: now, in: TimeZone(identifier: "UTC")!)
        let at = max(now.addingTimeInterval(-120), dayStart.addingTimeInterval(1))
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(17, at: at, costUSD: "0.05"))

        let status = try #require(server.get("/v1/budgets/daily-total/status").json)
        let spentSQL = try #require(try server.sql("""
            SELECT (sum(cost_pico) / 1e12)::text AS spent FROM events WHERE ts >= date_trunc('day', now(), 'UTC')
            """).rows[0]["spent"])
        #expect(sameDecimal(status["spent"]?.numberValue?.text, spentSQL), "\(status) vs \(spentSQL)")
        #expect(sameDecimal(status["spent"]?.numberValue?.text, "0.85"))
        #expect(sameDecimal(status["remaining"]?.numberValue?.text, "0.15"))
        #expect(sameDecimal(status["limit"]?.numberValue?.text, "1"))
        #expect(status["percent_used"]?.doubleValue == 85)
        #expect(status["state"]?.stringValue == "warning")
        #expect(status["period"]?.stringValue == "daily")
        #expect(status["scope"]?["type"]?.stringValue == "project")
        #expect(status["period_start"]?.stringValue == Timestamp.rfc3339(dayStart))
        #expect(status["period_end"]?.stringValue == Timestamp.rfc3339(dayStart.addingTimeInterval(86_400)))
        #expect(sameDecimal(status["burn_rate_per_hour"]?.numberValue?.text, "0.85"))
        #expect(status["projected_exhaustion_at"]?.stringValue != nil)

        try AlertTest.evaluate(server.port, at: Date())
        #expect(AlertTest.wait { AlertTest.payloads(receiver).contains { AlertTest.summary($0).rule == "budget_threshold" } })
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(4, at: at.addingTimeInterval(5), costUSD: "0.05"))
        let exceeded = try #require(server.get("/v1/budgets/daily-total/status").json)
        #expect(exceeded["state"]?.stringValue == "exceeded")
        #expect(sameDecimal(exceeded["remaining"]?.numberValue?.text, "0"))
        try AlertTest.evaluate(server.port, at: Date())
        try AlertTest.evaluate(server.port, at: Date())
        #expect(AlertTest.wait { AlertTest.payloads(receiver).filter { AlertTest.summary($0).rule == "budget_threshold" }.count >= 2 })
        usleep(1_500_000)
        let budgetMessages = AlertTest.payloads(receiver).filter { AlertTest.summary($0).rule == "budget_threshold" }
        #expect(budgetMessages.map { AlertTest.summary($0).kind } == ["firing", "escalated"])
        #expect(budgetMessages.map { $0["alerts"]?[0]?["labels"]?["severity"]?.stringValue } == ["warning", "critical"])
        // $0.85 within minutes of a daily budget is also a fast burn: one alert of its own.
        #expect(AlertTest.payloads(receiver).filter { AlertTest.summary($0).rule == "budget_burn" }.count == 1)

        let list = try #require(server.get("/v1/budgets").json?["budgets"]?.arrayValue)
        #expect(list.count == 1 && list.first?["id"]?.stringValue == "daily-total")
        #expect(try admin("DELETE", "/v1/budgets/daily-total?project=test").status == 200)
        #expect(try server.get("/v1/budgets/daily-total/status").status == 404)
        #expect(try admin("DELETE", "/v1/budgets/daily-total?project=test").status == 404)
        // A deleted budget's incidents end: the threshold one at once, the burn one after 5 min clear.
        try AlertTest.evaluate(server.port, at: Date())
        #expect(try server.get("/v1/alerts?state=firing").json?["alerts"]?.arrayValue?.map { $0["rule"]?.stringValue } == ["budget_burn"])
        try AlertTest.evaluate(server.port, at: Date().addingTimeInterval(6 * 60))
        #expect(try server.get("/v1/alerts?state=firing,pending").json?["alerts"]?.arrayValue?.isEmpty == true)
        #expect(try server.get("/v1/alerts?state=resolved").json?["alerts"]?.arrayValue?.count == 2)
    }

    @Test func featureAndTokenBudgetsCountOnlyTheirScope() throws {
        #expect(try admin("PUT", "/v1/budgets/chat-tokens?project=test",
                          #"{"scope":{"type":"feature","feature":"chat"},"period":"monthly","unit":"tokens","limit":1000,"timezone":"Europe/Paris"}"#).status == 201)
        let at = Date().addingTimeInterval(-60)
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(4, at: at, feature: "chat"))
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(6, at: at, feature: "search"))
        let status = try #require(server.get("/v1/budgets/chat-tokens/status").json)
        #expect(status["spent"]?.int64Value == 60, "4 events × 15 tokens: \(status)")
        #expect(status["remaining"]?.int64Value == 940)
        #expect(status["scope"]?["feature"]?.stringValue == "chat")
        #expect(status["timezone"]?.stringValue == "Europe/Paris")
        #expect(status["state"]?.stringValue == "ok")
    }

    @Test(arguments: [
        (#"{"limit":1}"#, "period"),
        (#"{"period":"weekly","limit":1}"#, "period"),
        (#"{"period":"daily","limit":-1}"#, "limit"),
        (#"{"period":"daily","limit":"abc"}"#, "limit"),
        (#"{"period":"daily","unit":"eur","limit":1}"#, "unit"),
        (#"{"period":"daily","limit":1,"timezone":"Mars/Olympus"}"#, "timezone"),
        (#"{"period":"daily","limit":1,"scope":{"type":"team"}}"#, "scope.type"),
        (#"{"period":"daily","limit":1,"scope":{"type":"user"}}"#, "scope.user_id"),
        (#"{"period":"daily","limit":1,"colour":"red"}"#, "colour"),
        ("not json", "body"),
    ])
    func budgetValidation(body: String, field: String) throws {
        let response = try admin("PUT", "/v1/budgets/b1?project=test", body)
        #expect(response.status == 400, "\(response.text)")
        #expect(response.json?["error"]?["field"]?.stringValue == field, "\(response.text)")
    }

    @Test func rulesHaveDefaultsAndOverrides() throws {
        let rules = try #require(server.get("/v1/alert-rules").json?["rules"]?.arrayValue)
        let surge = try #require(rules.first { $0["rule"]?.stringValue == "error_surge" })
        #expect(surge["enabled"]?.boolValue == true && surge["threshold"]?.doubleValue == 0.5 && surge["min_calls"]?.int64Value == 10)
        #expect(surge["customized"]?.boolValue == false)
        let put = try admin("PUT", "/v1/alert-rules/error_surge?project=test", #"{"threshold":0.3,"min_calls":5}"#)
        #expect(put.status == 200, "\(put.text)")
        let after = try #require(server.get("/v1/alert-rules").json?["rules"]?.arrayValue?.first { $0["rule"]?.stringValue == "error_surge" })
        #expect(after["threshold"]?.doubleValue == 0.3 && after["min_calls"]?.int64Value == 5 && after["customized"]?.boolValue == true)

        // 8 calls with 3 errors: below the default 10-request minimum, a surge under the override.
        let t = AlertTest.pastInstant(minutesAgo: 10)
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(3, at: t, status: "error"))
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(5, at: t.addingTimeInterval(1)))
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(40))
        // Pending for the project and its only model.
        #expect(try server.get("/v1/alerts?state=pending").json?["alerts"]?.arrayValue?.count == 2)

        #expect(try admin("PUT", "/v1/alert-rules/error_surge?project=test", #"{"enabled":false}"#).status == 200)
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(45))
        #expect(try server.get("/v1/alerts?state=pending").json?["alerts"]?.arrayValue?.isEmpty == true)

        for (body, field) in [(#"{"threshold":2}"#, "threshold"), (#"{"min_calls":0}"#, "min_calls"),
                              (#"{"pending_seconds":-1}"#, "pending_seconds"), (#"{"enabled":"no"}"#, "enabled")] {
            let response = try admin("PUT", "/v1/alert-rules/error_surge?project=test", body)
            #expect(response.status == 400 && response.json?["error"]?["field"]?.stringValue == field, "\(body): \(response.text)")
        }
        #expect(try admin("PUT", "/v1/alert-rules/hourly_cost?project=test", #"{"min_calls":5}"#).json?["error"]?["field"]?.stringValue == "min_calls")
        #expect(try admin("PUT", "/v1/alert-rules/no_such_rule?project=test", "{}").status == 404)
    }

    @Test func destinationsNeverShowTheSecret() throws {
        let put = try admin("PUT", "/v1/alert-destinations?project=test",
                            #"{"webhook_url":"https://hooks.example.com/services/T000/B000/XXXXsecretpath","hmac_secret":"\#(AlertTest.secret)"}"#)
        #expect(put.status == 200, "\(put.text)")
        let shown = try server.get("/v1/alert-destinations")
        #expect(shown.status == 200)
        #expect(!shown.text.contains(AlertTest.secret) && !shown.text.contains("XXXXsecret"), "\(shown.text)")
        #expect(shown.json?["hmac_secret_set"]?.boolValue == true)
        #expect(shown.json?["webhook_url"]?.stringValue == "https://hooks.example.com/…path")
        let bad = try admin("PUT", "/v1/alert-destinations?project=test", #"{"webhook_url":"ftp://x","hmac_secret":"short"}"#)
        #expect(bad.status == 400 && bad.json?["error"]?["field"]?.stringValue == "webhook_url", "\(bad.text)")
        #expect(try admin("PUT", "/v1/alert-destinations?project=test", #"{"hmac_secret":"short"}"#).json?["error"]?["field"]?.stringValue == "hmac_secret")
    }

    /// A receiver that answers 400 gets a dead letter, visible in the API and /metrics.
    @Test func deadLettersAreVisible() throws {
        let receiver = try TestReceiver(script: [.status(400, retryAfter: nil)])
        try AlertTest.setDestination(server.port, project: "test", url: receiver.url())
        let t = AlertTest.pastInstant(minutesAgo: 10)
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(30, at: t, status: "error"))
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(40))
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(50))
        #expect(AlertTest.wait { (try? server.get("/v1/alert-deliveries?state=dead").json?["deliveries"]?.arrayValue?.count) == 1 })
        let dead = try #require(server.get("/v1/alert-deliveries?state=dead").json?["deliveries"]?[0])
        #expect(dead["last_status"]?.int64Value == 400 && dead["kind"]?.stringValue == "firing")
        #expect(!(try server.get("/v1/alert-deliveries").text.contains("127.0.0.1")), "no URL in dead letters")
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(55))
        let metrics = try server.client().send(method: "GET", path: "/metrics").text
        #expect(metrics.contains("tokenmeter_alert_notifications_dead_total 1"))
        #expect(metrics.contains("tokenmeter_alert_outbox_dead 1"))
        #expect(try server.get("/v1/alert-deliveries?state=pending").json?["error"]?["field"]?.stringValue == "state")
    }

    /// Mutations need the admin token; API keys get 403, nothing 401; another project sees nothing.
    @Test func authorizationAndIsolation() throws {
        let other = try server.makeProject("other")
        let body = #"{"period":"daily","limit":1}"#
        #expect(try admin("PUT", "/v1/budgets/b1?project=test", body).status == 201)
        let t = AlertTest.pastInstant(minutesAgo: 10)
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(30, at: t, status: "error"))
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(40))
        // The project's surge and the same surge in its only model (kept, muted by the project's).
        #expect(try server.get("/v1/alerts").json?["alerts"]?.arrayValue?.count == 2)

        for key in [server.readKey, server.ingestKey, other.read] {
            #expect(try AlertTest.send(server.port, "PUT", "/v1/budgets/b2?project=test", token: key, body: body).status == 403)
            #expect(try AlertTest.send(server.port, "PUT", "/v1/alert-destinations?project=test", token: key, body: "{}").status == 403)
        }
        for token in [nil, "tm_not_a_key", AlertTest.adminToken + "x"] {
            #expect(try AlertTest.send(server.port, "PUT", "/v1/alert-rules/error_surge?project=test", token: token, body: "{}").status == 401)
            #expect(try AlertTest.send(server.port, "GET", "/v1/alerts", token: token).status == 401)
        }
        #expect(try AlertTest.send(server.port, "POST", "/v1/admin/evaluate", token: server.readKey).status == 401)
        #expect(try admin("PUT", "/v1/budgets/b2?project=nobody", body).status == 404)
        #expect(try admin("PUT", "/v1/budgets/b2", body).json?["error"]?["field"]?.stringValue == "project")
        #expect(try server.get("/v1/budgets", key: server.ingestKey).status == 403)

        #expect(try server.get("/v1/alerts", key: other.read).json?["alerts"]?.arrayValue?.isEmpty == true)
        #expect(try server.get("/v1/budgets", key: other.read).json?["budgets"]?.arrayValue?.isEmpty == true)
        #expect(try server.get("/v1/budgets/b1/status", key: other.read).status == 404)
        #expect(try server.get("/v1/alert-destinations", key: other.read).json?["webhook_url"] == .null)
        #expect(try server.get("/v1/alerts?state=bogus").json?["error"]?["field"]?.stringValue == "state")
    }
}

private extension Calendar {
    func startOfDay(for date: Date, in zone: TimeZone) -> Date {
        var calendar = self
        calendar.timeZone = zone
        return calendar.startOfDay(for: date)
    }
}
