import App
import Detection
import Foundation
import JSON
import Postgres
import Testing
import TokenmeterCore

/// Ingest → rollups and events → evaluator → outbox → webhook, through the running server.
struct AlertLifecycleTests {
    /// Errors for 5 s, then healthy traffic: exactly one firing and one resolved notification,
    /// Alertmanager-shaped, signed; the incident is in `GET /v1/alerts` with both times.
    @Test func errorSurgeFiresOnceAndResolvesOnce() throws {
        let server = try RunningServer(configure: AlertTest.configure)
        let receiver = try TestReceiver()
        try AlertTest.setDestination(server.port, project: "test", url: receiver.url())
        let t = AlertTest.pastInstant(minutesAgo: 20)
        try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(30, at: t, status: "error"))

        // Watermark = now − 30 s. t+10: breaching, pending (10 s pending period); t+20: firing.
        let first = try AlertTest.evaluate(server.port, at: t.addingTimeInterval(40))
        #expect(first["ran"]?.boolValue == true)
        #expect(first["notifications"]?.int64Value == 0)
        // Pending for the project and for its only model: the same surge, kept in the history.
        let pending = try server.get("/v1/alerts?state=pending").json?["alerts"]?.arrayValue ?? []
        #expect(pending.count == 2 && pending.allSatisfy { $0["rule"]?.stringValue == "error_surge" }, "\(pending)")
        #expect(try AlertTest.evaluate(server.port, at: t.addingTimeInterval(50))["notifications"]?.int64Value == 1)
        #expect(AlertTest.wait { receiver.processed.count >= 1 })

        let firing = try #require(receiver.processed.first)
        #expect(AlertTest.signed(firing), "X-Tokenmeter-Signature must verify with the project's secret")
        let payload = try JSONParser.parse(firing.body)
        #expect(payload["version"]?.stringValue == "4")
        #expect(payload["status"]?.stringValue == "firing")
        let alert = try #require(payload["alerts"]?[0])
        #expect(alert["labels"]?["alertname"]?.stringValue == "error_surge")
        #expect(alert["labels"]?["project"]?.stringValue == server.project.description)
        #expect(alert["labels"]?["project_name"]?.stringValue == "test")
        #expect(alert["tokenmeter"]?["value"]?.doubleValue == 1.0)
        #expect(alert["tokenmeter"]?["threshold"]?.doubleValue == 0.5)
        #expect(alert["endsAt"]?.stringValue == "0001-01-01T00:00:00Z")

        // Still erroring at the next rounds: no second message.
        try AlertTest.evaluate(server.port, at: t.addingTimeInterval(60))
        // Healthy traffic every 30 s from t+120; evaluations every 30 s until 5 min of clear.
        for step in 0...16 {
            try AlertTest.ingest(server.port, key: server.ingestKey, AlertTest.events(10, at: t.addingTimeInterval(120 + Double(step) * 30)))
        }
        var resolvedRound: Int?
        for step in 0...14 {
            let round = try AlertTest.evaluate(server.port, at: t.addingTimeInterval(180 + Double(step) * 30))
            if round["notifications"]?.int64Value == 1 { resolvedRound = resolvedRound ?? step }
        }
        // Clear from watermark t+150; resolved once clear for 5 min, at watermark t+450 (step 10).
        #expect(resolvedRound == 10)
        #expect(AlertTest.wait { receiver.processed.count >= 2 })
        usleep(1_500_000)
        let kinds = AlertTest.payloads(receiver).map { AlertTest.summary($0) }
        #expect(kinds.map(\.rule) == ["error_surge", "error_surge"])
        #expect(kinds.map(\.status) == ["firing", "resolved"])
        #expect(receiver.processed.allSatisfy(AlertTest.signed))

