import Foundation
import Postgres
import TokenmeterCore

/// Projects and API keys. Keys are stored as SHA-256 hex; the key itself is returned once.
public final class PostgresKeyStore: KeyRepository {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func principal(keyHash: String) throws -> Principal? {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    SELECT k.project_id, p.name, k.kind FROM api_keys k JOIN projects p ON p.id = k.project_id
                    WHERE k.key_hash = $1 AND k.revoked_at IS NULL
                    """, binds: [.text(keyHash)]))
                guard let row = result.rows.first, let kind = KeyKind(rawValue: try row.decode(String.self, column: "kind")) else { return nil }
                return Principal(project: ProjectID(try row.decode(Int64.self, column: "project_id")),
                                 projectName: try row.decode(String.self, column: "name"), kind: kind)
            }
        }
    }

    /// The project's id, creating the project when it does not exist yet.
    public func ensureProject(named name: String) throws -> ProjectID {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    INSERT INTO projects (name) VALUES ($1)
                    ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
                    RETURNING id
                    """, binds: [.text(name)]))
                return ProjectID(try result.rows[0].decode(Int64.self, column: "id"))
            }
        }
    }

    /// Creates the project only if it does not exist; nil when it already did (another instance may have won).
    public func createProjectIfAbsent(named name: String) throws -> ProjectID? {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: "INSERT INTO projects (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id",
                                                                binds: [.text(name)]))
                return try result.rows.first.map { ProjectID(try $0.decode(Int64.self, column: "id")) }
            }
        }
    }

    public func projectCount() throws -> Int {
        try storage {
            try pool.withConnection { connection in
                try connection.query(PostgresQuery(sql: "SELECT count(*) AS n FROM projects", binds: [])).rows[0].decode(Int.self, column: "n")
            }
        }
    }

    public func projectExists(named name: String) throws -> Bool {
        try storage {
            try pool.withConnection { connection in
                !(try connection.query(PostgresQuery(sql: "SELECT 1 FROM projects WHERE name = $1", binds: [.text(name)])).rows.isEmpty)
            }
        }
    }

    /// Creates a key for the project and returns it; only its hash is kept.
    public func createKey(project: ProjectID, kind: KeyKind) throws -> String {
        let key = APIKey.generate(kind: kind)
        try storage {
            try pool.withConnection { connection in
                try connection.query(PostgresQuery(sql: "INSERT INTO api_keys (key_hash, project_id, kind, key_prefix) VALUES ($1, $2, $3, $4)",
                                                   binds: [.text(APIKey.hash(key)), .int(project.rawValue), .text(kind.rawValue), .text(String(key.prefix(14)))]))
            }
        }
        return key
    }
}
