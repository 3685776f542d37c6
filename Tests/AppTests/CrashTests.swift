import Foundation
import Postgres
import Store
import Synchronization
import Testing
import TokenmeterCore

/// The real binary killed with SIGKILL in the middle of sustained ingest, then started again, while
/// clients retry until acknowledged and send every acknowledged batch a second time: exactly the
/// acknowledged events are stored, once each, and every rollup agrees with them.
@Suite(.serialized)
struct CrashTests {
    final class Binary {
        let process = Process()
        init(binary: String, environment: [String: String]) throws {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve"]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }
        func kill(_ signal: Int32) {
            Glibc.kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    static func waitHealthy(port: Int) -> Bool {
        let client = HTTPClient(port: port)
        defer { client.close() }
        for _ in 0..<300 {
            if let response = try? client.send(method: "GET", path: "/healthz"), response.status == 200 { return true }
            client.close()
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test func sigkillMidIngestLosesAndDoublesNothing() throws {
        guard let binary = ProcessInfo.processInfo.environment["TOKENMETER_TEST_BINARY"] else {
            throw TestSetupError("TOKENMETER_TEST_BINARY is not set: run through ./scripts/test")
        }
        let database = try TestEnvironment.migratedDatabase()
        let key: String = try {
            let pool = PostgresPool(connectionString: database, size: 1)
            defer { pool.close() }
            let keys = PostgresKeyStore(pool: pool)
            return try keys.createKey(project: try keys.ensureProject(named: "crash"), kind: .ingest)
        }()
        let port = BinaryTests.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMETER_DATABASE_URL"] = database
        environment["TOKENMETER_PORT"] = String(port)
        environment["TOKENMETER_LOG_LEVEL"] = "error"
        environment["TOKENMETER_COMPACTION_INTERVAL_SECONDS"] = "1"

        var server = try Binary(binary: binary, environment: environment)
        #expect(CrashTests.waitHealthy(port: port))
        let load = LedgerLoad(port: port, key: key, prefix: "crash", senders: 3, batchSize: 40, resends: 1)
        load.start()
        load.waitForAcknowledged(atLeast: 400)
        let beforeKill = load.acknowledged.count
        server.kill(SIGKILL)
        Thread.sleep(forTimeInterval: 0.3)
        server = try Binary(binary: binary, environment: environment)
        #expect(CrashTests.waitHealthy(port: port), "the server did not come back after SIGKILL")
        load.waitForAcknowledged(atLeast: beforeKill + 200)
        load.stop()
        server.kill(SIGTERM)
        #expect(server.process.terminationStatus == 0)

        #expect(beforeKill >= 400, "too little acknowledged before the kill to prove anything: \(beforeKill)")
        #expect(load.acknowledged.count > beforeKill, "nothing acknowledged after the restart")
        #expect(load.resendCount > 10)
        // Unacknowledged events may be stored (committed, then killed before the answer); the client
        // retried them, so they were acknowledged later — nothing is stored that nobody sent.
        try load.verify(database: database)
        let connection = try PostgresConnection(connectionString: database)
        defer { connection.close() }
        func total(_ sql: String) throws -> String? { try connection.query(PostgresQuery(sql: sql, binds: [])).rows.first?["n"] }
        #expect(try total("SELECT sum(tokens_in)::bigint AS n FROM rollup_minute") == total("SELECT sum(tokens_in)::bigint AS n FROM events"))
    }
}
