import API
import App
import Foundation
import Postgres
import Store
import TokenmeterCore
import Testing

/// Fixtures for integration tests: a fresh database per fixture on the Postgres that ./scripts/test
/// started, a real server on an ephemeral port, and a project with keys.
enum TestEnvironment {
    static var baseConnectionString: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["TOKENMETER_TEST_DATABASE_URL"], !url.isEmpty else {
                throw TestSetupError("TOKENMETER_TEST_DATABASE_URL is not set: run the tests through ./scripts/test, which starts a throwaway Postgres")
            }
            return url
        }
    }

    static var migrationsDirectory: String {
        ProcessInfo.processInfo.environment["TOKENMETER_MIGRATIONS_DIR"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("migrations").path
    }

    /// Creates an empty database (in `tablespace` when given) and returns its connection string.
    static func freshDatabase(tablespace: String? = nil) throws -> String {
        let base = try baseConnectionString
        let name = "tm_test_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        let admin = try PostgresConnection(connectionString: base)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(name)" + (tablespace.map { " TABLESPACE \($0)" } ?? ""))
        return base + " dbname=\(name)"
    }

    /// The database name of a connection string made by `freshDatabase`.
    static func databaseName(_ connectionString: String) -> String {
        String(connectionString.split(separator: " ").last { $0.hasPrefix("dbname=") }?.dropFirst("dbname=".count) ?? "")
    }

    static func migratedDatabase(tablespace: String? = nil) throws -> String {
        let connectionString = try freshDatabase(tablespace: tablespace)
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        try Migrator(directory: URL(fileURLWithPath: migrationsDirectory)).migrate(connection)
        return connectionString
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running server with one project and its keys.
final class RunningServer: @unchecked Sendable {
    let server: Server
    let connectionString: String
    let ingestKey: String
    let readKey: String
    let project: ProjectID
    var port: Int { server.port }

    /// `database`: a migrated database to use instead of a fresh one.
    init(database: String? = nil, configure: (inout Configuration) -> Void = { _ in }) throws {
        connectionString = try database ?? TestEnvironment.migratedDatabase()
        var configuration = Configuration()
        configuration.port = 0
        configuration.logLevel = .error
        // Fixtures date events months back; the retention tests set their own.
        configuration.rawRetentionDays = 3650
        configuration.rollupRetentionDays = 3650
        configure(&configuration)
        let pool = PostgresPool(connectionString: connectionString, size: 1)
        defer { pool.close() }
        let keys = PostgresKeyStore(pool: pool)
        project = try keys.ensureProject(named: "test")
        ingestKey = try keys.createKey(project: project, kind: .ingest)
        readKey = try keys.createKey(project: project, kind: .read)
        server = Server(configuration: configuration, connectionString: connectionString,
                        logger: Logger(label: "test", minimumLevel: configuration.logLevel), priceBook: try PriceBook.shipped())
        try server.start()
        // The compactor's first pass runs at start-up. Tests that fold by hand (a long interval) and
        // count pending rows must not race it: wait for it to finish before handing the server over.
        let deadline = Date().addingTimeInterval(10)
        while server.metrics.counterValue("tokenmeter_compaction_seconds_total") == 0, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// A second project on the same server.
    func makeProject(_ name: String) throws -> (ingest: String, read: String) {
        let pool = PostgresPool(connectionString: connectionString, size: 1)
        defer { pool.close() }
        let keys = PostgresKeyStore(pool: pool)
        let id = try keys.ensureProject(named: name)
        return (try keys.createKey(project: id, kind: .ingest), try keys.createKey(project: id, kind: .read))
    }

    func client() -> HTTPClient { HTTPClient(port: port) }

    func ingest(_ body: String, contentType: String = "application/json", key: String? = nil) throws -> HTTPClient.Response {
        try client().send(method: "POST", path: "/v1/events", headers: ["Authorization": "Bearer \(key ?? ingestKey)", "Content-Type": contentType], body: Array(body.utf8))
    }

    func get(_ path: String, key: String? = nil) throws -> HTTPClient.Response {
        try client().send(method: "GET", path: path, headers: ["Authorization": "Bearer \(key ?? readKey)"])
    }

    func sql(_ text: String) throws -> PostgresResult {
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        return try connection.query(PostgresQuery(sql: text, binds: []))
    }

    /// Runs the real `tokenmeter` binary against this server's database.
    func runBinary(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let binary = ProcessInfo.processInfo.environment["TOKENMETER_TEST_BINARY"] else {
            throw TestSetupError("TOKENMETER_TEST_BINARY is not set: run through ./scripts/test")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMETER_DATABASE_URL"] = connectionString
        return try BinaryTests().run(binary, arguments, environment: environment)
    }

    deinit { server.shutdown() }
}
