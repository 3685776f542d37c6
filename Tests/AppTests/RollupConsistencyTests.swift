import App
import Foundation
import JSON
import Synchronization
import Testing
import TokenmeterCore

/// The rollups and sketches hold exactly what the raw events hold, however events are re-sent and
/// however many writers (and server instances) fold them in at once.
@Suite(.serialized)
struct RollupConsistencyTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    /// Calls spread over three days with every rolled-up dimension varying.
    static func events(_ count: Int, prefix: String) -> [String] {
        let models = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "in-house"]
        let start = Timestamp.parseRFC3339("2026-10-20T00:00:00Z")!
        return (0..<count).map { i in
            let ts = Timestamp.rfc3339(start.addingTimeInterval(Double(i * 7919 % (3 * 86_400))))
            var fields = [#""request_id":"\#(prefix)\#(i)""#, #""timestamp":"\#(ts)""#, #""feature":"f\#(i % 5)""#, #""model":"\#(models[i % 4])""#,
                          #""user_id":"u\#(i % 11)""#, #""environment":"\#(i % 2 == 0 ? "prod" : "dev")""#, #""tokens_in":\#(100 + i)"#,
                          #""cached_tokens":\#(i % 3 == 0 ? 50 : 0)"#, #""tokens_out":\#(i % 17)"#, #""latency_ms":\#(1 + i % 997)"#,
                          #""retries":\#(i % 4 == 0 ? 1 : 0)"#]
            if i % 6 == 0 { fields.append(#""status":"error""#) }
            if i % 5 == 0 { fields.append(#""ttft_ms":\#(0.5 + Double(i % 31))"#) }
            if i % 9 == 0 { fields.append(#""cache_hit":true"#) }
            if i % 13 == 0 { fields.append(#""step_type":"tool_call""#) }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    @Test func resentEventsNeverDoubleCountInAnyRollup() throws {
        let events = Self.events(300, prefix: "dup-")
        try server.ingestAll("[" + events.joined(separator: ",") + "]")
        let before = try server.rows("/v1/usage?from=2026-10-20T00:00:00Z&to=2026-10-23T00:00:00Z&group_by=feature,model")
        // Again, in small batches, reversed, as NDJSON, and with duplicates inside one body.
        for chunk in stride(from: 0, to: 300, by: 40) { try server.ingestAll("[" + events[chunk..<min(300, chunk + 40)].joined(separator: ",") + "]") }
        let ndjson = try server.ingest(events.reversed().joined(separator: "\n"), contentType: "application/x-ndjson")
        #expect(ndjson.status == 200)
        try server.ingestAll("[" + (events[0..<50] + events[0..<50]).joined(separator: ",") + "]")

        #expect(try server.sqlValue("SELECT count(*) FROM events") == "300")
        let mismatches = try server.rollupMismatches()
        #expect(mismatches.count == 8 + 22)  // the wide tables and the narrow families of migrations 0010, 0014, 0016, 0017 and 0018
        #expect(mismatches.values.allSatisfy { $0 == 0 }, "\(mismatches)")
        #expect(try server.rows("/v1/usage?from=2026-10-20T00:00:00Z&to=2026-10-23T00:00:00Z&group_by=feature,model") == before)
        #expect(try server.sqlValue("SELECT sum(calls) FROM rollup_day") == "300")
        #expect(try server.sqlValue("SELECT sum(calls) FROM rollup_user_hour") == "300")
    }

    @Test func concurrentWritersOnTwoInstancesStayExact() throws {
        // A second Tokenmeter instance on the same database.
        var configuration = Configuration()
        configuration.port = 0
        configuration.logLevel = .error
        configuration.rawRetentionDays = 3650
        configuration.rollupRetentionDays = 3650
        let second = Server(configuration: configuration, connectionString: server.connectionString,
                            logger: Logger(label: "second", minimumLevel: .error), priceBook: try PriceBook.shipped())
        try second.start()
        defer { second.shutdown() }

        // Six clients, three per instance, each sending all 600 events (overlapping everyone else's)
        // in its own order and batch size.
        let events = Self.events(600, prefix: "conc-")
        let failures = Mutex<[String]>([])
        let ports = [server.port, second.port]
        let key = server.ingestKey
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            let order = events.shuffled()
            let batch = 20 + worker * 15
            let client = HTTPClient(port: ports[worker % 2])
            for start in stride(from: 0, to: order.count, by: batch) {
                let body = "[" + order[start..<min(order.count, start + batch)].joined(separator: ",") + "]"
                do {
                    let response = try client.send(method: "POST", path: "/v1/events",
                                                   headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                                                   body: Array(body.utf8))
                    if response.status != 200 { failures.withLock { $0.append("\(response.status) \(response.text)") } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(try server.sqlValue("SELECT count(*) FROM events") == "600")
        let mismatches = try server.rollupMismatches()
        #expect(mismatches.values.allSatisfy { $0 == 0 }, "\(mismatches)")
        let total = try server.rows("/v1/usage?from=2026-10-20T00:00:00Z&to=2026-10-23T00:00:00Z").first
        #expect(total?.int("calls") == 600)
        #expect(total?.int("tokens_in") == Int64((0..<600).reduce(0) { $0 + 100 + $1 }))
    }
}
