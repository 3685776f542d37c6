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
        /// Minutes before this one have had their sketches dropped.
        var sketchStart: Int
        var series: [Scope: MinuteSeries]
    }

    let refreshMinutes: Int
    private let entries = Mutex<[Int64: Entry]>([:])

    init(refreshMinutes: Int = 5) {
        self.refreshMinutes = refreshMinutes
    }

    func series(project: ProjectID, watermark: Date, reader: AlertSignalReader, on connection: PostgresConnection) throws -> [MinuteSeries] {
        let end = Minutes.of(watermark)
        // Taken out of the map while this round works on it, and held by one variable only:
        // updating a series in place must not copy the days it holds (a second reference to
        // its storage would force a copy on write).
        var taken = entries.withLock { $0.removeValue(forKey: project.rawValue) }
        let sketchStart = end - reader.sketchHistoryMinutes
        var entry: Entry
        if var cached = taken, cached.end <= end, end - cached.end <= 60 {
            taken = nil
            let from = cached.end - refreshMinutes
            let fresh = try reader.minuteSeries(project: project, watermark: watermark, loadingFrom: from, on: connection)
            let since = fresh.first?.since ?? end - reader.historyMinutes
            let freshByScope = Dictionary(fresh.map { ($0.scope, $0) }, uniquingKeysWith: { a, _ in a })
            for scope in Set(cached.series.keys).union(freshByScope.keys) {
                let new = freshByScope[scope]?.buckets(endingAt: end, length: end - from) ?? []
                cached.series[scope, default: MinuteSeries(scope: scope, since: since, buckets: [])]
                    .advance(since: since, replacingFrom: from, with: new)
                // Sketches older than the reader loads would pile up over days of rounds.
                cached.series[scope]?.dropSketches(from: cached.sketchStart, to: sketchStart)
            }
            cached.end = end
            cached.sketchStart = max(cached.sketchStart, sketchStart)
            entry = cached
        } else {
            var loaded: [Scope: MinuteSeries] = [:]
            for series in try reader.minuteSeries(project: project, watermark: watermark, on: connection) {
                loaded[series.scope] = series
            }
            entry = Entry(end: end, sketchStart: sketchStart, series: loaded)
        }
        let result = entry.series.values.sorted { $0.scope.description < $1.scope.description }
        entries.withLock { $0[project.rawValue] = entry }
        return result
    }
}
