import Foundation
import Postgres

/// Applies `migrations/NNNN_name.sql` in order, each once, in its own transaction, recorded in
/// `schema_migrations`. A session advisory lock makes concurrent starts of several instances safe.
/// Refuses to run against a schema newer than the migrations this binary knows.
public struct Migrator: Sendable {
    public struct Migration: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var sql: String

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }
    }

    public enum MigrationError: Error, CustomStringConvertible {
        case directoryNotFound([String])
        case badFileName(String)
        case duplicateVersion(Int)
        case schemaNewerThanBinary(database: Int, binary: Int)

        public var description: String {
            switch self {
            case .directoryNotFound(let tried): return "migrations directory not found (tried \(tried.joined(separator: ", "))); set TOKENMETER_MIGRATIONS_DIR"
            case .badFileName(let name): return "migration file name must look like 0001_name.sql: \(name)"
            case .duplicateVersion(let v): return "two migration files share version \(v)"
            case .schemaNewerThanBinary(let db, let binary): return "the database schema is at version \(db) but this binary only knows up to \(binary); upgrade Tokenmeter"
            }
        }
    }

    /// Arbitrary but fixed: "TMMG".
    static let lockKey: Int64 = 0x544D_4D47

    public let migrations: [Migration]

    public init(migrations: [Migration]) throws {
        var seen = Set<Int>()
        for m in migrations where !seen.insert(m.version).inserted { throw MigrationError.duplicateVersion(m.version) }
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Loads every `NNNN_name.sql` of a directory.
    public init(directory: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        var loaded: [Migration] = []
        for name in names {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError.badFileName(name)
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            loaded.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        try self.init(migrations: loaded)
    }

    /// Finds the migrations directory: the explicit one, else `./migrations`, else one next to the
    /// executable or up to five levels above it (a SwiftPM build tree inside the repository).
    public static func locateDirectory(explicit: String?, executablePath: String?) throws -> URL {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        candidates.append(FileManager.default.currentDirectoryPath + "/migrations")
        if let executablePath {
            var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<6 {
                candidates.append(dir.appendingPathComponent("migrations").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        for path in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
               (try? FileManager.default.contentsOfDirectory(atPath: path))?.contains(where: { $0.hasPrefix("0001_") }) == true {
                return URL(fileURLWithPath: path)
            }
            if explicit != nil, path == explicit { break }
        }
        throw MigrationError.directoryNotFound(candidates)
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies what is missing; returns the versions applied by this call.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> [Int] {
        try connection.query(PostgresQuery(sql: "SELECT pg_advisory_lock($1)", binds: [.int(Migrator.lockKey)]))
        defer { _ = try? connection.query(PostgresQuery(sql: "SELECT pg_advisory_unlock($1)", binds: [.int(Migrator.lockKey)])) }
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = Set(try connection.query(PostgresQuery(sql: "SELECT version FROM schema_migrations", binds: []))
            .rows.map { try $0.decode(Int.self, column: "version") })
        if let newest = applied.max(), newest > latestVersion {
            throw MigrationError.schemaNewerThanBinary(database: newest, binary: latestVersion)
        }
        var done: [Int] = []
        for migration in migrations where !applied.contains(migration.version) {
            try connection.transaction { tx in
                try tx.execute(migration.sql)
                try tx.query(PostgresQuery(sql: "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                           binds: [.int(Int64(migration.version)), .text(migration.name)]))
            }
            done.append(migration.version)
        }
        return done
    }
}
