import Foundation
import Postgres
import TokenmeterCore

/// Answers usage queries from the per-minute rollup when it can answer exactly (minute-aligned range,
/// no user dimension), else from the raw events. Both paths return the same shape and the same totals.
public final class PostgresUsageReader: UsageReader {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    static func column(_ dimension: UsageDimension) -> String {
        switch dimension {
        case .feature: return "feature"
        case .userID: return "user_id"
        case .model: return "model"
        case .provider: return "provider"
        case .environment: return "environment"
        case .status: return "status"
        case .stepType: return "step_type"
        }
    }

    /// True when the rollup holds exactly what the query asks.
    static func canUseRollup(_ query: UsageQuery) -> Bool {
        let dims = query.groupBy + Array(query.filters.keys)
        guard dims.allSatisfy(\.isRolledUp) else { return false }
        func aligned(_ date: Date) -> Bool { date.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0 }
        return aligned(query.range.from) && aligned(query.range.to)
    }

    public func usage(_ query: UsageQuery) throws -> [UsageRow] {
        let sql = PostgresUsageReader.usageSQL(query, fromRollup: PostgresUsageReader.canUseRollup(query))
        return try storage {
            try pool.withConnection { connection in
                try connection.query(sql).rows.map { row in
                    var dimensions: [UsageDimension: String?] = [:]
                    for dimension in query.groupBy { dimensions[dimension] = row[PostgresUsageReader.column(dimension)] }
                    let bucket: Date? = query.interval == .none ? nil
                        : Date(timeIntervalSince1970: Double(try row.decode(Int64.self, column: "bucket_epoch")))
                    return UsageRow(
                        bucket: bucket, dimensions: dimensions,
                        calls: try row.decode(Int64.self, column: "calls"),
                        tokensIn: try row.decode(Int64.self, column: "tokens_in"),
                        tokensOut: try row.decode(Int64.self, column: "tokens_out"),
                        cachedTokens: try row.decode(Int64.self, column: "cached_tokens"),
                        cacheWriteTokens: try row.decode(Int64.self, column: "cache_write_tokens"),
                        costUSD: try row.decode(String.self, column: "cost_usd"),
                        unpricedCalls: try row.decode(Int64.self, column: "unpriced_calls"),
                        errors: try row.decode(Int64.self, column: "errors"),
                        retries: try row.decode(Int64.self, column: "retries"),
                        fallbacks: try row.decode(Int64.self, column: "fallbacks"),
                        cacheHits: try row.decode(Int64.self, column: "cache_hits"))
                }
            }
        }
    }

    /// Builds the statement. Column names come only from `UsageDimension` (a closed set); every value is a bind.
    static func usageSQL(_ query: UsageQuery, fromRollup: Bool) -> PostgresQuery {
        var binds: [PostgresValue] = [.int(query.project.rawValue), .timestamp(query.range.from), .timestamp(query.range.to)]
        let timeColumn = fromRollup ? "bucket" : "ts"
        var select: [String] = []
        var group: [String] = []
        if query.interval != .none {
            select.append("extract(epoch from date_trunc('\(query.interval.rawValue)', \(timeColumn), 'UTC'))::bigint AS bucket_epoch")
            group.append("bucket_epoch")
        }
        for dimension in query.groupBy {
            let column = column(dimension)
            select.append(fromRollup && dimension != .status ? "NULLIF(\(column), '') AS \(column)" : column)
            group.append(column)
        }
        let aggregates: [String]
        if fromRollup {
            aggregates = ["calls", "tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "unpriced_calls",
                          "errors", "retries", "fallbacks", "cache_hits"].map { "coalesce(sum(\($0)), 0)::bigint AS \($0)" }
                + ["trim_scale(coalesce(sum(cost_pico), 0) / 1000000000000)::text AS cost_usd"]
        } else {
            aggregates = [
                "count(*) AS calls", "coalesce(sum(tokens_in), 0)::bigint AS tokens_in", "coalesce(sum(tokens_out), 0)::bigint AS tokens_out",
                "coalesce(sum(cached_tokens), 0)::bigint AS cached_tokens", "coalesce(sum(cache_write_tokens), 0)::bigint AS cache_write_tokens",
                "trim_scale(coalesce(sum(cost_pico), 0)::numeric / 1000000000000)::text AS cost_usd",
                "count(*) FILTER (WHERE cost_pico IS NULL) AS unpriced_calls", "count(*) FILTER (WHERE status = 'error') AS errors",
                "coalesce(sum(retries), 0)::bigint AS retries", "count(*) FILTER (WHERE fallback_triggered) AS fallbacks",
                "count(*) FILTER (WHERE cache_hit) AS cache_hits",
            ]
        }
        select.append(contentsOf: aggregates)
        var conditions = ["project_id = $1", "\(timeColumn) >= $2", "\(timeColumn) < $3"]
        for dimension in UsageDimension.allCases {
            guard let value = query.filters[dimension] else { continue }
            binds.append(.text(value))
            conditions.append("\(column(dimension)) = $\(binds.count)")
        }
        var sql = "SELECT \(select.joined(separator: ", ")) FROM \(fromRollup ? "rollup_minute" : "events") WHERE \(conditions.joined(separator: " AND "))"
        if !group.isEmpty {
            sql += " GROUP BY \(group.joined(separator: ", ")) ORDER BY \(group.map { "\($0) NULLS FIRST" }.joined(separator: ", "))"
        }
        sql += " LIMIT 100000"
        return PostgresQuery(sql: sql, binds: binds)
    }
}
