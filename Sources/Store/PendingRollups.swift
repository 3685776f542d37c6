/// Rollup families that ingest writes as *pending* rows (one row of arrays per batch and bucket,
/// migrations 0004 and 0006; see `BatchRollup`) and the `RollupCompactor` folds into keyed tables.
/// Ingest only inserts: upserting the per-user and sketch cells (about one per event) cost as much
/// as inserting the events, and upserting the usage cells made concurrent writers fight over the
/// current minute's rows.
struct PendingRollup: Sendable {
    var pendingTable: String
    /// The bucket resolution of pending rows (and of the finest folded table).
    var pendingLevel: String
    /// Folded tables by level, finest first, each keyed by all of `keys`.
    var foldedTables: [(level: String, table: String)]
    var keys: [String]
    var aggregates: [String]
    /// Narrower families folded from the same pending rows in the same statement: each keeps a subset
    /// of `keys` (the rest summed) at hour, day and week level (migration 0010), some at minute too.
    var narrowFamilies: [NarrowFamily] = []

    struct NarrowFamily: Sendable {
        /// Tables are `<prefix>_<level>_folded`; views `<prefix>_<level>` add the pending rows.
        var prefix: String
        var keys: [String]
        var levels = ["hour", "day", "week"]
        /// Packed sketch families (migration 0013) keep one row per (bucket, keys) whose `idx` and
        /// `count` arrays hold every sketch bucket, instead of one row per sketch bucket.
        var packed: PackedSketch? = nil
    }

    /// The cell columns a packed sketch family stores as two sorted arrays (`index` ascending, no
    /// duplicates, `count` summed per index).
    struct PackedSketch: Sendable {
        var index = "idx"
        var count = "count"
    }

    /// Every folded table with the keys it is grouped by.
    var foldTargets: [(level: String, table: String, keys: [String], packed: PackedSketch?)] {
        foldedTables.map { ($0.level, $0.table, keys, nil) }
            + narrowFamilies.flatMap { family in family.levels.map { ($0, "\(family.prefix)_\($0)_folded", family.keys, family.packed) } }
    }

    var columns: [String] { keys + aggregates }

    /// One statement that moves up to `$1` pending rows (oldest first) into every folded table.
    /// Only the compactor runs it, one session at a time, so the upserts never contend.
    var foldSQL: String {
        var ctes = [
            """
            moved AS (
                DELETE FROM \(pendingTable) WHERE id IN (SELECT id FROM \(pendingTable) ORDER BY id LIMIT $1) RETURNING *
            )
            """,
            // The cells of one batch's row are distinct, but batches repeat each other's keys (a
            // busy user or sketch bucket appears in every batch): summing them once per key first
            // leaves every target a few thousand rows to group instead of ~one per event. Grouping
            // the raw cells per target took 9 of 9.5 s for 400k events' per-user and sketch cells.
            // A column added by a later migration is NULL in the rows an older instance still writes
            // during an upgrade; they count as 0 there rather than failing every fold.
            """
            base AS (
                SELECT m.project_id, m.bucket, \(keys.map { "u.\($0)" }.joined(separator: ", ")), \(aggregates.map { "coalesce(sum(u.\($0)), 0)::\(Self.type(of: $0)) AS \($0)" }.joined(separator: ", "))
                FROM moved m CROSS JOIN LATERAL unnest(\(columns.map { "m.\($0)" }.joined(separator: ", "))) AS u (\(columns.joined(separator: ", ")))
                GROUP BY \((1...(keys.count + 2)).map(String.init).joined(separator: ", "))
            )
            """,
        ]
        for (level, table, keys, packed) in foldTargets {
            let bucket = level == pendingLevel ? "bucket" : Self.bucket(level, of: "bucket")
            let keyColumns = ["project_id", "bucket"] + keys
            if let packed {
                ctes.append(Self.packedFold(table: table, bucket: bucket, keyColumns: keyColumns, packed: packed))
                continue
            }
            let positions = (1...keyColumns.count).map(String.init).joined(separator: ", ")
            ctes.append("""
                fold_\(table) AS (
                    INSERT INTO \(table) AS r (\((keyColumns + aggregates).joined(separator: ", ")))
                    SELECT project_id, \(bucket), \(keys.joined(separator: ", ")), \(aggregates.map { "sum(\($0))" }.joined(separator: ", "))
                    FROM base
                    GROUP BY \(positions) ORDER BY \(positions)
                    ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE
                    SET \(aggregates.map { "\($0) = r.\($0) + EXCLUDED.\($0)" }.joined(separator: ", "))
                )
                """)
        }
        return "WITH " + ctes.joined(separator: ",\n") + "\nSELECT count(*) AS moved FROM moved"
    }

    /// The start of the `level` bucket (`minute` … `week`, `6h`, or `2w`) holding the instant `column`, in UTC.
    /// Fortnights are pairs of ISO weeks counted from Monday 1970-01-05 (`Resolution.origin`).
    static func bucket(_ level: String, of column: String) -> String {
        switch level {
        case "6h": return "date_bin('6 hours', \(column), TIMESTAMPTZ '2000-01-01 00:00:00+00')"
        case "2w": return "date_bin('14 days', \(column), TIMESTAMPTZ '1970-01-05 00:00:00+00')"
        default: return "date_trunc('\(level)', \(column), 'UTC')"
        }
    }

