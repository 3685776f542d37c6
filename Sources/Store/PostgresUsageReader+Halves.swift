import Dispatch
import Foundation
import Postgres
import Synchronization
import TokenmeterCore

/// A large breakdown (30 days by feature and model: ~12k rollup rows summed into ~1,000 groups) in two
/// halves at once, one per core.
///
/// The halves split the *groups*, not the time range: one statement sums the groups whose first key
/// (feature, model or user) sorts below a split value, the other the rest, so each group is summed
/// whole by one statement, Postgres still formats, filters and orders every figure, and the answer is
/// the lower half's rows followed by the upper half's (the key comparison and the ORDER BY use the same
/// collation). The key leads no index, but it is the third column of every rollup key, so each half's
/// index scan skips the other half's rows without reading them from the table.
///
/// Both statements run in one snapshot (the first exports it, the second imports it), so the answer
/// is that of a single statement. The second connection is only taken when one is free right now:
/// waiting for it while holding the first could deadlock a busy pool, and a busy server has no idle
/// core to give anyway.
extension PostgresUsageReader {
    /// One half of the groups: those whose `dimension` sorts below `value` (no value, '' in rollups
    /// and NULL in raw events, included), or the others.
    struct KeyHalf: Sendable {
        var dimension: UsageDimension
        var value: String
        var lower: Bool

        /// The condition on raw events and on rollup rows, with the value bound once (a parameter that
        /// no piece uses would have no type).
        func conditions(binder: inout Binder) -> (raw: String, rollup: String) {
            let column = PostgresUsageReader.column(dimension), value = binder.bind(.text(value)), comparison = lower ? "<" : ">="
            return ("coalesce(\(column), '') \(comparison) \(value)", "\(column) \(comparison) \(value)")
        }
    }

    /// The value that splits a family's groups of a project into halves of about as many rows, and the
    /// rows one bucket of its coarsest level holds.
    struct SplitPoint: Sendable, Equatable {
        var value: String
        var rowsPerBucket: Double
    }

    struct SplitKey: Hashable, Sendable {
        var project: Int64
        var table: String
        var dimension: UsageDimension
    }

    /// The rows of `query` from two halves at once, or nil when splitting is not worth it, no second
    /// connection is free, or the server cannot share a snapshot (e.g. a replica that refuses to
    /// export one): the caller then runs the single statement.
    func usageInHalvesIfWorthIt(_ query: UsageQuery, includeCache: Bool, on connection: PostgresConnection) throws -> [UsageRow]? {
        guard let (dimension, point) = try split(query, includeCache: includeCache, now: Date(), on: connection) else { return nil }
        do {
            return try pool.withConnectionIfFree { second in
                try PostgresUsageReader.usageInHalves(query, includeCache: includeCache, splitting: dimension, at: point.value,
                                                      on: connection, and: second)
            }
        } catch PostgresError.server {
            return nil
        }
    }

    /// How to split `query`, or nil when it is not worth it or cannot be split: only breakdowns
    /// without time buckets or a top-N (whose rows would need merging), whose first key has many values.
    func split(_ query: UsageQuery, includeCache: Bool, now: Date, on connection: PostgresConnection) throws -> (UsageDimension, SplitPoint)? {
        guard query.interval == .none, query.top == nil, query.sessionID == nil, let dimension = query.groupBy.first,
              [.feature, .model, .userID].contains(dimension), query.filters[dimension] == nil,
              let source = PostgresUsageReader.pickSource(query, candidates: PostgresUsageReader.usageCandidates(includeCache: includeCache)),
              let coarsest = source.levels.last, let table = source.tables[coarsest] else { return nil }
        let segments = QueryPlan.segments(query.range, levels: source.levels, subtractive: true, now: now)
        let buckets = QueryPlan.bucketsRead(segments.filter { $0.resolution != .raw }, now: now.timeIntervalSince1970)
        let key = SplitKey(project: query.project.rawValue, table: table, dimension: dimension)
        // Recomputed every 5 minutes: a project that had nothing folded yet (no split point) may
        // have millions of rows minutes later.
        let point = try splitPoints.value(key, period: Int(now.timeIntervalSince1970 / 300)) {
            try PostgresUsageReader.splitPoint(key, since: now.addingTimeInterval(-35 * 86_400), on: connection)
        }
        guard let point, point.rowsPerBucket * buckets >= minimumRowsToSplit else { return nil }
        return (dimension, point)
    }

    /// The split point from the buckets of `key.table` since `since`: the first key value with about
    /// half of their rows below it; nil without rows, or when the half-way row has the last value
    /// (nothing would be left above).
    static func splitPoint(_ key: SplitKey, since: Date, on connection: PostgresConnection) throws -> SplitPoint? {
        let column = PostgresUsageReader.column(key.dimension)
        let rows = try connection.query(PostgresQuery(sql: """
            WITH recent AS (SELECT coalesce(\(column), '') AS value, bucket FROM \(key.table) WHERE project_id = $1 AND bucket >= $2)
            SELECT value, count(*) AS n, (SELECT count(DISTINCT bucket) FROM recent) AS buckets FROM recent GROUP BY value ORDER BY value
            """, binds: [.int(key.project), .timestamp(since)])).rows
        let counts = try rows.map { (value: try $0.decode(String.self, column: "value"), n: try $0.decode(Double.self, column: "n")) }
        let total = counts.reduce(0) { $0 + $1.n }
        guard let buckets = try rows.first?.decode(Double.self, column: "buckets"), buckets > 0 else { return nil }
        var below = 0.0
        for (index, count) in counts.enumerated() {
            below += count.n
            if below >= total / 2 {
                guard index + 1 < counts.count else { return nil }
                return SplitPoint(value: counts[index + 1].value, rowsPerBucket: total / buckets)
            }
        }
        return nil
    }

    /// Both halves at once, on `first` and on `second` (in another thread), in one snapshot.
    static func usageInHalves(_ query: UsageQuery, includeCache: Bool, splitting dimension: UsageDimension, at value: String,
                              on first: PostgresConnection, and second: PostgresConnection) throws -> [UsageRow] {
        try first.transaction { tx in
            try tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let snapshot = try tx.query(PostgresQuery(sql: "SELECT pg_export_snapshot() AS id", binds: [])).rows[0].decode(String.self, column: "id")
            // SET TRANSACTION SNAPSHOT takes no parameter; the id is Postgres's own (hex digits and dashes).
            guard !snapshot.isEmpty, snapshot.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0
                                                                || UInt8(ascii: "A")...UInt8(ascii: "F") ~= $0 }) else {
                throw PostgresError.protocolViolation("unexpected snapshot id \(snapshot.prefix(40))")
            }
            let lower = Slot<Result<[UsageRow], any Error>>()
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                lower.put(Result {
                    try second.transaction { tx in
                        try tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        try tx.execute("SET TRANSACTION SNAPSHOT '\(snapshot)'")
                        return try usageRows(query, includeCache: includeCache, half: KeyHalf(dimension: dimension, value: value, lower: true), on: tx)
                    }
                })
                done.signal()
            }
            // The exporting transaction stays open until the other one has imported the snapshot and finished.
            let upper = Result { try usageRows(query, includeCache: includeCache, half: KeyHalf(dimension: dimension, value: value, lower: false), on: tx) }
            done.wait()
            return Array((try lower.take()!.get() + upper.get()).prefix(100_000))
        }
    }
}

/// One value handed from one thread to another.
private final class Slot<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func put(_ new: Value) { value.withLock { $0 = new } }
    func take() -> Value? { value.withLock { $0.take() } }
}
