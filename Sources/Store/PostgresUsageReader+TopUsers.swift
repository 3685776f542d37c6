import Foundation
import Postgres
import TokenmeterCore

/// Exact top-N users without summing every user over the whole range.
///
/// A 30-day top 10 of users otherwise sums ~10k users in each of ~15 week, day and hour pieces. Every
/// ranked metric (cost, tokens, calls, errors) is a sum of non-negative values (ingest and the price
/// book refuse negative amounts), so a user's total over the ISO weeks *inside* the range is a lower
/// bound of its exact total, and its total over the weeks *touching* the range an upper bound. Only
/// users whose upper bound reaches the N-th largest lower bound can be in the top N; the exact query
/// then runs for those few. Ties keep the exact query's order: every user of the true top N has an
/// upper bound ≥ its exact total ≥ the N-th exact total ≥ the N-th lower bound.
extension PostgresUsageReader {
    /// Candidates are worth it only when they are few; otherwise the plain query is as cheap.
    static let maximumTopCandidates = 2000

    /// The statement listing the candidates (column `user_id`), or nil when the query is not a top-N
    /// of users answered by the per-user family, or its range holds no whole week.
    static func topUserCandidatesSQL(_ query: UsageQuery, includeCache: Bool) -> PostgresQuery? {
        guard let top = query.top, query.groupBy == [.userID], query.interval == .none, query.sessionID == nil,
              let source = pickSource(query, candidates: usageCandidates(includeCache: includeCache)),
              let weeks = source.tables[.week] else { return nil }
        let size = Double(Resolution.week.seconds), origin = Double(Resolution.week.origin)
        let from = (query.range.from.timeIntervalSince1970 - origin) / size, to = (query.range.to.timeIntervalSince1970 - origin) / size
        let inner = (from.rounded(.up) * size + origin, to.rounded(.down) * size + origin)
        let cover = (from.rounded(.down) * size + origin, to.rounded(.up) * size + origin)
        guard inner.0 < inner.1 else { return nil }
        let value = rankedValue(top.metric)
        var binder = Binder()
        let timestamp = { (seconds: Double) in PostgresValue.timestamp(Date(timeIntervalSince1970: seconds)) }
        var conditions = ["project_id = \(binder.bind(.int(query.project.rawValue)))", "bucket >= \(binder.bind(timestamp(cover.0)))",
                          "bucket < \(binder.bind(timestamp(cover.1)))", "user_id <> ''"]
        for dimension in UsageDimension.allCases {
            guard let wanted = query.filters[dimension] else { continue }
            conditions.append("\(column(dimension)) = \(binder.bind(.text(wanted)))")
        }
        let innerFrom = binder.bind(timestamp(inner.0)), innerTo = binder.bind(timestamp(inner.1))
        let sql = """
            WITH bounds AS (
                SELECT user_id, coalesce(sum(\(value)) FILTER (WHERE bucket >= \(innerFrom) AND bucket < \(innerTo)), 0) AS low, sum(\(value)) AS high
                FROM \(weeks) WHERE \(conditions.joined(separator: " AND ")) GROUP BY user_id
            ), threshold AS (
                SELECT coalesce((SELECT low FROM bounds ORDER BY low DESC LIMIT 1 OFFSET \(binder.bind(.int(Int64(top.limit - 1))))), 0) AS low
            )
            SELECT user_id FROM bounds, threshold WHERE bounds.high >= threshold.low
            LIMIT \(binder.bind(.int(Int64(maximumTopCandidates + 1))))
            """
        return PostgresQuery(sql: sql, binds: binder.binds)
    }

    /// The candidates of a top-N of users, or nil to rank every user.
    static func topUserCandidates(_ query: UsageQuery, includeCache: Bool, on connection: PostgresConnection) throws -> [String]? {
        guard let sql = topUserCandidatesSQL(query, includeCache: includeCache) else { return nil }
        let users = try connection.query(sql).rows.map { try $0.decode(String.self, column: "user_id") }
        return users.count > maximumTopCandidates ? nil : users
    }
}
