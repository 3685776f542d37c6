import Foundation
import Postgres
import TokenmeterCore

/// Answers usage and latency queries by stitching rollup levels and raw events (see `QueryPlan`), so
/// every answer equals the answer from raw events, at the cost of a few rollup rows.
public final class PostgresUsageReader: UsageReader {
    let pool: PostgresPool
    /// Where each family's groups split in two halves, per project (see `PostgresUsageReader+Halves`).
    let splitPoints = PeriodCache<SplitKey, SplitPoint?>()
    /// Rollup rows from which a breakdown is worth two statements on two connections: below ~4,000 a
    /// second statement's round trips (~0.5 ms) cost more than halving the sum saves (~0.6 µs a row).
    let minimumRowsToSplit: Double

    public init(pool: PostgresPool, minimumRowsToSplit: Double = 4000) {
        self.pool = pool
        self.minimumRowsToSplit = minimumRowsToSplit
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

    /// A family of tables that hold the same aggregates at several resolutions.
    struct Source {
        /// The folded tables by level: what the compactor has folded (see `PendingRollup`).
        var tables: [Resolution: String]
        /// The cells not folded yet, at minute resolution, which every level of the family counts.
        /// A statement reads them once over the span its rollup pieces cover (`QueryPlan.rollupCoverage`)
        /// rather than through a view per piece: planning five such views cost ~6 ms per statement.
        var pending: String
        var dimensions: Set<UsageDimension>
        /// The hour, day and week tables hold packed sketches (migration 0013): one row per bucket and
        /// group with the sketch as arrays (see `packedLatencyPieces`).
        var packed = false
        var levels: [Resolution] { tables.keys.sorted() }

        /// The same family restricted to `levels`.
        func only(_ levels: Set<Resolution>) -> Source {
            var source = self
            source.tables = tables.filter { levels.contains($0.key) }
            return source
        }
    }

    static let usageRollups = Source(tables: [.minute: "rollup_minute_folded", .hour: "rollup_hour_folded", .day: "rollup_day_folded"],
                                     pending: "rollup_usage_pending_cells",
                                     dimensions: [.feature, .model, .provider, .environment, .status, .stepType])
    static let userRollups = Source(tables: [.hour: "rollup_user_hour_folded", .day: "rollup_user_day_folded"], pending: "rollup_user_pending_cells",
                                    dimensions: [.userID, .feature, .model, .environment])
    static let sketches = Source(tables: [.minute: "sketch_minute_folded", .hour: "sketch_hour_folded", .day: "sketch_day_folded"],
                                 pending: "sketch_pending_cells", dimensions: [.feature, .model, .provider, .environment])

    /// The narrow families of migration 0010: fewer keys, so ~10–100× fewer rows per bucket, and a
    /// week level. Their minute edges come from the wide minute level, which answers the same question,
    /// or from the family's own minute level: for users (whose wide family has no minutes) and for the
    /// packed sketches (migration 0016).
    static func narrow(_ prefix: String, minute: String, pending: String, dimensions: Set<UsageDimension>) -> Source {
        var tables: [Resolution: String] = [.hour: "\(prefix)_hour_folded", .day: "\(prefix)_day_folded", .week: "\(prefix)_week_folded"]
        tables[.minute] = minute
        return Source(tables: tables, pending: pending, dimensions: dimensions)
    }
    /// With 6-hour buckets (migration 0017) and fortnights (0018) too: ~1,000 rows per bucket on the
    /// benchmark data, so the edge hours and the weeks of a range dominated what it read.
    static let usageByFeatureModel: Source = {
        var source = narrow("rollup_feature_model", minute: "rollup_minute_folded", pending: "rollup_usage_pending_cells",
                            dimensions: [.feature, .model])
        source.tables[.sixHours] = "rollup_feature_model_6h_folded"
        source.tables[.fortnight] = "rollup_feature_model_2w_folded"
        return source
    }()
    /// One key, the rest summed (migration 0014): "daily cost by feature" reads 50 rows per bucket, not 1,000.
    static let usageByFeature = narrow("rollup_by_feature", minute: "rollup_minute_folded", pending: "rollup_usage_pending_cells", dimensions: [.feature])
    static let usageByModel = narrow("rollup_by_model", minute: "rollup_minute_folded", pending: "rollup_usage_pending_cells", dimensions: [.model])
    static let usageByUser = narrow("rollup_by_user", minute: "rollup_by_user_minute_folded", pending: "rollup_user_pending_cells", dimensions: [.userID])
    static func packed(_ prefix: String, dimensions: Set<UsageDimension>) -> Source {
        var source = narrow(prefix, minute: "\(prefix)_minute_folded", pending: "sketch_pending_cells", dimensions: dimensions)
        source.packed = true
        return source
    }
    static let sketchesByModel = packed("sketch_by_model", dimensions: [.model])
    static let sketchesByFeature = packed("sketch_by_feature", dimensions: [.feature])

    /// The aggregate columns every usage source provides, with their expression over raw events.
    static let baseAggregates = PostgresEventWriter.userAggregates
    static let cacheAggregates = PostgresEventWriter.rollupAggregates.filter {
        ["cache_savings_pico", "miss_calls", "miss_priced_calls", "miss_cost_pico"].contains($0.0)
    }

    /// Parameters shared by the pieces of one statement.
    struct Binder {
        var binds: [PostgresValue] = []
        /// Whether a piece reads raw events (parallel workers pay off only there).
        var readsRawEvents = false
        mutating func bind(_ value: PostgresValue) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
    }

    /// The first of `candidates` (narrowest first) holding every dimension the query groups or
    /// filters by; nil (raw events) for session queries or when none does.
    static func pickSource(_ query: UsageQuery, candidates: [Source]) -> Source? {
        if query.sessionID != nil { return nil }
        let used = Set(query.groupBy).union(query.filters.keys)
        return candidates.first { used.isSubset(of: $0.dimensions) }
    }

    /// `SELECT … FROM (piece UNION ALL piece …) GROUP BY …` over the segments of the range: one piece
    /// per segment from its folded table or raw events, and the family's pending cells once.
    /// `extraKeys` are grouped on like dimensions: a rollup column, computed by `raw` over raw events.
    /// `rawFilter` and `rollupFilter` restrict only the raw or only the rollup pieces. With
    /// `subtractive` (sums only) some pieces are subtracted (`QueryPlan.segments`): `innerColumns` then
    /// gets -1 and must negate its values, and groups whose pieces cancel out are left out by
    /// `nonEmpty`, which must be false for a group with no events. `having` filters groups.
    /// With `groupRollupPieces` false the rollup pieces hand their rows to the outer aggregate as they
    /// are (`innerColumns` then answers plain columns for them): one aggregation instead of two.
    static func stitched(_ query: UsageQuery, source: Source?, binder: inout Binder, rawFilter: String? = nil, rollupFilter: String? = nil,
                         subtractive: (nonEmpty: String, now: Date)? = nil, having: [String] = [], groupRollupPieces: Bool = true,
                         innerColumns: (_ resolution: Resolution, _ sign: Int) -> [String], outerColumns: [String],
                         extraKeys: [(name: String, raw: String)] = []) -> String {
        let project = binder.bind(.int(query.project.rawValue))
        let zone = query.interval == .none ? "" : binder.bind(.text(query.timeZone ?? "UTC"))
        let levels = source.map { QueryPlan.levels(interval: query.interval, timeZone: query.timeZone, range: query.range, available: $0.levels) } ?? []
        let segments = QueryPlan.segments(query.range, levels: levels, subtractive: subtractive != nil, now: subtractive?.now ?? Date())
        var reads = segments.map { (segment: $0, table: $0.resolution == .raw ? "events" : source!.tables[$0.resolution]!) }
        if let source { reads += QueryPlan.rollupCoverage(segments).map { ($0, source.pending) } }
        var pieces: [String] = []
        for (segment, table) in reads {
            let raw = segment.resolution == .raw
            if raw { binder.readsRawEvents = true }
            let time = raw ? "ts" : "bucket"
            var select: [String] = []
            var group: [String] = []
            if query.interval != .none {
                select.append("date_trunc('\(query.interval.rawValue)', \(time), \(zone)) AS b")
                group.append("b")
            }
            for dimension in query.groupBy {
                let name = column(dimension)
                select.append(raw || dimension == .status ? name : "NULLIF(\(name), '') AS \(name)")
                group.append(name)
            }
            select.append(contentsOf: extraKeys.map { raw ? "\($0.raw) AS \($0.name)" : $0.name })
            group.append(contentsOf: extraKeys.map(\.name))
            select.append(contentsOf: innerColumns(segment.resolution, segment.sign))
            var conditions = ["project_id = \(project)", "\(time) >= \(binder.bind(.timestamp(segment.from)))", "\(time) < \(binder.bind(.timestamp(segment.to)))"]
            for dimension in UsageDimension.allCases {
                guard let value = query.filters[dimension] else { continue }
                conditions.append("\(column(dimension)) = \(binder.bind(.text(value)))")
            }
            if let filter = raw ? rawFilter : rollupFilter { conditions.append(filter) }
            if let session = query.sessionID { conditions.append("session_id = \(binder.bind(.text(session)))") }
            var piece = "SELECT \(select.joined(separator: ", ")) FROM \(table) WHERE \(conditions.joined(separator: " AND "))"
            if !group.isEmpty, raw || groupRollupPieces { piece += " GROUP BY \(group.joined(separator: ", "))" }
            pieces.append(piece)
        }
        if pieces.isEmpty { pieces.append("SELECT * FROM (SELECT 1) AS nothing WHERE false") }
        var outerSelect: [String] = []
        var outerGroup: [String] = []
        if query.interval != .none {
            outerSelect.append("extract(epoch from b)::bigint AS bucket_epoch")
            outerGroup.append("b")
        }
        for dimension in query.groupBy {
            outerSelect.append(column(dimension))
            outerGroup.append(column(dimension))
        }
        outerSelect.append(contentsOf: extraKeys.map(\.name))
        outerGroup.append(contentsOf: extraKeys.map(\.name))
        outerSelect.append(contentsOf: outerColumns)
        var sql = "SELECT \(outerSelect.joined(separator: ", ")) FROM (\(pieces.joined(separator: " UNION ALL "))) AS s"
        if !outerGroup.isEmpty {
            sql += " GROUP BY \(outerGroup.joined(separator: ", "))"
            var conditions = having
            if let nonEmpty = subtractive?.nonEmpty, reads.contains(where: { $0.segment.sign < 0 }) { conditions.insert(nonEmpty, at: 0) }
            if !conditions.isEmpty { sql += " HAVING \(conditions.joined(separator: " AND "))" }
        }
        return sql
    }

    // MARK: - Usage

    /// Usage with the cache-savings columns (rollups of the per-user family do not carry them).
    public func usage(_ query: UsageQuery, includeCache: Bool) throws -> [UsageRow] {
        let topUsers = PostgresUsageReader.topUserSelection(query, includeCache: includeCache) != nil
        return try storage {
            try pool.withConnection { connection in
                if let rows = try usageInHalvesIfWorthIt(query, includeCache: includeCache, on: connection) { return rows }
                return try connection.transaction { tx in
                    // A top-N of users reads its candidates first; both statements must see one snapshot.
                    if topUsers { try tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY") }
                    return try PostgresUsageReader.usageRows(query, includeCache: includeCache, on: tx)
                }
            }
        }
    }

    /// `half` restricts the statement to one half of the groups (see `usageInHalves`).
    static func usageRows(_ query: UsageQuery, includeCache: Bool, half: KeyHalf? = nil, on connection: PostgresConnection) throws -> [UsageRow] {
        let users = try PostgresUsageReader.topUserCandidates(query, includeCache: includeCache, on: connection)
        let (sql, readsRawEvents) = PostgresUsageReader.usageStatement(query, includeCache: includeCache, onlyUsers: users, half: half)
        // A few thousand rollup rows, or a few users' rows: parallel workers only add their start-up and
        // the merge of their partial groups (measured 20 vs 33 ms for 30 days by feature and model, 17
        // vs 30 ms for a top-N of users).
        //
        // Rollup tables are small and read again and again, so they sit in memory, where a page read
        // out of order costs what a page read in order does. With the default `random_page_cost` (4,
        // for spinning disks) the planner scanned a whole week table rather than the index range of the
        // 30-day rows it wanted: 8.0 vs 6.1 ms (p10) for 30 days by feature and model.
        if users != nil || !readsRawEvents {
            try connection.execute("SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL random_page_cost = 1.1")
        }
        // Rollup pieces are index range scans whatever the range: a prepared statement's generic plan
        // serves them as well as a fresh one. Raw pieces are planned afresh (partitions, parallelism).
        let result = readsRawEvents ? try connection.query(sql) : try connection.queryPrepared(sql)
        // Columns by position, looked up once: by name it was a hash per cell of every row.
        let dimensionColumns = try query.groupBy.map { ($0, try result.index(ofColumn: PostgresUsageReader.column($0))) }
        let bucketColumn = query.interval == .none ? nil : try result.index(ofColumn: "bucket_epoch")
        let column = { (name: String) in try result.index(ofColumn: name) }
        let (calls, tokensIn, tokensOut, cachedTokens, cacheWriteTokens, cost, unpriced, errors, retries, fallbacks, cacheHits, providerCacheHits) =
            (try column("calls"), try column("tokens_in"), try column("tokens_out"), try column("cached_tokens"), try column("cache_write_tokens"),
             try column("cost_pico"), try column("unpriced_calls"), try column("errors"), try column("retries"), try column("fallbacks"),
             try column("cache_hits"), try column("provider_cache_hits"))
        let cacheColumns = includeCache
            ? (try column("cache_savings_pico"), try column("miss_calls"), try column("miss_priced_calls"), try column("miss_cost_pico")) : nil
        return try result.rows.map { row in
            var dimensions: [UsageDimension: String?] = [:]
            for (dimension, index) in dimensionColumns { dimensions[dimension] = row.text(at: index) }
            let bucket = try bucketColumn.map { Date(timeIntervalSince1970: Double(try row.decode(Int64.self, at: $0))) }
            var usage = UsageRow(
                bucket: bucket, dimensions: dimensions,
                calls: try row.decode(Int64.self, at: calls),
                tokensIn: try row.decode(Int64.self, at: tokensIn),
                tokensOut: try row.decode(Int64.self, at: tokensOut),
                cachedTokens: try row.decode(Int64.self, at: cachedTokens),
                cacheWriteTokens: try row.decode(Int64.self, at: cacheWriteTokens),
                costUSD: try row.decode(String.self, at: cost),
                unpricedCalls: try row.decode(Int64.self, at: unpriced),
                errors: try row.decode(Int64.self, at: errors),
                retries: try row.decode(Int64.self, at: retries),
                fallbacks: try row.decode(Int64.self, at: fallbacks),
                cacheHits: try row.decode(Int64.self, at: cacheHits),
                providerCacheHits: try row.decode(Int64.self, at: providerCacheHits))
            if let (savings, missCalls, missPricedCalls, missCost) = cacheColumns {
                usage.cacheSavingsUSD = try row.decode(String.self, at: savings)
                usage.missCalls = try row.decode(Int64.self, at: missCalls)
                usage.missPricedCalls = try row.decode(Int64.self, at: missPricedCalls)
                usage.missCostUSD = try row.decode(String.self, at: missCost)
            }
            return usage
        }
    }

    /// The conditions that are there, joined with AND; nil when none is.
    static func allOf(_ conditions: String?...) -> String? {
        let present = conditions.compactMap { $0 }
        return present.isEmpty ? nil : present.joined(separator: " AND ")
    }

    /// What a top-N ranks by, per row of any usage piece (every one is a sum of non-negative values).
    static func rankedValue(_ metric: UsageMetric) -> String {
        switch metric {
        case .costUSD: return "cost_pico"
        case .tokens: return "tokens_in + tokens_out"
        case .calls: return "calls"
        case .errors: return "errors"
        }
    }

    /// Usage families, narrowest first (the per-user ones lack the cache-savings columns).
    static func usageCandidates(includeCache: Bool) -> [Source] {
        let usage = [usageByFeature, usageByModel, usageByFeatureModel, usageRollups]
        return includeCache ? usage : usage + [usageByUser, userRollups]
    }

    /// `onlyUsers` restricts every piece to those users (the candidates of a top-N, see `topUserCandidates`).
    static func usageSQL(_ query: UsageQuery, includeCache: Bool, onlyUsers: [String]? = nil, now: Date = Date()) -> PostgresQuery {
        usageStatement(query, includeCache: includeCache, onlyUsers: onlyUsers, now: now).query
    }

    /// The statement and whether it reads raw events.
    static func usageStatement(_ query: UsageQuery, includeCache: Bool, onlyUsers: [String]? = nil, half: KeyHalf? = nil,
                               now: Date = Date()) -> (query: PostgresQuery, readsRawEvents: Bool) {
        let aggregates = baseAggregates + (includeCache ? cacheAggregates : [])
        let source = pickSource(query, candidates: usageCandidates(includeCache: includeCache))
        let money: Set<String> = ["cost_pico", "cache_savings_pico", "miss_cost_pico"]
        let outer = aggregates.map { name, _ in
            money.contains(name) ? "trim_scale(coalesce(sum(\(name)), 0) / 1000000000000)::text AS \(name)"
                                 : "coalesce(sum(\(name)), 0)::bigint AS \(name)"
        }
        var binder = Binder()
        let userFilter = onlyUsers.map { "user_id = ANY(\(binder.bind(.textArray($0))))" }
        let halfFilters = half.map { $0.conditions(binder: &binder) }
        // Events without the ranked dimension (no user, no feature) are not a contender of a top-N.
        let present = query.top == nil ? [] : query.groupBy.map { "\(column($0)) IS NOT NULL" }
        // Every event counts as a call, so a group whose subtracted pieces cancel out has none.
        // Rollup rows go to the outer sums as they are; raw pieces are summed per group first and
        // typed like the rollup columns (a bigint union member would otherwise turn every row numeric).
        var sql = stitched(query, source: source, binder: &binder, rawFilter: allOf(userFilter, halfFilters?.raw),
                           rollupFilter: allOf(userFilter, halfFilters?.rollup),
                           subtractive: (nonEmpty: "sum(calls) <> 0", now: now), having: present, groupRollupPieces: false,
                           innerColumns: { resolution, sign in
            aggregates.map { name, expression in
                let value = resolution != .raw ? name : money.contains(name) ? "(\(expression))" : "(\(expression))::bigint"
                return sign < 0 ? "-\(value) AS \(name)" : "\(value) AS \(name)"
            }
        }, outerColumns: outer)
        if let top = query.top {
            let order = "coalesce(sum(\(rankedValue(top.metric))), 0)"
            let tieBreak = query.groupBy.map(column)
            sql += " ORDER BY \(([order + " DESC"] + tieBreak).joined(separator: ", ")) LIMIT \(binder.bind(.int(Int64(top.limit))))"
        } else {
            var order: [String] = query.interval == .none ? [] : ["bucket_epoch"]
            order += query.groupBy.map { "\(column($0)) NULLS FIRST" }
            if !order.isEmpty { sql += " ORDER BY \(order.joined(separator: ", "))" }
            sql += " LIMIT 100000"
        }
        return (PostgresQuery(sql: sql, binds: binder.binds), binder.readsRawEvents)
    }
}
