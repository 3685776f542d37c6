import Foundation
import Postgres
import TokenmeterCore

/// Exact top-N users without summing every user over the whole range.
///
/// A 30-day top 10 of users otherwise sums ~10k users in each of ~15 week, day and hour pieces. Every
/// ranked metric (cost, tokens, calls, errors) is a sum of non-negative values (ingest and the price
/// book refuse negative amounts), which gives a cheap, exact pre-selection:
///
/// 1. Seeds: the N users ranked highest in each folded ISO week *inside* the range (an index scan of
///    N rows per week, migration 0013). Their totals over those weeks are lower bounds of their exact
///    totals, so the N-th largest of them, T, is at most the N-th largest exact total.
/// 2. A user of the true top N has an exact total ≥ T, so its total over the W folded weeks
///    *touching* the range plus its pending (not yet folded) cells there is ≥ T too: W + 1
///    non-negative parts, so one of them is ≥ T / (W + 1). The candidates are the users with a folded
///    week ≥ T / (W + 1) (an index range scan per week) or pending cells summing to that much.
/// 3. The exact query then ranks only the candidates. Every user of the true top N is among them, and
///    ranking a superset keeps its order (ties included: total descending, then user id).
///
/// When T is 0 (fewer than N users with anything in the inner weeks) or the candidates are many, the
/// exact query ranks every user, as it would without this step.
extension PostgresUsageReader {
    /// Candidates are worth it only when they are few; otherwise the plain query is as cheap.
    static let maximumTopCandidates = 2000

    /// The value a week row is ranked by and the SQL type of that value (the type of the ranked index).
    static func rankedWeekValue(_ metric: UsageMetric) -> (expression: String, type: String) {
        switch metric {
        case .costUSD: return ("cost_pico", "numeric")
        case .tokens: return ("(tokens_in + tokens_out)", "bigint")
        case .calls: return ("calls", "bigint")
        case .errors: return ("errors", "bigint")
        }
    }

    /// The two statements of the pre-selection: `threshold` answers T (column `low`, numeric) from
    /// the seeds; `candidates(T)` lists the candidates (column `user_id`). T goes to the second one
    /// as a parameter, so Postgres plans the week scans knowing how selective it is (an index range
    /// scan per week, not a scan of every user's week).
    struct TopUserSelection {
        var threshold: PostgresQuery
        var candidates: (_ threshold: String) -> PostgresQuery
    }

    /// The pre-selection of a top-N of users, or nil when the query is not a top-N of users answered
    /// by the per-user family, or its range holds no whole week.
    static func topUserSelection(_ query: UsageQuery, includeCache: Bool) -> TopUserSelection? {
        guard let top = query.top, query.groupBy == [.userID], query.interval == .none, query.sessionID == nil,
              let source = pickSource(query, candidates: usageCandidates(includeCache: includeCache)),
              source.tables[.week] != nil else { return nil }
        let size = Double(Resolution.week.seconds), origin = Double(Resolution.week.origin)
        let from = (query.range.from.timeIntervalSince1970 - origin) / size, to = (query.range.to.timeIntervalSince1970 - origin) / size
        let inner = (Int64(from.rounded(.up)), Int64(to.rounded(.down)))
        let cover = (Int64(from.rounded(.down)), Int64(to.rounded(.up)))
        guard inner.0 < inner.1 else { return nil }
        // Weeks a...b-1 as RFC 3339 instants (Monday 00:00 UTC).
        let weeks = { (a: Int64, b: Int64) in (a..<b).map { Timestamp.rfc3339(Date(timeIntervalSince1970: Double($0) * size + origin)) } }
        let (value, type) = rankedWeekValue(top.metric)
        let table = "rollup_by_user_week_folded"
        let filters = { (binder: inout Binder) -> String in
            var conditions = ["user_id <> ''"]
            for dimension in UsageDimension.allCases {
                guard let wanted = query.filters[dimension] else { continue }
                conditions.append("\(column(dimension)) = \(binder.bind(.text(wanted)))")
            }
            return conditions.joined(separator: " AND ")
        }

        var seeds = Binder()
        let project = seeds.bind(.int(query.project.rawValue))
        let seedFilter = filters(&seeds)
        let limit = seeds.bind(.int(Int64(top.limit)))
        let innerWeeks = seeds.bind(.textArray(weeks(inner.0, inner.1)))
        let threshold = PostgresQuery(sql: """
            WITH seeds AS (
                SELECT DISTINCT s.user_id FROM unnest(\(innerWeeks)::timestamptz[]) AS w (bucket)
                CROSS JOIN LATERAL (
                    SELECT user_id FROM \(table) WHERE project_id = \(project) AND bucket = w.bucket AND \(seedFilter) ORDER BY \(value) DESC LIMIT \(limit)
                ) AS s
            ), lows AS (
                SELECT sum(\(value)) AS low FROM \(table)
                WHERE project_id = \(project) AND bucket = ANY(\(innerWeeks)::timestamptz[]) AND user_id IN (SELECT user_id FROM seeds)
                GROUP BY user_id
            )
            SELECT coalesce((SELECT low FROM lows ORDER BY low DESC LIMIT 1 OFFSET \(limit) - 1), 0)::numeric AS low
            """, binds: seeds.binds)

        let coverWeeks = weeks(cover.0, cover.1)
        let candidates = { (low: String) -> PostgresQuery in
            var binder = Binder()
            let project = binder.bind(.int(query.project.rawValue))
            let filter = filters(&binder)
            let low = binder.bind(.text(low))
            let parts = binder.bind(.int(Int64(coverWeeks.count + 1)))
            // A share at or below T / (W + 1) (for numeric, one below the rounded quotient), so that
            // no rounding drops a candidate.
            let share = type == "bigint" ? "floor(\(low)::numeric / \(parts))::bigint" : "(\(low)::numeric / \(parts) - 1)"
            let sql = """
                SELECT f.user_id FROM unnest(\(binder.bind(.textArray(coverWeeks)))::timestamptz[]) AS w (bucket)
                CROSS JOIN LATERAL (
                    SELECT user_id FROM \(table)
                    WHERE project_id = \(project) AND bucket = w.bucket AND \(filter) AND \(value) >= \(share)::\(type)
                ) AS f
                UNION
                SELECT user_id FROM rollup_user_pending_cells
                WHERE project_id = \(project) AND bucket >= \(binder.bind(.timestamp(Date(timeIntervalSince1970: Double(cover.0) * size + origin))))
                  AND bucket < \(binder.bind(.timestamp(Date(timeIntervalSince1970: Double(cover.1) * size + origin)))) AND \(filter)
                GROUP BY user_id HAVING sum(\(value)) * \(parts) >= \(low)::numeric
                LIMIT \(binder.bind(.int(Int64(maximumTopCandidates + 1))))
                """
            return PostgresQuery(sql: sql, binds: binder.binds)
        }
        return TopUserSelection(threshold: threshold, candidates: candidates)
    }

    /// The candidates of a top-N of users, or nil to rank every user (T is 0, or the candidates are many).
    static func topUserCandidates(_ query: UsageQuery, includeCache: Bool, on connection: PostgresConnection) throws -> [String]? {
        guard let selection = topUserSelection(query, includeCache: includeCache),
              let low = try connection.query(selection.threshold).rows.first?.decode(String.self, column: "low"),
              let value = Decimal(string: low), value > 0 else { return nil }
        let users = try connection.query(selection.candidates(low)).rows.map { try $0.decode(String.self, column: "user_id") }
        return users.count > maximumTopCandidates ? nil : users
    }
}
