import App
import Foundation
import Postgres
import Testing

/// Issue 7, part 2: faults under sustained ingest by clients that retry every batch until it is
/// acknowledged and then send it twice more. In each, exactly the acknowledged events are stored,
/// once, the rollups agree, every refusal is a 429/503 with `Retry-After`, and the server recovers
/// by itself. (The Postgres restart is `DurabilityTests`, SIGKILL is `CrashTests`.) They disturb
/// the whole cluster (a full disk made other suites' writes fail), so ./scripts/test runs them
/// before everything else, one at a time.
@Suite(.serialized)
struct FaultTests {
    private func sh(_ command: String) throws -> Int32 {
        try Subprocess.run(["/bin/sh", "-c", command], environment: ProcessInfo.processInfo.environment, outputPath: "/dev/null")
    }

    /// Waits until `condition` holds, checking every 100 ms; false after `seconds`.
    private func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// Postgres refuses every connection to our database for 30 s (and drops the open ones): ingest
    /// answers 503 with `Retry-After`, `/readyz` says not ready, and both recover on their own.
    @Test func postgresRefusingConnectionsFor30Seconds() throws {
        let server = try RunningServer { $0.compactionIntervalSeconds = 1 }
        let database = TestEnvironment.databaseName(server.connectionString)
        let admin = try PostgresConnection(connectionString: try TestEnvironment.baseConnectionString)
        defer { admin.close() }
        let load = LedgerLoad(port: server.port, key: server.ingestKey, prefix: "refused", resends: 2)
        load.start()
        load.waitForAcknowledged(atLeast: 200)
        let before = load.acknowledged.count

        try admin.execute("ALTER DATABASE \(database) WITH ALLOW_CONNECTIONS false")
        _ = try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()")
        let refusedAt = Date()
        var notReady = false
        while Date().timeIntervalSince(refusedAt) < 30 {
            if let ready = try? server.client().send(method: "GET", path: "/readyz"), ready.status == 503 { notReady = true }
            Thread.sleep(forTimeInterval: 1)
        }
        let duringOutage = load.acknowledged.count
        try admin.execute("ALTER DATABASE \(database) WITH ALLOW_CONNECTIONS true")

        #expect(eventually(within: 20) { load.acknowledged.count > duringOutage + 200 }, "ingest did not recover within 20 s")
        #expect(try eventually(within: 10) { try server.client().send(method: "GET", path: "/readyz").status == 200 })
        load.stop()

        #expect(before >= 200, "too little acknowledged before the outage to prove anything: \(before)")
        #expect(notReady, "/readyz never said 503 while the database refused connections")
        let refusals = load.refusalsByStatus
        #expect((refusals[503] ?? 0) > 0, "no 503 during a 30 s outage: \(refusals)")
        #expect(Set(refusals.keys).isSubset(of: [429, 503]), "refusals other than 429/503: \(refusals)")
        #expect(load.refusalsWithoutRetryAfter == 0)
        #expect(load.resendCount > 10)
        Thread.sleep(forTimeInterval: 2)  // the compactor folds at 1 s; the views are exact either way
        try load.verify(database: server.connectionString)
    }

    /// The disk holding the database's tables fills up (a small tmpfs tablespace; the WAL stays on
    /// the main disk, as on a server whose data volume fills): ingest answers 503 with
    /// `Retry-After` instead of failing, nothing acknowledged is lost, and ingest resumes by itself
    /// once space is freed.
    @Test func fullDiskIsA503AndLosesNothing() throws {
        guard getuid() == 0 else {
            throw TestSetupError("mounting the small tmpfs this test fills needs root (./scripts/test in CI runs as root)")
        }
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("tm-diskfull-\(UInt32.random(in: 0...UInt32.max))").path
        let tablespace = "tm_full_\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        #expect(try sh("mount -t tmpfs -o size=40m tokenmeter-diskfull '\(mount)' && mkdir '\(mount)/ts' && chown postgres:postgres '\(mount)/ts' 2>/dev/null || [ -d '\(mount)/ts' ]") == 0)
        let admin = try PostgresConnection(connectionString: try TestEnvironment.baseConnectionString)
        var database: String?
        defer {
            if let database { _ = try? admin.execute("DROP DATABASE IF EXISTS \(TestEnvironment.databaseName(database)) WITH (FORCE)") }
            _ = try? admin.execute("DROP TABLESPACE IF EXISTS \(tablespace)")
            admin.close()
            _ = try? sh("umount '\(mount)'; rmdir '\(mount)'")
        }
        try admin.execute("CREATE TABLESPACE \(tablespace) LOCATION '\(mount)/ts'")
        database = try TestEnvironment.migratedDatabase(tablespace: tablespace)
        let filler = "\(mount)/filler"

        do {
            let server = try RunningServer(database: database) { $0.compactionIntervalSeconds = 1 }
            // Leave ~3 MB: a few hundred events with 2 KB prompts fill it.
            #expect(try sh("avail=$(df -k --output=avail '\(mount)' | tail -1); dd if=/dev/zero of='\(filler)' bs=1k count=$((avail - 3072)) 2>/dev/null") == 0)
            let load = LedgerLoad(port: server.port, key: server.ingestKey, prefix: "diskfull", batchSize: 20, resends: 2,
                                  prompt: String(repeating: "the disk fills up ", count: 115))
            load.start()
            #expect(eventually(within: 60) { (load.refusalsByStatus[503] ?? 0) >= 5 }, "the disk never filled: \(load.refusalsByStatus)")
            let whileFull = load.acknowledged.count
            #expect(try server.client().send(method: "GET", path: "/healthz").status == 200, "the server is alive while the disk is full")
            try FileManager.default.removeItem(atPath: filler)
            #expect(eventually(within: 30) { load.acknowledged.count > whileFull + 200 }, "ingest did not resume after space was freed")
            load.stop()

            let refusals = load.refusalsByStatus
            #expect(Set(refusals.keys).isSubset(of: [429, 503]), "refusals other than 429/503: \(refusals)")
            #expect(load.refusalsWithoutRetryAfter == 0)
            Thread.sleep(forTimeInterval: 2)
            try load.verify(database: server.connectionString)
        }
    }
}
