import Foundation
import Postgres
import Store
import Synchronization
import Testing

/// Migrations: applied once, safe when several instances start at once, and refused against a newer schema.
struct MigrationTests {
    @Test func appliesOnceAndConcurrentlySafe() throws {
        let connectionString = try TestEnvironment.freshDatabase()
        let migrator = try Migrator(directory: URL(fileURLWithPath: TestEnvironment.migrationsDirectory))
        let results = Mutex<[Result<[Int], any Error>]>([])
        let threads = (0..<4).map { _ in
            Thread {
                let outcome = Result { () throws -> [Int] in
                    let connection = try PostgresConnection(connectionString: connectionString)
                    defer { connection.close() }
                    return try migrator.migrate(connection)
                }
                results.withLock { $0.append(outcome) }
            }
        }
        threads.forEach { $0.start() }
        while results.withLock({ $0.count }) < 4 { Thread.sleep(forTimeInterval: 0.02) }
        let applied = try results.withLock { try $0.map { try $0.get() } }
        // Exactly one instance applied everything; the others found nothing to do.
        #expect(applied.filter { !$0.isEmpty }.count == 1)
        #expect(applied.flatMap { $0 } == migrator.migrations.map(\.version))
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        let count = try connection.query(PostgresQuery(sql: "SELECT count(*) AS n FROM schema_migrations", binds: []))
        #expect(try count.rows[0].decode(Int.self, column: "n") == migrator.migrations.count)
    }

    @Test func refusesANewerSchema() throws {
        let connectionString = try TestEnvironment.migratedDatabase()
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        try connection.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")
        let migrator = try Migrator(directory: URL(fileURLWithPath: TestEnvironment.migrationsDirectory))
        #expect(throws: Migrator.MigrationError.self) { try migrator.migrate(connection) }
    }

    @Test func failedMigrationLeavesNoTrace() throws {
        let connectionString = try TestEnvironment.freshDatabase()
        let migrator = try Migrator(migrations: [
            .init(version: 1, name: "good", sql: "CREATE TABLE t1 (x int)"),
            .init(version: 2, name: "bad", sql: "CREATE TABLE t2 (x int); SELECT * FROM no_such_table"),
        ])
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        #expect(throws: (any Error).self) { try migrator.migrate(connection) }
        let versions = try connection.query(PostgresQuery(sql: "SELECT version FROM schema_migrations ORDER BY version", binds: []))
        #expect(versions.rows.compactMap { $0["version"] } == ["1"])
        let t2 = try connection.query(PostgresQuery(sql: "SELECT to_regclass('t2')::text AS t", binds: []))
        #expect(t2.rows.first?["t"] == nil)
    }
}
