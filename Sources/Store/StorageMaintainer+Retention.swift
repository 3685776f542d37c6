import Foundation
import Postgres
import TokenmeterCore

/// Row-by-row retention where whole partitions cannot do it: projects that keep raw events for
/// less than the server does, and rollups.
extension StorageMaintainer {
    /// Deletes the raw events (and their texts) of each project whose `raw_retention_days` is
    /// shorter than the server's, older than exactly that many days. Their ids stay in the registry
    /// until the server's horizon, so a re-send of such an event is still recognised and not counted.
    func applyProjectRetention(now: Date, _ work: inout Work) throws {
        let projects = try work.connection.query(PostgresQuery(sql: """
            SELECT project_id, raw_retention_days FROM project_settings WHERE raw_retention_days < $1 ORDER BY project_id
            """, binds: [.int(Int64(policy.rawDays))])).rows
        for row in projects {
            let project = try row.decode(Int64.self, column: "project_id")
            let days = try row.decode(Int.self, column: "raw_retention_days")
            let cutoff = now.addingTimeInterval(-StorageMaintainer.days(days))
            let binds: [PostgresValue] = [.int(project), .timestamp(cutoff), .int(Int64(work.batchSize))]
            work.pass.eventsDeleted += try work.deleteInBatches(PostgresQuery(sql: """
                WITH victims AS (
                    SELECT ts, event_id FROM events WHERE project_id = $1 AND ts < $2 LIMIT $3
                ), gone AS (
                    DELETE FROM events e USING victims v
                    WHERE e.project_id = $1 AND e.ts < $2 AND e.ts = v.ts AND e.event_id = v.event_id
                    RETURNING e.event_id
                ), texts AS (
                    DELETE FROM event_texts x USING gone g WHERE x.project_id = $1 AND x.event_id = g.event_id
                ), spans AS (
                    DELETE FROM otlp_span_texts s USING gone g WHERE s.project_id = $1 AND s.event_id = g.event_id
                )
                SELECT count(*) AS n FROM gone
                """, binds: binds))
            _ = try work.deleteInBatches(PostgresQuery(sql: StorageMaintainer.orphanLogTextsSQL(projectFilter: "project_id = $3 AND "),
                                                       binds: [.timestamp(cutoff), .int(Int64(work.batchSize)), .int(project)]))
        }
    }

    /// The folded rollup and sketch tables, the narrow families included, with their level; pending
    /// rows are folded within seconds.
    static var rollupTables: [(level: String, table: String)] {
        PendingRollup.all.flatMap { $0.foldTargets.map { ($0.level, $0.table) } }
    }

    /// Deletes rollup rows of buckets before midnight UTC `rollupDays` ago, at every level at once,
    /// so minute, hour and day rows never disagree about a day; the per-user minutes go with the raw
    /// events (their only use is the ragged ends of ranges, which raw events answered before). Per project, through the keys that
    /// lead with (project_id, bucket).
    func expireRollups(now: Date, _ work: inout Work) throws {
        let cutoff = StorageMaintainer.startOfDay(now.addingTimeInterval(-StorageMaintainer.days(policy.rollupDays)))
        let rawCutoff = StorageMaintainer.startOfDay(now.addingTimeInterval(-StorageMaintainer.days(policy.rawDays)))
        let projects = try work.connection.query(PostgresQuery(sql: "SELECT id FROM projects ORDER BY id", binds: [])).rows
        for row in projects {
            let project = try row.decode(Int64.self, column: "id")
            for (level, table) in StorageMaintainer.rollupTables {
                // A week (fortnight) row goes only once the whole week is past the cutoff (weeks start at
                // midnight, so bucket + 7 d ≤ cutoff ⇔ bucket < cutoff − 6 d); one straddling it stays whole.
                var tableCutoff = cutoff.addingTimeInterval(-StorageMaintainer.days(PendingRollup.extraDays(level)))
                if PendingRollup.keptLikeRawEvents.contains(table) { tableCutoff = rawCutoff }
                let binds: [PostgresValue] = [.int(project), .timestamp(tableCutoff), .int(Int64(work.batchSize))]
                work.pass.rollupRowsDeleted += try work.deleteInBatches(PostgresQuery(sql: """
                    WITH gone AS (
                        DELETE FROM \(table) WHERE ctid = ANY (ARRAY(SELECT ctid FROM \(table) WHERE project_id = $1 AND bucket < $2 LIMIT $3))
                        RETURNING 1
                    )
                    SELECT count(*) AS n FROM gone
                    """, binds: binds))
            }
        }
    }
}
