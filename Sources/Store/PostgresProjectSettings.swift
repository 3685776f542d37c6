import Postgres
import TokenmeterCore

/// `project_settings` (migration 0007): whether a project stores free text and what is redacted.
public final class PostgresProjectSettings: TextPolicyRepository, TextPolicyAdministration {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func textPolicy(project: ProjectID) throws -> TextPolicy {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: "SELECT store_text, array_to_string(redact, ',') AS redact FROM project_settings WHERE project_id = $1",
                                                                binds: [.int(project.rawValue)]))
                guard let row = result.rows.first else { return .standard }
                return TextPolicy(storeText: try row.decode(Bool.self, column: "store_text"),
                                  redactor: Redactor(kinds: PostgresProjectSettings.kinds(row["redact"] ?? "")))
            }
        }
    }

    /// Sets what is given (nil keeps the current value) for the project named `name`; returns the
    /// policy now in force, or nil when there is no such project.
    public func update(projectNamed name: String, storeText: Bool?, redact: Set<RedactionKind>?) throws -> TextPolicy? {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    INSERT INTO project_settings AS s (project_id, store_text, redact)
                    SELECT id, coalesce($2::boolean, true), coalesce($3::text[], '{card,email,iban,phone,secret}') FROM projects WHERE name = $1
                    ON CONFLICT (project_id) DO UPDATE
                    SET store_text = coalesce($2::boolean, s.store_text), redact = coalesce($3::text[], s.redact), updated_at = now()
                    RETURNING store_text, array_to_string(redact, ',') AS redact
                    """, binds: [.text(name), storeText.map { .bool($0) } ?? .null, redact.map { .textArray($0.map(\.rawValue).sorted()) } ?? .null]))
                guard let row = result.rows.first else { return nil }
                return TextPolicy(storeText: try row.decode(Bool.self, column: "store_text"),
                                  redactor: Redactor(kinds: PostgresProjectSettings.kinds(row["redact"] ?? "")))
            }
        }
    }

    static func kinds(_ list: String) -> Set<RedactionKind> {
        Set(list.split(separator: ",").compactMap { RedactionKind(rawValue: String($0)) })
    }
}