        // The model's incident is listed too, linked to the project's, never notified.
        let listed = try #require(server.get("/v1/alerts?state=resolved").json?["alerts"]?.arrayValue)
        #expect(listed.count == 2)
        let row = try #require(listed.first { $0["labels"]?["model"] == nil })
        let muted = try #require(listed.first { $0["labels"]?["model"]?.stringValue == "gpt-4o-mini" })
        #expect(muted["inhibited_by"]?.stringValue == alert["fingerprint"]?.stringValue)
        #expect(row["state"]?.stringValue == "resolved")
        #expect(row["started_at"]?.stringValue == Timestamp.rfc3339(t.addingTimeInterval(20)))
        #expect(row["resolved_at"]?.stringValue == Timestamp.rfc3339(t.addingTimeInterval(450)))
        #expect(row["fingerprint"]?.stringValue == alert["fingerprint"]?.stringValue)
        #expect(row["links"]?["dashboard"] == .null)
        #expect(try server.get("/v1/alerts?state=firing").json?["alerts"]?.arrayValue?.isEmpty == true)
    }

    /// Two and a half hours of steady spend, then ×20: one spend-spike notification, at the
    /// project scope (not one more per feature and model), with value and baseline from the rollups.
    @Test func spendSpikeFiresOnceAtTheProjectScope() throws {
        let server = try RunningServer(configure: AlertTest.configure)
        let receiver = try TestReceiver()
        try AlertTest.setDestination(server.port, project: "test", url: receiver.url())
        let t0 = Minutes.date(Minutes.of(Date()) - 200)
        // 25 calls a minute at $0.001 for 150 minutes ($0.125 per 5 min), then $0.02 a call.
        for chunk in 0..<5 {
            let body = (chunk * 30..<(chunk + 1) * 30).map { minute in
                AlertTest.events(25, at: t0.addingTimeInterval(Double(minute) * 60), costUSD: "0.001", feature: "chat")
                    .dropFirst().dropLast()
            }.joined(separator: ",")
            try AlertTest.ingest(server.port, key: server.ingestKey, "[" + body + "]")
        }
        let spike = (150..<156).map { minute in
            AlertTest.events(25, at: t0.addingTimeInterval(Double(minute) * 60), costUSD: "0.02", feature: "chat").dropFirst().dropLast()
        }.joined(separator: ",")
        try AlertTest.ingest(server.port, key: server.ingestKey, "[" + spike + "]")

        // Watermark t0+154 min: the 5-minute window [149, 154) holds 4 spike minutes.
        let quiet = try AlertTest.evaluate(server.port, at: t0.addingTimeInterval(140 * 60 + 30))
        #expect(quiet["notifications"]?.int64Value == 0)
        let round = try AlertTest.evaluate(server.port, at: t0.addingTimeInterval(154 * 60 + 30))
        #expect(round["notifications"]?.int64Value == 1, "\(round)")
        #expect(AlertTest.wait { receiver.processed.count >= 1 })
        usleep(1_000_000)
        let payloads = AlertTest.payloads(receiver)
        #expect(payloads.count == 1)
        let alert = try #require(payloads.first?["alerts"]?[0])
        #expect(alert["labels"]?["alertname"]?.stringValue == "spend_spike")
        #expect(alert["labels"]?["feature"] == nil && alert["labels"]?["model"] == nil, "\(alert)")
        let value = try #require(alert["tokenmeter"]?["value"]?.doubleValue)
        let baseline = try #require(alert["tokenmeter"]?["baseline"]?.doubleValue)
        #expect(abs(value - (25 * 0.001 + 4 * 25 * 0.02)) < 1e-9, "\(value)")
        #expect(abs(baseline - 0.125) < 1e-9, "\(baseline)")
        #expect(alert["tokenmeter"]?["details"]?["baseline_mode"]?.stringValue == "trailing")
    }

    /// The receiver fails (500, 429 with Retry-After, a dropped connection, an answer later than the
    /// 1 s timeout) before accepting, and the server is restarted meanwhile: one outbox row, one
    /// notification id on every attempt, delivered once. The late answer was processed by the
    /// receiver, so it sees that id twice: at-least-once, deduplicated by the id.
    @Test func failingReceiverGetsTheNotificationOnceAcrossARestart() throws {
        let database = try TestEnvironment.migratedDatabase()
        let keys = try AlertTest.project("test", on: database)
        let quickTimeout: (inout Configuration) -> Void = {
            AlertTest.configure(&$0)
            $0.alertDeliveryTimeoutSeconds = 1
        }
        let first = try AlertTest.server(on: database, configure: quickTimeout)
        let receiver = try TestReceiver(script: [.status(500, retryAfter: nil), .status(429, retryAfter: "1"), .drop, .slowAccept(seconds: 2.5)])
        try AlertTest.setDestination(first.port, project: "test", url: receiver.url())
        let t = AlertTest.pastInstant(minutesAgo: 20)
        try AlertTest.ingest(first.port, key: keys.ingest, AlertTest.events(30, at: t, status: "error"))
        try AlertTest.evaluate(first.port, at: t.addingTimeInterval(40))
        try AlertTest.evaluate(first.port, at: t.addingTimeInterval(50))
        #expect(AlertTest.wait { receiver.received.count >= 1 })
        first.shutdown()

        let second = try AlertTest.server(on: database, configure: quickTimeout)
        defer { second.shutdown() }
        // The new instance evaluates the same instant again: the state is stored, nothing new.
        #expect(try AlertTest.evaluate(second.port, at: t.addingTimeInterval(50))["notifications"]?.int64Value == 0)
        #expect(AlertTest.wait(timeout: 90) { receiver.processed.count >= 2 })
        usleep(3_000_000)
        #expect(receiver.received.count == 5, "500, 429, dropped, too late, then accepted")
        #expect(receiver.processed.count == 2, "the late answer and the accepted retry")
        #expect(Set(receiver.received.map(\.id)).count == 1, "every attempt carries the same notification id")
        let connection = try PostgresConnection(connectionString: database)
        defer { connection.close() }
        let outbox = try connection.query("SELECT count(*) AS n, count(delivered_at) AS delivered FROM alert_outbox").rows[0]
        #expect(outbox["n"] == "1" && outbox["delivered"] == "1")
    }

    /// Two servers on one database, both evaluating every second in real time: one notification.
    @Test func twoInstancesNotifyOnce() throws {
        let configure: (inout Configuration) -> Void = {
            AlertTest.configure(&$0)
            $0.alertEvaluationIntervalSeconds = 1
        }
        let first = try RunningServer(configure: configure)
        let second = try AlertTest.server(on: first.connectionString, configure: configure)
        defer { second.shutdown() }
        let receiver = try TestReceiver()
        try AlertTest.setDestination(first.port, project: "test", url: receiver.url())
        try AlertTest.ingest(first.port, key: first.ingestKey, AlertTest.events(30, at: Date().addingTimeInterval(-40), status: "error"))
        #expect(AlertTest.wait(timeout: 40) { receiver.processed.count >= 1 })
        usleep(4_000_000)
        #expect(receiver.received.count == 1)
        // The project's incident and its model's (muted): one of each, whichever instance evaluated.
        #expect(try first.sql("SELECT count(*) AS n FROM alert_instances").rows[0]["n"] == "2")
        let metrics = try first.client().send(method: "GET", path: "/metrics").text
        #expect(metrics.contains("tokenmeter_alerts_firing 2"), "\(metrics.split(separator: "\n").filter { $0.contains("alert") })")
    }
}
