import Foundation
import Postgres
import Testing

/// Access to the real Postgres the integration tests run against.
///
/// Set `TOKENMETER_TEST_DATABASE_URL` (for example `host=/tmp/pgdev/sock user=postgres dbname=postgres`).
/// Without it every integration test fails; they are never skipped silently.
enum TestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "TOKENMETER_TEST_DATABASE_URL is not set: point it at a Postgres 15 you can create schemas in, "
                + "e.g. TOKENMETER_TEST_DATABASE_URL='host=/tmp/pgdev-postgres/sock user=postgres dbname=postgres'"
        }
    }

    /// Application name of test connections. The default `tokenmeter` is reserved for the
    /// reconnection test, which terminates every backend with that name.
    static let applicationName = "tokenmeter-test"

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TOKENMETER_TEST_DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        return url
    }

    static func connect() throws -> PostgresConnection {
        try PostgresConnection(connectionString: url(), applicationName: applicationName)
    }

    /// A unique lowercase identifier, so concurrently running tests never share tables.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
    }

    /// Runs `body` on a fresh connection whose search_path is a fresh schema, dropped afterwards.
    static func withScratchSchema<T>(_ body: (PostgresConnection, String) throws -> T) throws -> T {
        let connection = try connect()
        defer { connection.close() }
        let schema = uniqueName("test")
        try connection.execute("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
        defer { _ = try? connection.execute("DROP SCHEMA \(schema) CASCADE") }
        return try body(connection, schema)
    }
}

/// Runs `body` on `count` plain threads (never Swift's cooperative pool, since the calls block)
/// and waits for all of them.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}
