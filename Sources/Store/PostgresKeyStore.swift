import Foundation
import Postgres
import TokenmeterCore

/// Projects and API keys. Keys are stored as SHA-256 hex; the key itself is returned once.
public final class PostgresKeyStore: KeyRepository, KeyAdministration {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func principal(keyHash: String) throws -> Principal? {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    SELECT k.project_id, p.name, k.kind FROM api_keys k JOIN projects p ON p.id = k.project_id
                    WHERE k.key_hash = $1 AND (k.revoked_at IS NULL OR k.revoked_at > now())
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

    // MARK: - Listing, revoking, rotating

    public typealias KeyManagementError = KeyAdministrationError

    static let recordColumns = """
        left(k.key_hash, \(KeyRecord.idLength)) AS id, p.name AS project, k.kind, k.key_prefix, k.created_at, k.revoked_at
        """

    static func record(_ row: PostgresRow) throws -> KeyRecord {
        KeyRecord(id: try row.decode(String.self, column: "id"), project: try row.decode(String.self, column: "project"),
                  kind: KeyKind(rawValue: try row.decode(String.self, column: "kind")) ?? .read,
                  prefix: try row.decode(String.self, column: "key_prefix"), createdAt: try row.decode(Date.self, column: "created_at"),
                  revokedAt: try row.decode(Date?.self, column: "revoked_at"))
    }

    /// A new key for the project (created when it does not exist), and what `listKeys` shows of it.
    public func createKey(projectNamed name: String, kind: KeyKind) throws -> (key: String, record: KeyRecord) {
        let key = try createKey(project: try ensureProject(named: name), kind: kind)
        let id = String(APIKey.hash(key).prefix(KeyRecord.idLength))
        guard let record = try listKeys(project: name).first(where: { $0.id == id }) else { throw StorageError.failed("the new key was not found") }
        return (key, record)
    }

    /// Every key, or those of one project, oldest first.
    public func listKeys(project: String? = nil) throws -> [KeyRecord] {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: """
                    SELECT \(PostgresKeyStore.recordColumns) FROM api_keys k JOIN projects p ON p.id = k.project_id
                    WHERE $1::text IS NULL OR p.name = $1
                    ORDER BY p.name, k.created_at, k.key_hash
                    """, binds: [project.map { .text($0) } ?? .null]))
                return try result.rows.map(PostgresKeyStore.record)
            }
        }
    }

    /// Revokes the key whose id starts with `id` (at least 6 characters), effective `after` from now
    /// (0: at once). A key already revoked keeps its earlier end. Returns the key as it is now.
    public func revokeKey(id: String, after grace: Duration = .zero) throws -> KeyRecord {
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        // Hex only: the id goes into a LIKE pattern, where % and _ would match other keys.
        guard id.count >= 6, id.allSatisfy(\.isHexDigit) else { throw KeyManagementError.noSuchKey(id) }
        let outcome: Result<KeyRecord, KeyManagementError> = try storage {
            try pool.withConnection { connection in
                try connection.transaction { tx in
                    let matches = try tx.query(PostgresQuery(sql: "SELECT key_hash FROM api_keys WHERE key_hash LIKE $1 || '%' FOR UPDATE",
                                                             binds: [.text(id.lowercased())])).rows
                    guard matches.count == 1, let hash = matches[0]["key_hash"] else {
                        return .failure(matches.isEmpty ? .noSuchKey(id) : .ambiguous(id, matches: matches.count))
                    }
                    let result = try tx.query(PostgresQuery(sql: """
                        WITH revoked AS (
                            UPDATE api_keys SET revoked_at = least(coalesce(revoked_at, 'infinity'), now() + make_interval(secs => $2))
                            WHERE key_hash = $1 RETURNING *
                        )
                        SELECT \(PostgresKeyStore.recordColumns) FROM revoked k JOIN projects p ON p.id = k.project_id
                        """, binds: [.text(hash), .double(seconds)]))
                    return .success(try PostgresKeyStore.record(result.rows[0]))
                }
            }
        }
        return try outcome.get()
    }

    /// A new key of `kind` for the project, and every other active key of that kind revoked
    /// `after` the grace period (so clients can switch over). Returns the new key and the revoked ones.
    public func rotateKeys(project name: String, kind: KeyKind, after grace: Duration) throws -> (key: String, revoked: [KeyRecord]) {
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        let key = APIKey.generate(kind: kind)
        let outcome: Result<[KeyRecord], KeyManagementError> = try storage {
            try pool.withConnection { connection in
                try connection.transaction { tx in
                    guard let row = try tx.query(PostgresQuery(sql: "SELECT id FROM projects WHERE name = $1", binds: [.text(name)])).rows.first else {
                        return .failure(.noSuchProject(name))
                    }
                    let project = try row.decode(Int64.self, column: "id")
                    let result = try tx.query(PostgresQuery(sql: """
                        WITH revoked AS (
                            UPDATE api_keys SET revoked_at = now() + make_interval(secs => $3)
                            WHERE project_id = $1 AND kind = $2 AND (revoked_at IS NULL OR revoked_at > now() + make_interval(secs => $3))
                            RETURNING *
                        )
                        SELECT \(PostgresKeyStore.recordColumns) FROM revoked k JOIN projects p ON p.id = k.project_id ORDER BY k.created_at
                        """, binds: [.int(project), .text(kind.rawValue), .double(seconds)]))
                    try tx.query(PostgresQuery(sql: "INSERT INTO api_keys (key_hash, project_id, kind, key_prefix) VALUES ($1, $2, $3, $4)",
                                               binds: [.text(APIKey.hash(key)), .int(project), .text(kind.rawValue), .text(String(key.prefix(14)))]))
                    return .success(try result.rows.map(PostgresKeyStore.record))
                }
            }
        }
        return (key, try outcome.get())
    }
}
