import App
import Foundation
import JSON
import Postgres
import Store
import Testing
import TokenmeterCore

/// Runaway traces are judged against their feature's norm (p99 steps, p95 cost of its traces in
/// the past week), not only the fixed 50-step cap: 25 steps in a feature whose traces take 3 is a
/// loop; 25 steps in a feature without enough history to judge is not (yet).
struct RunawayTraceNormTests {
    let server: RunningServer

    init() throws { server = try RunningServer(configure: AlertTest.configure) }

    /// `steps` events of one trace, one every `every` seconds from `start`.
    private func trace(_ id: String, feature: String, steps: Int, start: Date, every: TimeInterval = 2, costUSD: String = "0.001") -> [String] {
        (0..<steps).map { i in
            #"{"request_id":"\#(id)-\#(i)","trace_id":"\#(id)","feature":"\#(feature)","model":"gpt-4o-mini","provider":"openai","#
                + #""tokens_in":10,"tokens_out":5,"cost_usd":\#(costUSD),"timestamp":"\#(Timestamp.rfc3339(start.addingTimeInterval(Double(i) * every)))"}"#
        }
    }

    @Test func tracesFarAboveTheirFeaturesNormAreRunaway() throws {
        let now = AlertTest.pastInstant(minutesAgo: 1)
        // History two days back: 30 three-step traces of "short" (a norm), 5 of "sparse" (too few).
        var history: [String] = []
        for i in 0..<30 { history += trace("short-\(i)", feature: "short", steps: 3, start: now.addingTimeInterval(-2 * 86_400 + Double(i) * 60)) }
        for i in 0..<5 { history += trace("sparse-\(i)", feature: "sparse", steps: 3, start: now.addingTimeInterval(-2 * 86_400 + Double(i) * 60)) }
        try AlertTest.ingest(server.port, key: server.ingestKey, "[" + history.joined(separator: ",") + "]")
        // Now: 25 steps in each, still going (below the 50-step cap, above 20 = max(20, 3 × p99 3)).
        let live = trace("loop-short", feature: "short", steps: 25, start: now.addingTimeInterval(-120), every: 3)
            + trace("loop-sparse", feature: "sparse", steps: 25, start: now.addingTimeInterval(-120), every: 3)
        try AlertTest.ingest(server.port, key: server.ingestKey, "[" + live.joined(separator: ",") + "]")

        try AlertTest.evaluate(server.port, at: now.addingTimeInterval(45))
        let alerts = try #require(server.get("/v1/alerts?state=firing,pending").json?["alerts"]?.arrayValue)
        let runaway = alerts.filter { $0["rule"]?.stringValue == "runaway_trace" }
        #expect(runaway.map { $0["labels"]?["trace_id"]?.stringValue } == ["loop-short"], "\(alerts)")
        let summary = runaway.first?["summary"]?.stringValue ?? ""
        #expect(summary.contains("25 steps (3.00× the feature's p99)"), "\(summary)")
    }
}

/// Which traces a round judges for runaway loops: those still stepping (≥ 2 steps in the last
/// 3 minutes), with ≥ 10 steps in the last 30 minutes, read with their steps of the last 6 hours.
/// Half an hour of every trace's steps is never counted (that read 15 s a round at 20k events/s).
struct RunawayTraceCandidateTests {
    @Test func onlyTracesStillSteppingWithEnoughRecentSteps() throws {
        let server = try RunningServer(configure: AlertTest.configure)
        let now = AlertTest.pastInstant(minutesAgo: 1)
        func steps(_ trace: String, _ secondsBefore: [Double]) -> [String] {
            secondsBefore.enumerated().map { i, before in
                #"{"request_id":"\#(trace)-\#(i)","trace_id":"\#(trace)","feature":"agent","model":"gpt-4o-mini","provider":"openai","#
                    + #""tokens_in":10,"tokens_out":5,"timestamp":"\#(Timestamp.rfc3339(now.addingTimeInterval(-before)))"}"#
            }
        }
        let events =
            // 12 steps in the last 2 minutes: judged.
            steps("live", (0..<12).map { 5 + Double($0) * 10 })
            // 8 steps 2 hours ago and 10 in the last 22 minutes, 2 of them in the last 3: judged,
            // and read with all 18 steps.
            + steps("long", (0..<8).map { 7_200 + Double($0) * 30 } + (0..<10).map { 30 + Double($0) * 140 })
            // 40 steps that stopped 5 minutes ago: no longer stepping.
            + steps("stopped", (0..<40).map { 300 + Double($0) * 5 })
            // Stepping now, but only 6 steps in the last 30 minutes (20 more an hour ago).
            + steps("slow", (0..<6).map { 20 + Double($0) * 60 } + (0..<20).map { 3_600 + Double($0) * 10 })
            // One step in the last 3 minutes, 30 before it: not stepping.
            + steps("single", [60] + (0..<30).map { 400 + Double($0) * 10 })
        try AlertTest.ingest(server.port, key: server.ingestKey, "[" + events.joined(separator: ",") + "]")

        let connection = try PostgresConnection(connectionString: server.connectionString)
        defer { connection.close() }
        let traces = try AlertSignalReader().traces(project: server.project, watermark: now, on: connection)
        #expect(traces.map(\.traceID) == ["live", "long"])
        #expect(traces.map(\.steps.count) == [12, 18])
        #expect(traces.allSatisfy { $0.scope.labels["feature"] == "agent" })
    }
}
