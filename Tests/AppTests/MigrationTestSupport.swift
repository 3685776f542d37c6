import Foundation
import Postgres
import Store

/// Upgrade tests: a fresh database migrated to just before the migration under test, holding one
/// project, so a test can store what an older server left and then run every migration.
struct OlderSchema {
    let connection: PostgresConnection
    let connectionString: String
    let all: Migrator
    let project: Int64

    init(before version: Int, project name: String) throws {
        connectionString = try TestEnvironment.freshDatabase()
        connection = try PostgresConnection(connectionString: connectionString)
        all = try Migrator(directory: URL(fileURLWithPath: TestEnvironment.migrationsDirectory))
        _ = try Migrator(migrations: all.migrations.filter { $0.version < version }).migrate(connection)
        project = try connection.query(PostgresQuery(sql: "INSERT INTO projects (name) VALUES ($1) RETURNING id", binds: [.text(name)]))
            .rows[0].decode(Int64.self, column: "id")
    }

    /// Every row of `sql` (`$1` is the project) as its columns' text joined by spaces.
    func rows(_ sql: String) throws -> [String] {
        try connection.query(PostgresQuery(sql: sql, binds: [.int(project)])).rows.map { row in
            row.columns.map { row[$0] ?? "∅" }.joined(separator: " ")
        }
    }
}
