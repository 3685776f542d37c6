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
}
