import Foundation
import OTLP
import Postgres
import TokenmeterCore

/// Keeps the prompt/completion messages of OTLP log records (`otlp_span_texts`, migration 0003)
/// and rebuilds the `event_texts` row of each span they belong to, in one transaction, so the
/// texts show in `/v1/requests/{id}` whether the span was written before or after its logs.
/// `events` is partitioned by time and has no index on the event id alone: the id registry gives
/// each span's ts, so the flag update reaches its row through (project, ts, id).
public final class PostgresSpanTextStore: SpanTextStore {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    static let insertSQL = """
        INSERT INTO otlp_span_texts (project_id, event_id, record_key, ts, seq, role, body)
        SELECT $1, u.event_id::uuid, u.record_key::uuid, u.ts::timestamptz, u.seq::integer, u.role, u.body
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS u(event_id, record_key, ts, seq, role, body)
        ON CONFLICT (project_id, event_id, record_key) DO NOTHING
        """

    /// Messages of one role become a JSON array in time order; a role without messages leaves what
    /// the span itself brought (NULL never overwrites).
    static let rebuildSQL = """
        WITH built AS (
            SELECT project_id, event_id,
                   '[' || string_agg(body, ',' ORDER BY ts, seq, record_key) FILTER (WHERE role = 'prompt') || ']' AS prompt,
                   '[' || string_agg(body, ',' ORDER BY ts, seq, record_key) FILTER (WHERE role = 'response') || ']' AS response
            FROM otlp_span_texts
            WHERE project_id = $1 AND event_id = ANY ($2::uuid[])
            GROUP BY project_id, event_id
        ), texts AS (
            INSERT INTO event_texts AS x (project_id, event_id, prompt, response, truncated)
            SELECT project_id, event_id, prompt, response, false FROM built
            ON CONFLICT (project_id, event_id) DO UPDATE
            SET prompt = coalesce(EXCLUDED.prompt, x.prompt), response = coalesce(EXCLUDED.response, x.response)
        )
        UPDATE events e SET has_text = true
        FROM event_ids d
        WHERE d.project_id = $1 AND d.event_id = ANY ($2::uuid[])
          AND e.project_id = d.project_id AND e.ts = d.ts AND e.event_id = d.event_id AND NOT e.has_text
        """

    public func attach(_ texts: [SpanText], project: ProjectID) throws {
        guard !texts.isEmpty else { return }
        let eventIDs = Array(Set(texts.map { $0.eventID.uuidString }))
        try storage {
            try pool.withConnection { connection in
                try connection.transaction { tx in
                    _ = try tx.query(PostgresQuery(sql: PostgresSpanTextStore.insertSQL, binds: [
                        .int(project.rawValue),
                        .textArray(texts.map { $0.eventID.uuidString }),
                        .textArray(texts.map { $0.recordKey.uuidString }),
                        .textArray(texts.map { Timestamp.rfc3339($0.time) }),
                        .textArray(texts.map { String($0.sequence) }),
                        .textArray(texts.map { $0.role.rawValue }),
                        .textArray(texts.map(\.body)),
                    ]))
                    _ = try tx.query(PostgresQuery(sql: PostgresSpanTextStore.rebuildSQL, binds: [.int(project.rawValue), .textArray(eventIDs)]))
                }
            }
        }
    }
}
