import App
import Foundation
import Testing

/// `--rollups-at-ingest false` exists to measure what the rollups cost ingest (`bench/ingest
/// --compare-rollups`): events are stored and nothing else.
struct RollupSwitchTests {
    @Test func rollupsAtIngestIsOnByDefaultAndValidated() throws {
        #expect(try Configuration.load(arguments: [], environment: [:]).0.rollupsAtIngest)
        #expect(try !Configuration.load(arguments: ["--rollups-at-ingest", "false"], environment: [:]).0.rollupsAtIngest)
        #expect(try !Configuration.load(arguments: [], environment: ["TOKENMETER_ROLLUPS_AT_INGEST": "false"]).0.rollupsAtIngest)
        #expect {
            _ = try Configuration.load(arguments: [], environment: ["TOKENMETER_ROLLUPS_AT_INGEST": "off"])
        } throws: { String(describing: $0).contains("TOKENMETER_ROLLUPS_AT_INGEST must be true or false") }
    }

    @Test(arguments: [true, false])
    func withoutRollupsOnlyEventsAreWritten(rollups: Bool) throws {
        let server = try RunningServer { $0.rollupsAtIngest = rollups; $0.compactionIntervalSeconds = 3600 }
        let events = (0..<40).map { i in
            #"{"request_id":"s-\#(i)","timestamp":"2026-11-20T10:\#(10 + i):00Z","user_id":"u\#(i % 3)","feature":"f","model":"gpt-4o-mini","tokens_in":\#(100 + i),"latency_ms":\#(i + 1)}"#
        }
        try server.ingestAll("[" + events.joined(separator: ",") + "]")
        let total = { (sql: String) in try server.sql(sql).rows[0].decode(Int.self, column: "n") }
        #expect(try total("SELECT count(*) AS n FROM events") == 40)
        // Pending or already folded (a compaction pass runs at start-up), every family counts them or none does.
        for (family, sql) in [("usage", "SELECT coalesce(sum(calls), 0) AS n FROM rollup_minute"),
                              ("per user", "SELECT coalesce(sum(calls), 0) AS n FROM rollup_user_hour"),
                              ("sketches", "SELECT coalesce(sum(count), 0) AS n FROM sketch_minute")] {
            #expect(try total(sql) == (rollups ? 40 : 0), "\(family)")
        }
    }

    /// The compactor's work shows on /metrics: rows folded (exactly the pending rows ingest wrote)
    /// and the time spent folding.
    @Test func foldingIsCountedOnMetrics() throws {
        let server = try RunningServer { $0.compactionIntervalSeconds = 1 }
        let events = (0..<30).map { i in
            #"{"request_id":"m-\#(i)","timestamp":"2026-11-20T10:\#(10 + i):00Z","user_id":"u\#(i % 3)","feature":"f","latency_ms":\#(i + 1)}"#
        }
        let metric = { (name: String) -> Double? in
            let text = try server.client().send(method: "GET", path: "/metrics").text
            return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        let foldedBefore = try metric("tokenmeter_compaction_rows_folded_total") ?? 0
        try server.ingestAll("[" + events.joined(separator: ",") + "]")
        // One request, one transaction: a pending row per minute (30) in each of the three families.
        let deadline = Date().addingTimeInterval(30)
        var folded = try metric("tokenmeter_compaction_rows_folded_total") ?? 0
        while folded < foldedBefore + 90, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            folded = try metric("tokenmeter_compaction_rows_folded_total") ?? 0
        }
        #expect(folded == foldedBefore + 90)
        #expect(try server.sql("SELECT count(*) AS n FROM rollup_user_pending").rows[0].decode(Int.self, column: "n") == 0)
        #expect(try (metric("tokenmeter_compaction_seconds_total") ?? 0) > 0)
    }
}
