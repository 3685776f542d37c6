import Detection
import Foundation
import Postgres
import TokenmeterCore

/// A notification given up on, as the API shows it: no URL (it may carry a token), no body.
/// The type lives with the API's port (Detection) so the API needs no database module.
public typealias DeadLetter = DeadLetterRecord

/// Queue figures for `/metrics` gauges and the API.
public struct OutboxBacklog: Sendable, Hashable {
    /// Neither delivered nor dead.
    public var pending: Int
    public var dead: Int
    /// The oldest pending row's creation time (how far behind delivery is); nil when none.
    public var oldestPending: Date?
}

extension AlertOutbox {
    /// A project's dead letters, newest first.
    public static func deadLetters(project: ProjectID, limit: Int = 100, on connection: PostgresConnection) throws -> [DeadLetter] {
        try connection.query("""
            SELECT id::text, fingerprint, kind, destination, attempts, last_status, last_error, created_at, dead_at
            FROM alert_outbox WHERE project_id = \(project.rawValue) AND dead_at IS NOT NULL
            ORDER BY dead_at DESC, id LIMIT \(limit)
            """).rows.map { row in
            DeadLetter(id: try row.decode(column: "id"), fingerprint: try row.decode(column: "fingerprint"),
                       kind: try row.decode(column: "kind"), destination: try row.decode(column: "destination"),
                       attempts: try row.decode(column: "attempts"), lastStatus: try row.decode(column: "last_status"),
                       lastError: try row.decode(column: "last_error"), createdAt: try row.decode(column: "created_at"),
                       deadAt: try row.decode(column: "dead_at"))
        }
    }

    /// Puts a dead letter back in the queue (after the receiver was fixed), due at `now`, with a
    /// fresh attempt budget and age. Same id, so a receiver that did see it can still dedupe.
    /// Returns false when the project has no such dead letter.
    @discardableResult
    public static func redeliver(id: String, project: ProjectID, now: Date, on connection: PostgresConnection) throws -> Bool {
        try connection.query("""
            UPDATE alert_outbox SET dead_at = NULL, attempts = 0, next_attempt_at = \(now), created_at = \(now), claim_token = NULL
            WHERE id = \(id)::uuid AND project_id = \(project.rawValue) AND dead_at IS NOT NULL
            """).affectedRows == 1
    }

    /// Pending and dead rows over all projects.
    public static func backlog(on connection: PostgresConnection) throws -> OutboxBacklog {
        let row = try connection.query("""
            SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS pending,
                   count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
                   min(created_at) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS oldest
            FROM alert_outbox
            """).rows[0]
        return OutboxBacklog(pending: try row.decode(column: "pending"), dead: try row.decode(column: "dead"),
                             oldestPending: try row.decode(column: "oldest"))
    }
}
