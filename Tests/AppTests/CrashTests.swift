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
        let port = Int.random(in: 41_000...49_000)
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMETER_DATABASE_URL"] = database
        environment["TOKENMETER_PORT"] = String(port)
        environment["TOKENMETER_LOG_LEVEL"] = "error"
        environment["TOKENMETER_COMPACTION_INTERVAL_SECONDS"] = "1"

        var server = try Binary(binary: binary, environment: environment)
        #expect(CrashTests.waitHealthy(port: port))
        let acknowledged = Mutex<Set<String>>([])
        let resent = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let senders = (0..<3).map { sender in
            Thread {
                let client = HTTPClient(port: port)
                var batch = 0
                while !stop.load(ordering: .relaxed) {
                    let ids = (0..<40).map { "crash-\(sender)-\(batch)-\($0)" }
                    let body = Array(("[" + ids.enumerated().map { i, id in
                        #"{"request_id":"\#(id)","user_id":"u\#(i % 7)","feature":"crash","model":"gpt-4o-mini","tokens_in":\#(i + 1),"latency_ms":\#(i * 3 + 1)}"#
                    }.joined(separator: ",") + "]").utf8)
                    var sends = 0
                    // Retry until acknowledged, then send the same batch once more, as a client that
                    // lost the first answer would.
                    while sends < 2, !stop.load(ordering: .relaxed) {
                        guard let response = try? client.send(method: "POST", path: "/v1/events",
                                                              headers: ["Authorization": "Bearer \(key)"], body: body),
                              response.status == 200 else {
                            client.close()
                            Thread.sleep(forTimeInterval: 0.02)
                            continue
                        }
                        if sends == 0 { acknowledged.withLock { $0.formUnion(ids) } } else { resent.add(1, ordering: .relaxed) }
                        sends += 1
                    }
                    batch += 1
                }
                client.close()
            }
        }
        senders.forEach { $0.start() }
        Thread.sleep(forTimeInterval: 1.5)
        let beforeKill = acknowledged.withLock { $0.count }
        server.kill(SIGKILL)
        Thread.sleep(forTimeInterval: 0.3)
        server = try Binary(binary: binary, environment: environment)
        #expect(CrashTests.waitHealthy(port: port), "the server did not come back after SIGKILL")
        Thread.sleep(forTimeInterval: 1.5)
        stop.store(true, ordering: .relaxed)
        while senders.contains(where: \.isExecuting) { Thread.sleep(forTimeInterval: 0.05) }
        server.kill(SIGTERM)
        #expect(server.process.terminationStatus == 0)

        let acked = acknowledged.withLock { $0 }
        #expect(beforeKill >= 400, "too little acknowledged before the kill to prove anything: \(beforeKill)")
        #expect(acked.count > beforeKill, "nothing acknowledged after the restart")
        #expect(resent.load(ordering: .relaxed) > 10)
        let connection = try PostgresConnection(connectionString: database)
        defer { connection.close() }
        let stored = try connection.query(PostgresQuery(sql: "SELECT request_id FROM events", binds: [])).rows.compactMap { $0["request_id"] }
        #expect(stored.count == Set(stored).count, "duplicates stored")
        #expect(acked.isSubset(of: Set(stored)), "acknowledged but missing: \(acked.subtracting(stored).count)")
        // Unacknowledged events may be stored (committed, then killed before the answer); the client
        // retried them, so they were acknowledged later — nothing is stored that nobody sent.
        #expect(Set(stored).isSubset(of: acked), "stored but never acknowledged: \(Set(stored).subtracting(acked).count)")
        func total(_ sql: String) throws -> String? { try connection.query(PostgresQuery(sql: sql, binds: [])).rows.first?["n"] }
        let calls = String(stored.count)
        #expect(try total("SELECT sum(calls)::bigint AS n FROM rollup_day") == calls)
        #expect(try total("SELECT sum(calls)::bigint AS n FROM rollup_user_hour") == calls)
        #expect(try total("SELECT sum(count)::bigint AS n FROM sketch_hour WHERE metric = 0") == calls)
        #expect(try total("SELECT sum(tokens_in)::bigint AS n FROM rollup_minute") == total("SELECT sum(tokens_in)::bigint AS n FROM events"))
    }
}
