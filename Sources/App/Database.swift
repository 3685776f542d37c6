import Foundation
import Postgres
import Store
import TokenmeterCore

/// Where the database is: an external server from the URL, or the embedded cluster (started if needed).
public final class Database: Sendable {
    public let connectionString: String
    public let embedded: EmbeddedPostgres?
    /// True when this process started the embedded cluster (and so owns stopping it).
    public let startedHere: Bool

    static let embeddedDatabaseName = "tokenmeter"

    public init(configuration: Configuration, logger: Logger) throws {
        if let url = configuration.databaseURL {
            connectionString = url
            embedded = nil
            startedHere = false
            try PostgresConnection.waitUntilReachable(connectionString: url, timeout: .seconds(configuration.databaseWaitSeconds))
            return
        }
        let cluster = try EmbeddedPostgres(stateDirectory: configuration.dataDirectory, logger: logger)
        startedHere = try cluster.start()
        embedded = cluster
        try PostgresConnection.waitUntilReachable(connectionString: cluster.connectionString(database: "postgres"), timeout: .seconds(max(configuration.databaseWaitSeconds, 5)))
        let admin = try PostgresConnection(connectionString: cluster.connectionString(database: "postgres"))
        defer { admin.close() }
        let exists = try admin.query(PostgresQuery(sql: "SELECT 1 FROM pg_database WHERE datname = $1", binds: [.text(Database.embeddedDatabaseName)]))
        if exists.rows.isEmpty {
            do {
                try admin.execute("CREATE DATABASE \(Database.embeddedDatabaseName) ENCODING 'UTF8' TEMPLATE template0")
            } catch let error as PostgresError {
                // Another instance may have created it at the same moment.
                if case .server(let state, _, _) = error, state == "42P04" {} else { throw error }
            }
        }
        connectionString = cluster.connectionString(database: Database.embeddedDatabaseName)
    }

    /// Applies pending migrations.
    public func migrate(configuration: Configuration, logger: Logger) throws -> [Int] {
        let directory = try Migrator.locateDirectory(explicit: configuration.migrationsDirectory, executablePath: CommandLine.arguments.first.flatMap(Database.executablePath))
        let migrator = try Migrator(directory: directory)
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        let applied = try migrator.migrate(connection)
        if !applied.isEmpty { logger.info("migrations applied", ["migrations.versions": applied.map(String.init).joined(separator: ","), "migrations.dir": directory.path]) }
        return applied
    }

    /// Stops the embedded cluster when this process started it or `force` is set.
    public func stopEmbedded(force: Bool = false) {
        guard let embedded, startedHere || force else { return }
        do { try embedded.stop() } catch { }
    }

    static func executablePath(_ argv0: String) -> String? {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return argv0.contains("/") ? argv0 : nil
    }
}
