import App
import Delivery
import Foundation
import JSON
import Postgres
import Store
import Testing
import TokenmeterCore

/// Alerting end to end: a real server with the admin token, evaluation driven at chosen instants
/// through `POST /v1/admin/evaluate?now=`, and a webhook receiver on 127.0.0.1.
enum AlertTest {
    static let adminToken = "alert-admin-token-for-tests-0123456789"
    static let secret = "hmac-secret-for-tests-0123456789"

    /// Test servers: admin token on, the evaluation loop off (tests pick the instants), quick
    /// retries so failure scripts finish in seconds.
    static func configure(_ configuration: inout Configuration) {
        configuration.adminToken = adminToken
        configuration.alertEvaluationIntervalSeconds = 0
        configuration.alertDeliveryBackoffSeconds = 1
    }

    /// Another server on an existing database (restarts, several instances).
    static func server(on connectionString: String, configure: (inout Configuration) -> Void = AlertTest.configure) throws -> Server {
        var configuration = Configuration()
        configuration.port = 0
        configuration.logLevel = .error
        configure(&configuration)
        let server = Server(configuration: configuration, connectionString: connectionString,
                            logger: Logger(label: "test", minimumLevel: .error), priceBook: try PriceBook.shipped())
        try server.start()
        return server
    }

    /// A project with an ingest and a read key on an existing database.
    static func project(_ name: String, on connectionString: String) throws -> (ingest: String, read: String) {
        let pool = PostgresPool(connectionString: connectionString, size: 1)
        defer { pool.close() }
        let keys = PostgresKeyStore(pool: pool)
        let id = try keys.ensureProject(named: name)
        return (try keys.createKey(project: id, kind: .ingest), try keys.createKey(project: id, kind: .read))
    }

    static func send(_ port: Int, _ method: String, _ path: String, token: String?, body: String? = nil) throws -> HTTPClient.Response {
        var headers = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try HTTPClient(port: port).send(method: method, path: path, headers: headers, body: Array((body ?? "").utf8))
    }

    /// One evaluation round at `now`; requires a 200.
    @discardableResult
    static func evaluate(_ port: Int, at now: Date, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let response = try send(port, "POST", "/v1/admin/evaluate?now=\(Timestamp.rfc3339(now))", token: adminToken)
        #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
        return try #require(response.json)
    }

    /// Points the project's notifications at `url`, signed with ``secret``.
    static func setDestination(_ port: Int, project: String, url: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let response = try send(port, "PUT", "/v1/alert-destinations?project=\(project)", token: adminToken,
                                body: #"{"webhook_url":"\#(url)","hmac_secret":"\#(secret)"}"#)
        #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
    }

    /// `count` native events at `at` (one per 100 ms), as a JSON array.
    static func events(_ count: Int, at: Date, status: String = "ok", costUSD: String? = nil, feature: String? = nil,
                       prefix: String = UUID().uuidString) -> String {
        let items = (0..<count).map { i in
            var fields = [#""request_id":"\#(prefix)-\#(i)""#,
                          #""timestamp":"\#(Timestamp.rfc3339(at.addingTimeInterval(Double(i) * 0.1)))""#,
                          #""model":"gpt-4o-mini""#, #""provider":"openai""#, #""tokens_in":10"#, #""tokens_out":5"#,
                          #""status":"\#(status)""#]
            if let costUSD { fields.append(#""cost_usd":\#(costUSD)"#) }
            if let feature { fields.append(#""feature":"\#(feature)""#) }
            return "{" + fields.joined(separator: ",") + "}"
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    static func ingest(_ port: Int, key: String, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let response = try send(port, "POST", "/v1/events", token: key, body: body)
        #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.json?["rejected"]?.arrayValue?.isEmpty == true, "\(response.text)", sourceLocation: sourceLocation)
    }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    static func wait(timeout: TimeInterval = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// The Alertmanager payloads a receiver processed, parsed.
    static func payloads(_ receiver: TestReceiver) -> [JSONValue] {
        receiver.processed.compactMap { try? JSONParser.parse($0.body) }
    }

    /// `(alertname, status, notification kind)` of each payload.
    static func summary(_ payload: JSONValue) -> (rule: String, status: String, kind: String) {
        let alert = payload["alerts"]?[0]
        return (alert?["labels"]?["alertname"]?.stringValue ?? "?", payload["status"]?.stringValue ?? "?",
                alert?["tokenmeter"]?["notification"]?.stringValue ?? "?")
    }

    /// True when the request carries a valid signature of its body under ``secret``.
    static func signed(_ request: TestReceiver.Request) -> Bool {
        guard let signature = request.headers["x-tokenmeter-signature"],
              let timestamp = request.headers["x-tokenmeter-timestamp"].flatMap({ Int64($0) }) else { return false }
        return WebhookSignature.verify(secret: secret, signature: signature, timestamp: timestamp, body: request.body, now: Date())
    }

    /// A whole second some minutes ago: events and evaluation instants in tests sit in the past,
    /// so notifications are due at once for the real-time deliverer.
    static func pastInstant(minutesAgo: Double) -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - minutesAgo * 60).rounded(.down))
    }
}