    /// Days a bucket of `level` spans beyond its first, for levels longer than a day: retention keeps
    /// such a bucket until all of it is past the cutoff.
    static func extraDays(_ level: String) -> Int {
        guard let resolution = Resolution.allCases.first(where: { $0.name == level }) else { return 0 }
        return max(0, Int(resolution.seconds / 86_400) - 1)
    }

    /// The column type of an aggregate in every pending and folded table: money in picodollars is
    /// numeric, millisecond sums are double precision, counts are bigint. `sum()` of a bigint answers
    /// numeric, which is several times slower to sum again, so `base` casts back.
    static func type(of aggregate: String) -> String {
        if aggregate.hasSuffix("_pico") { return "numeric" }
        if aggregate.hasSuffix("_ms") { return "double precision" }
        return "bigint"
    }

    /// Upserts the moved cells (summed per key in `base`) into a packed sketch table: one row per bucket and key with the cells'
    /// sketch buckets as sorted arrays; an existing row's arrays are merged (`tm_sketch_add`).
    static func packedFold(table: String, bucket: String, keyColumns: [String], packed: PackedSketch) -> String {
        let positions = (1...keyColumns.count).map(String.init).joined(separator: ", ")
        let (index, count) = (packed.index, packed.count)
        let inner = (["project_id", "\(bucket) AS bucket"] + keyColumns.dropFirst(2)).joined(separator: ", ")
        return """
            fold_\(table) AS (
                INSERT INTO \(table) AS r (\((keyColumns + [index, count]).joined(separator: ", ")))
                SELECT \(keyColumns.joined(separator: ", ")), array_agg(\(index) ORDER BY \(index)), array_agg(\(count) ORDER BY \(index))
                FROM (SELECT \(inner), \(index), sum(\(count))::bigint AS \(count) FROM base GROUP BY \(positions), \(index)) AS c
                GROUP BY \(positions) ORDER BY \(positions)
                ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE
                SET (\(index), \(count)) = (SELECT m.idx, m.count FROM tm_sketch_add(r.\(index), r.\(count), EXCLUDED.\(index), EXCLUDED.\(count)) AS m)
            )
            """
    }

    /// Per-user cost attribution: cells of (minute, user, feature, model, environment), folded at hour
    /// and day, and by user alone also at minute (migration 0012): the minutes answer the ragged ends
    /// of a per-user range, which otherwise came from raw events — a "top users, last 24 h" read every
    /// raw event of the current hour.
    static let users = PendingRollup(
        pendingTable: "rollup_user_pending", pendingLevel: "minute",
        foldedTables: [("hour", "rollup_user_hour_folded"), ("day", "rollup_user_day_folded")],
        keys: ["user_id", "feature", "model", "environment"],
        aggregates: PostgresEventWriter.userAggregates.map(\.0),
        narrowFamilies: [NarrowFamily(prefix: "rollup_by_user", keys: ["user_id"], levels: ["minute", "hour", "day", "week"])])

    /// Latency and TTFT sketches at minute, hour and day: cells of (minute, group, metric, index).
    static let sketches = PendingRollup(
        pendingTable: "sketch_pending", pendingLevel: "minute",
        foldedTables: [("minute", "sketch_minute_folded"), ("hour", "sketch_hour_folded"), ("day", "sketch_day_folded")],
        keys: ["feature", "model", "provider", "environment", "metric", "idx"],
        aggregates: ["count"],
        narrowFamilies: [NarrowFamily(prefix: "sketch_by_model", keys: ["model", "metric"], levels: packedSketchLevels, packed: PackedSketch()),
                         NarrowFamily(prefix: "sketch_by_feature", keys: ["feature", "metric"], levels: packedSketchLevels, packed: PackedSketch())])

    /// The packed sketch families have minutes too (migration 0016): the ragged ends of a range by
    /// model or feature read a row per minute and group instead of the wide minute cells.
    static let packedSketchLevels = ["minute", "hour", "day", "week"]

    /// Usage at minute, hour and day: cells of (minute, feature, model, provider, environment, status, step type).
    static let usage = PendingRollup(
        pendingTable: "rollup_usage_pending", pendingLevel: "minute",
        foldedTables: [("minute", "rollup_minute_folded"), ("hour", "rollup_hour_folded"), ("day", "rollup_day_folded")],
        keys: PostgresEventWriter.rollupKeys,
        aggregates: PostgresEventWriter.rollupAggregates.map(\.0),
        narrowFamilies: [NarrowFamily(prefix: "rollup_feature_model", keys: ["feature", "model"], levels: ["hour", "6h", "day", "week", "2w"]),
                         NarrowFamily(prefix: "rollup_by_feature", keys: ["feature"]),
                         NarrowFamily(prefix: "rollup_by_model", keys: ["model"])])

    static let all = [usage, users, sketches]

    /// Folded tables kept only as long as raw events: per-user minutes hold about one row per active
    /// user and minute, as many as the raw events at low rates, which 400 days of would not be worth.
    static let keptLikeRawEvents: Set<String> = ["rollup_by_user_minute_folded"]
}
