import Foundation
import Postgres
import TokenmeterCore

/// Daily partitions of `events`: created ahead, dropped whole past the raw retention.
extension StorageMaintainer {
    /// DDL waits at most this long for its locks, then gives up until the next pass. ATTACH takes
    /// only a SHARE UPDATE EXCLUSIVE lock on `events` (ingest and queries go on); DROP takes an
    /// ACCESS EXCLUSIVE one, and while it waits behind a long query, ingest queues behind it: so
    /// drops wait briefly.
    static let attachLockTimeout = "SET LOCAL lock_timeout = '5s'"
    static let dropLockTimeout = "SET LOCAL lock_timeout = '1s'"

    /// The UTC days from yesterday to `partitionsAheadDays` after today, as `YYYY-MM-DD`.
    func daysToCover(now: Date) -> [String] {
        let today = StorageMaintainer.startOfDay(now)
        return (-1...policy.partitionsAheadDays).map { offset in
            String(Timestamp.rfc3339(today.addingTimeInterval(StorageMaintainer.days(offset))).prefix(10))
        }
    }

    /// Creates the missing partitions of `daysToCover` (each in its own short transaction).
    func ensurePartitions(now: Date, _ work: inout Work) throws {
        let existing = Set(try work.connection.query(PostgresQuery(sql: """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass
            """, binds: [])).rows.compactMap { $0["relname"] })
        for day in daysToCover(now: now) where !existing.contains("events_p" + day.replacingOccurrences(of: "-", with: "")) {
            let created = try work.connection.transaction { tx in
                try tx.execute(StorageMaintainer.attachLockTimeout)
                return try tx.query(PostgresQuery(sql: "SELECT tm_ensure_event_partition($1::date) AS created", binds: [.text(day)]))
                    .rows.first?.decode(Bool.self, column: "created") ?? false
            }
            if created { work.pass.partitionsCreated += 1 }
        }
    }

    /// The raw horizon: midnight UTC of the day `rawDays` (and an hour) ago. Ingest refuses events
    /// older than `rawDays`, so nothing past the horizon can be re-sent and counted again; the hour
    /// covers clocks of instances that disagree by minutes around midnight.
    func rawCutoff(now: Date) -> Date {
        StorageMaintainer.startOfDay(now.addingTimeInterval(-StorageMaintainer.days(policy.rawDays) - 3_600))
    }

    /// Past the raw horizon: registry ids with the texts of their events, whole partitions, rows of
    /// the default partition, and log-record texts whose span never came.
    func expireRawEvents(now: Date, _ work: inout Work) throws {
        let cutoff = rawCutoff(now: now)
        let limit = PostgresValue.int(Int64(work.batchSize))
        work.pass.idsExpired += try work.deleteInBatches(PostgresQuery(sql: """
            WITH gone AS (
                DELETE FROM event_ids WHERE ctid = ANY (ARRAY(SELECT ctid FROM event_ids WHERE ts < $1 LIMIT $2))
                RETURNING project_id, event_id
            ), texts AS (
                DELETE FROM event_texts x USING gone g WHERE x.project_id = g.project_id AND x.event_id = g.event_id
            ), spans AS (
                DELETE FROM otlp_span_texts s USING gone g WHERE s.project_id = g.project_id AND s.event_id = g.event_id
            )
            SELECT count(*) AS n FROM gone
            """, binds: [.timestamp(cutoff), limit]))
        while work.budget > 0 {
            let dropped = try work.connection.transaction { tx in
                try tx.execute(StorageMaintainer.dropLockTimeout)
                return try tx.query(PostgresQuery(sql: "SELECT tm_drop_event_partitions($1, 10) AS n", binds: [.timestamp(cutoff)]))
                    .rows.first?.decode(Int.self, column: "n") ?? 0
            }
            work.pass.partitionsDropped += dropped
            if dropped > 0 { work.budget -= 1 }
            if dropped < 10 { break }
        }
        work.pass.eventsDeleted += try work.deleteInBatches(PostgresQuery(sql: """
            WITH gone AS (
                DELETE FROM events_default WHERE ctid = ANY (ARRAY(SELECT ctid FROM events_default WHERE ts < $1 LIMIT $2)) RETURNING 1
            )
            SELECT count(*) AS n FROM gone
            """, binds: [.timestamp(cutoff), limit]))
        _ = try work.deleteInBatches(PostgresQuery(sql: StorageMaintainer.orphanLogTextsSQL(projectFilter: ""), binds: [.timestamp(cutoff), limit]))
    }

    /// Deletes up to `$2` OTLP log-record texts older than `$1` (of project `$3` when filtered), and
    /// the `event_texts` they built for spans that never arrived (no id in the registry). Texts of
    /// spans that did arrive go with their events.
    static func orphanLogTextsSQL(projectFilter: String) -> String {
        """
        WITH gone AS (
            DELETE FROM otlp_span_texts WHERE ctid = ANY (ARRAY(SELECT ctid FROM otlp_span_texts WHERE \(projectFilter)ts < $1 LIMIT $2))
            RETURNING project_id, event_id
        ), texts AS (
            DELETE FROM event_texts x USING (SELECT DISTINCT project_id, event_id FROM gone) g
            WHERE x.project_id = g.project_id AND x.event_id = g.event_id
              AND NOT EXISTS (SELECT 1 FROM event_ids d WHERE d.project_id = g.project_id AND d.event_id = g.event_id)
        )
        SELECT count(*) AS n FROM gone
        """
    }
}
