import Detection
import Foundation
import Postgres
import Store
import Synchronization
import TokenmeterCore

/// Each project's per-minute series kept between rounds, so a new minute reads only the minutes
/// since the last load instead of days of rollups (which dominated a round: 16 s for 20 scopes ×
/// 3 days in a debug build, almost all of it decoding rows). The last `refreshMinutes` are read
/// again every time, so events arriving up to that late still count; older late events are seen
/// when the history is reloaded in full (on restart, or when the watermark jumps back or ahead).
final class MinuteHistory: Sendable {
    private struct Entry {
        var end: Int
        var series: [Scope: MinuteSeries]
    }

    let refreshMinutes: Int
    private let entries = Mutex<[Int64: Entry]>([:])

    init(refreshMinutes: Int = 5) {
        self.refreshMinutes = refreshMinutes
    }

    func series(project: ProjectID, watermark: Date, reader: AlertSignalReader, on connection: PostgresConnection) throws -> [MinuteSeries] {
        let end = Minutes.of(watermark)
        let cached = entries.withLock { $0[project.rawValue] }
        var merged: [Scope: MinuteSeries] = [:]
        if let cached, cached.end <= end, end - cached.end <= 60 {
            let from = cached.end - refreshMinutes
            let start = end - reader.historyMinutes
            let fresh = try reader.minuteSeries(project: project, watermark: watermark, loadingFrom: from, on: connection)
            let since = fresh.first?.since ?? start
            let freshByScope = Dictionary(fresh.map { ($0.scope, $0) }, uniquingKeysWith: { a, _ in a })
            // Sketches older than the reader loads would pile up over days of rounds: drop them.
            let sketchStart = end - reader.sketchHistoryMinutes
            for scope in Set(cached.series.keys).union(freshByScope.keys) {
                let old = (cached.series[scope]?.buckets(endingAt: from, length: from - start) ?? []).map { bucket in
                    guard bucket.minute < sketchStart, bucket.latencySketch != nil || bucket.ttftSketch != nil else { return bucket }
                    var stripped = bucket
                    stripped.latencySketch = nil
                    stripped.ttftSketch = nil
                    return stripped
                }
                let new = freshByScope[scope]?.buckets(endingAt: end, length: end - from) ?? []
                merged[scope] = MinuteSeries(scope: scope, since: since, buckets: old + new)
            }
        } else {
            for series in try reader.minuteSeries(project: project, watermark: watermark, on: connection) {
                merged[series.scope] = series
            }
        }
        entries.withLock { $0[project.rawValue] = Entry(end: end, series: merged) }
        return merged.values.sorted { $0.scope.description < $1.scope.description }
    }
}
