/// Rollup families that ingest writes as *pending* rows (one row of arrays per batch and bucket,
/// migration 0004; see `BatchRollup`) and the `RollupCompactor` folds into keyed tables: the
/// per-user rollups and the latency sketches. They have about one cell per event (a user, a sketch
/// index), so upserting them inside every ingest transaction cost as much as inserting the events.
struct PendingRollup: Sendable {
    var pendingTable: String
    /// The bucket resolution of pending rows (and of the finest folded table).
    var pendingLevel: String
    /// Folded tables by level, finest first.
    var foldedTables: [(level: String, table: String)]
    var keys: [String]
    var aggregates: [String]

    var columns: [String] { keys + aggregates }

    /// One statement that moves up to `$1` pending rows (oldest first) into every folded table.
    /// Only the compactor runs it, one session at a time, so the upserts never contend.
    var foldSQL: String {
        let keyColumns = ["project_id", "bucket"] + keys
        let positions = (1...keyColumns.count).map(String.init).joined(separator: ", ")
        var ctes = [
            """
            moved AS (
                DELETE FROM \(pendingTable) WHERE id IN (SELECT id FROM \(pendingTable) ORDER BY id LIMIT $1) RETURNING *
            )
            """,
            """
            cells AS (
                SELECT m.project_id, m.bucket, \(columns.map { "u.\($0)" }.joined(separator: ", "))
                FROM moved m CROSS JOIN LATERAL unnest(\(columns.map { "m.\($0)" }.joined(separator: ", "))) AS u (\(columns.joined(separator: ", ")))
            )
            """,
        ]
        for (level, table) in foldedTables {
            let bucket = level == pendingLevel ? "bucket" : "date_trunc('\(level)', bucket, 'UTC')"
            ctes.append("""
                folded_\(level) AS (
                    INSERT INTO \(table) AS r (\((keyColumns + aggregates).joined(separator: ", ")))
                    SELECT project_id, \(bucket), \(keys.joined(separator: ", ")), \(aggregates.map { "sum(\($0))" }.joined(separator: ", "))
                    FROM cells
                    GROUP BY \(positions) ORDER BY \(positions)
                    ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE
                    SET \(aggregates.map { "\($0) = r.\($0) + EXCLUDED.\($0)" }.joined(separator: ", "))
                )
                """)
        }
        return "WITH " + ctes.joined(separator: ",\n") + "\nSELECT count(*) AS moved FROM moved"
    }

    /// Per-user cost attribution at hour and day: cells of (hour, user, feature, model, environment).
    static let users = PendingRollup(
        pendingTable: "rollup_user_pending", pendingLevel: "hour",
        foldedTables: [("hour", "rollup_user_hour_folded"), ("day", "rollup_user_day_folded")],
        keys: ["user_id", "feature", "model", "environment"],
        aggregates: PostgresEventWriter.userAggregates.map(\.0))

    /// Latency and TTFT sketches at minute, hour and day: cells of (minute, group, metric, index).
    static let sketches = PendingRollup(
        pendingTable: "sketch_pending", pendingLevel: "minute",
        foldedTables: [("minute", "sketch_minute_folded"), ("hour", "sketch_hour_folded"), ("day", "sketch_day_folded")],
        keys: ["feature", "model", "provider", "environment", "metric", "idx"],
        aggregates: ["count"])

    static let all = [users, sketches]
}
