import Foundation
import Postgres
@testable import Store
import Testing
import TokenmeterCore

/// A large breakdown answered in two halves of its groups on two connections (one snapshot) gives
/// exactly the single statement's rows, in its order, whatever is pending or folded, over ranges
/// with weeks, 6-hour blocks, hours, minutes, raw ends and subtracted pieces; and splitting is only
/// chosen where it can be merged by concatenation.
@Suite(.serialized)
struct UsageHalvesTests {
    let server: RunningServer

    init() throws {
        // Compaction only when the test asks for it.
        server = try RunningServer { $0.compactionIntervalSeconds = 3600 }
    }

    /// Events over 2026-11-05…11-23: 12 features (and calls without one) × 5 models, 30 users; costs
    /// on most calls. Stable ids, so a re-send is recognized.
    static func events(_ range: Range<Int>) -> String {
        range.map { i -> String in
            let day = 5 + i % 19, hour = (i * 7) % 24, minute = (i * 13) % 60, second = (i * 17) % 60
            var line = #"{"request_id":"uh-\#(i)","timestamp":"2026-11-\#(pad(day))T\#(pad(hour)):\#(pad(minute)):\#(pad(second)).5Z","#
            line += #""model":"m\#(i % 5)","provider":"openai","user_id":"u\#(i % 30)","tokens_in":\#(i % 97),"tokens_out":\#(i % 13)"#
            if i % 13 != 0 { line += #","feature":"f\#(pad(i % 12))""# }
            if i % 5 != 0 { line += #","cost_usd":0.000\#(i % 7 + 1)\#(i % 3)"# }
            return line + "}"
        }.joined(separator: "\n")
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    func ingest(_ range: Range<Int>) throws {
        try server.ingestAll(Self.events(range), contentType: "application/x-ndjson")
    }

    static let queries: [(from: String, to: String, groupBy: [UsageDimension])] = [
        ("2026-11-05T00:00:00Z", "2026-11-25T00:00:00Z", [.feature, .model]),
        ("2026-11-05T07:00:00Z", "2026-11-23T07:00:00Z", [.feature, .model]),
        ("2026-11-05T07:17:23.5Z", "2026-11-23T18:42:10Z", [.model, .feature]),
        ("2026-11-06T10:00:00Z", "2026-11-24T03:00:00Z", [.userID]),
        ("2026-11-06T13:00:00Z", "2026-11-21T21:00:00Z", [.feature]),
    ]

    func query(_ q: (from: String, to: String, groupBy: [UsageDimension])) -> UsageQuery {
        UsageQuery(project: server.project, range: TimeRange(from: Timestamp.parseRFC3339(q.from)!, to: Timestamp.parseRFC3339(q.to)!),
                   interval: .none, groupBy: q.groupBy, filters: [:])
    }

    /// For every query: the single statement (a pool of one connection cannot lend a second), the
    /// reader with two connections and splitting always worth it, and the two halves run directly.
    /// Split points come from folded rows: with none (`folded` false) nothing is split.
    func expectHalvesEqualTheSingleStatement(_ note: String, folded: Bool = true) throws {
        let one = PostgresPool(connectionString: server.connectionString, size: 1)
        let two = PostgresPool(connectionString: server.connectionString, size: 2)
        defer { one.close(); two.close() }
        let splitting = PostgresUsageReader(pool: two, minimumRowsToSplit: 0)
        for q in Self.queries {
            let query = query(q)
            let single = try PostgresUsageReader(pool: one).usage(query, includeCache: true)
            #expect(single.count > 5, "\(q) \(note)")
            #expect(try splitting.usage(query, includeCache: true) == single, "\(q) \(note)")
            #expect(try splitting.usage(query, includeCache: false) == PostgresUsageReader(pool: one).usage(query, includeCache: false), "\(q) \(note)")
            // Per-user rollups have no cache-savings columns: with them a breakdown by user reads raw
            // events (parallel workers' business), so the halves are compared without them.
            let includeCache = !q.groupBy.contains(.userID)
            let split = try two.withConnection { try splitting.split(query, includeCache: includeCache, now: Date(), on: $0) }
            guard folded else { #expect(split == nil, "\(q) \(note)"); continue }
            let (dimension, point) = try #require(split, "\(q) \(note)")
            #expect(dimension == q.groupBy[0])
            let halves = try two.withConnection { first in
                try #require(try two.withConnectionIfFree { second in
                    try PostgresUsageReader.usageInHalves(query, includeCache: includeCache, splitting: dimension, at: point.value, on: first, and: second)
                })
            }
            #expect(halves == (includeCache ? single : try PostgresUsageReader(pool: one).usage(query, includeCache: false)), "\(q) \(note)")
            // Both halves hold groups: the split value lies inside the keys.
            let keys = single.map { ($0.dimensions[dimension] ?? nil) ?? "" }
            #expect(keys.contains { $0 < point.value } && keys.contains { $0 >= point.value }, "\(q): \(point) \(note)")
        }
    }

    @Test func halvesGiveTheSingleStatementsRowsPendingOrFolded() throws {
        try ingest(0..<1500)
        try expectHalvesEqualTheSingleStatement("all pending", folded: false)

        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let compactor = RollupCompactor(pool: pool)
        #expect(try compactor.compactOnce().movedRows > 0)
        try expectHalvesEqualTheSingleStatement("all folded")

        // Re-sent (1200..<1500) and new events: folded rows plus pending cells of the same buckets.
        try ingest(1200..<2400)
        try expectHalvesEqualTheSingleStatement("folded plus pending")
    }

    /// Splitting is declined where concatenating halves would not give the single answer (time
    /// buckets, a top-N, a filter on the split key), for keys with few values, and below the row
    /// threshold; with nothing folded there is no split point.
    @Test func splittingIsOnlyChosenWhereHalvesConcatenate() throws {
        try ingest(0..<600)
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let key = PostgresUsageReader.SplitKey(project: server.project.rawValue, table: "rollup_feature_model_week_folded", dimension: .feature)
        let since = Timestamp.parseRFC3339("2026-11-01T00:00:00Z")!
        #expect(try pool.withConnection { try PostgresUsageReader.splitPoint(key, since: since, on: $0) } == nil)  // nothing folded: no rows to split
        try RollupCompactor(pool: pool).compactOnce()
        let folded = try pool.withConnection { try PostgresUsageReader.splitPoint(key, since: since, on: $0) }
        let value = try #require(folded?.value)
        #expect(value > "f03" && value < "f09", "\(value)")
        #expect(folded.map { $0.rowsPerBucket > 30 && $0.rowsPerBucket <= 65 } == true, "\(String(describing: folded))")

        let reader = PostgresUsageReader(pool: pool, minimumRowsToSplit: 0)
        let base = query(Self.queries[0])
        func split(_ change: (inout UsageQuery) -> Void, reader: PostgresUsageReader = reader) throws -> UsageDimension? {
            var q = base
            change(&q)
            return try pool.withConnection { try reader.split(q, includeCache: false, now: Date(), on: $0) }?.0
        }
        #expect(try split { _ in } == .feature)
        #expect(try split { $0.interval = .day } == nil)
        #expect(try split { $0.top = (.costUSD, 5) } == nil)
        #expect(try split { $0.filters = [.feature: "f01"] } == nil)
        #expect(try split { $0.filters = [.model: "m1"] } == .feature)
        #expect(try split { $0.groupBy = [.provider, .feature] } == nil)
        #expect(try split { $0.groupBy = [.userID] } == .userID)
        // ~65 feature × model rows a bucket here: far below the default threshold.
        #expect(try split({ _ in }, reader: PostgresUsageReader(pool: pool)) == nil)
    }
}
