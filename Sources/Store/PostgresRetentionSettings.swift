import Postgres
import TokenmeterCore

/// Per-project raw-event retention (`project_settings.raw_retention_days`, migration 0011), applied
/// by `StorageMaintainer`. nil means the server's retention.
public final class PostgresRetentionSettings: RetentionAdministration {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func rawRetentionDays(projectNamed name: String) throws -> Int?? {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    SELECT s.raw_retention_days FROM projects p LEFT JOIN project_settings s ON s.project_id = p.id WHERE p.name = $1
                    """, binds: [.text(name)]))
                guard let row = result.rows.first else { return nil }
                return .some(try row.decode(Int?.self, column: "raw_retention_days"))
            }
        }
    }

    public func setRawRetentionDays(projectNamed name: String, days: Int?) throws -> Bool {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    INSERT INTO project_settings AS s (project_id, raw_retention_days)
                    SELECT id, $2::integer FROM projects WHERE name = $1
                    ON CONFLICT (project_id) DO UPDATE SET raw_retention_days = EXCLUDED.raw_retention_days, updated_at = now()
                    RETURNING project_id
                    """, binds: [.text(name), days.map { .int(Int64($0)) } ?? .null]))
                return !result.rows.isEmpty
            }
        }
    }
}
