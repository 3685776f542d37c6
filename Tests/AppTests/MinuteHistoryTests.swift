@testable import App
import Detection
import Foundation
import Postgres
import Store
import Testing
import TokenmeterCore

/// The evaluator's incremental minute history equals a full reload of the rollups, including a
/// late event inside the refresh window.
struct MinuteHistoryTests {
    @Test func incrementalLoadsEqualAFullLoad() throws {
        let server = try RunningServer(configure: AlertTest.configure)
        let base = AlertTest.pastInstant(minutesAgo: 90)
        // Three calls every third minute for an hour, in two features.
        for minute in stride(from: 0, to: 60, by: 3) {
            try AlertTest.ingest(server.port, key: server.ingestKey,
                                 AlertTest.events(3, at: base.addingTimeInterval(Double(minute) * 60), costUSD: "0.01",
                                                  feature: minute % 2 == 0 ? "chat" : "search"))
        }
        let connection = try PostgresConnection(connectionString: server.connectionString)
        defer { connection.close() }
        let reader = AlertSignalReader(historyMinutes: 120)
        let history = MinuteHistory(refreshMinutes: 5)
        let first = base.addingTimeInterval(40 * 60)
        _ = try history.series(project: server.project, watermark: first, reader: reader, on: connection)

        // A late event 3 minutes before the first watermark (inside the refresh window), and new minutes.
        try AlertTest.ingest(server.port, key: server.ingestKey,
                             AlertTest.events(2, at: first.addingTimeInterval(-180), costUSD: "0.5", feature: "late"))
        let second = first.addingTimeInterval(7 * 60)
        let incremental = try history.series(project: server.project, watermark: second, reader: reader, on: connection)
        let full = try reader.minuteSeries(project: server.project, watermark: second, on: connection)

        #expect(incremental.map(\.scope) == full.map(\.scope))
        #expect(incremental.contains { $0.scope.labels["feature"] == "late" })
        let end = Minutes.of(second)
        for (a, b) in zip(incremental, full) {
            #expect(a.since == b.since)
            #expect(a.buckets(endingAt: end, length: 120) == b.buckets(endingAt: end, length: 120), "\(a.scope)")
            #expect(a.totals(endingAt: end, length: end - a.since) == b.totals(endingAt: end, length: end - b.since))
        }
        let project = try #require(incremental.first { $0.scope.labels.isEmpty })
        // Minutes 0, 3, …, 45 lie before the second watermark (minute 47), plus the 2 late calls.
        #expect(project.since == Minutes.of(base), "history starts at the first event, not its day")
        #expect(project.totals(endingAt: end, length: end - project.since)?.calls == 3 * 16 + 2)
    }

    /// The fast rules' raw minute: requests are distinct traces (or request ids outside one),
    /// errors and retries per scope (project, feature, model), only events inside the window.
    @Test func recentActivityCountsATraceAsOneRequest() throws {
        let server = try RunningServer(configure: AlertTest.configure)
        let end = AlertTest.pastInstant(minutesAgo: 10)
        func event(_ id: String, secondsBefore: Double, feature: String, trace: String? = nil, status: String = "ok",
                   retries: Int = 0, http: Int = 200) -> String {
            var fields = [#""request_id":"\#(id)""#, #""timestamp":"\#(Timestamp.rfc3339(end.addingTimeInterval(-secondsBefore)))""#,
                          #""model":"gpt-4o-mini""#, #""provider":"openai""#, #""tokens_in":10"#, #""tokens_out":5"#,
                          #""feature":"\#(feature)""#, #""status":"\#(status)""#, #""retries":\#(retries)"#, #""http_status":\#(http)"#]
            if let trace { fields.append(#""trace_id":"\#(trace)""#) }
            return "{" + fields.joined(separator: ",") + "}"
        }
        // One agent trace of 12 failed steps (2 retries each, 429), 3 healthy chat calls, and
        // an error 61 s before the end (outside the window).
        let steps = (0..<12).map { event("step-\($0)", secondsBefore: 50 - Double($0) * 4, feature: "agent", trace: "t1",
                                         status: "error", retries: 2, http: 429) }
        let chat = (0..<3).map { event("chat-\($0)", secondsBefore: 20 + Double($0), feature: "chat") }
        let old = event("old", secondsBefore: 61, feature: "chat", status: "error")
        try AlertTest.ingest(server.port, key: server.ingestKey, "[" + (steps + chat + [old]).joined(separator: ",") + "]")

        let connection = try PostgresConnection(connectionString: server.connectionString)
        defer { connection.close() }
        let samples = try AlertSignalReader().recentActivity(project: server.project, end: end, window: 60, on: connection)
        let project = try #require(samples[Scope(project: server.project)])
        #expect(project.calls == 15 && project.errors == 12)
        #expect(project.requests == 4 && project.failedRequests == 1)
        #expect(project.retries == 24 && project.retryingRequests == 1 && project.http429 == 12)
        #expect(project.start == end.addingTimeInterval(-60) && project.seconds == 60)
        let agent = try #require(samples[Scope(project: server.project, labels: ["feature": "agent"])])
        #expect(agent.calls == 12 && agent.requests == 1)
        let chatScope = try #require(samples[Scope(project: server.project, labels: ["feature": "chat"])])
        #expect(chatScope.calls == 3 && chatScope.errors == 0)
        #expect(samples[Scope(project: server.project, labels: ["model": "gpt-4o-mini"])]?.calls == 15)
        #expect(samples.count == 4)
        // By events the project erred at 80% (12 of 15); by requests, 1 of 4: no surge.
        #expect(ErrorSurge.evaluate([project], scope: Scope(project: server.project), now: end).finding == nil)
    }

    /// Latency sketches come only for the last `sketchHistoryMinutes`; older minutes keep
    /// their counts (the bulk of a 15-day load is the sketches).
    @Test func sketchesOnlyForTheRecentHistory() throws {
        let server = try RunningServer(configure: AlertTest.configure)
        let base = AlertTest.pastInstant(minutesAgo: 90)
        let body = (0..<60).map { minute in
            #"{"request_id":"r-\#(minute)","timestamp":"\#(Timestamp.rfc3339(base.addingTimeInterval(Double(minute) * 60)))","#
                + #""model":"gpt-4o-mini","provider":"openai","tokens_in":10,"tokens_out":5,"status":"ok","latency_ms":800}"#
        }.joined(separator: ",")
        try AlertTest.ingest(server.port, key: server.ingestKey, "[" + body + "]")
        let connection = try PostgresConnection(connectionString: server.connectionString)
        defer { connection.close() }
        var reader = AlertSignalReader(historyMinutes: 120)
        reader.sketchHistoryMinutes = 20
        let watermark = base.addingTimeInterval(60 * 60)
        let series = try reader.minuteSeries(project: server.project, watermark: watermark, on: connection)
        let project = try #require(series.first { $0.scope.labels.isEmpty })
        let end = Minutes.of(watermark)
        let buckets = project.buckets(endingAt: end, length: 60)
        #expect(buckets.count == 60 && buckets.allSatisfy { $0.calls == 1 })
        #expect(buckets.filter { $0.latencySketch != nil }.map(\.minute) == Array((end - 20)..<end))
    }
}
