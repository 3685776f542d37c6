import Foundation
import Postgres
import Synchronization
import Testing

struct PostgresPoolTests {
    @Test func eightThreadsShareTwoConnections() throws {
        let pool = PostgresPool(
            connectionString: try TestDatabase.url(), size: 2, acquireTimeout: .seconds(30),
            applicationName: TestDatabase.applicationName)
        defer { pool.close() }
        let table = TestDatabase.uniqueName("pool")
        try pool.withConnection { try $0.execute("CREATE TABLE public.\(table) (thread int, i int)") }
        defer { _ = try? pool.withConnection { try $0.execute("DROP TABLE public.\(table)") } }

        let failures = Mutex<[String]>([])
        let maxOpen = Atomic<Int>(0)
        runOnThreads(8) { thread in
            for i in 0..<25 {
                do {
                    try pool.withConnection { connection in
                        try connection.query("INSERT INTO public.\(unsafeRaw: table) VALUES (\(thread), \(i))")
                    }
                    maxOpen.max(pool.stats.open)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(maxOpen.load(ordering: .relaxed) <= 2)
        let count = try pool.withConnection {
            try $0.query("SELECT count(DISTINCT (thread, i)) AS n FROM public.\(unsafeRaw: table)").rows[0].decode(Int.self, column: "n")
        }
        #expect(count == 200)
        let stats = pool.stats
        #expect(stats.open == 2 && stats.idle == 2 && stats.waiting == 0)
    }

    /// A second connection is lent only when one is free: with the only one held, nil at once.
    @Test func withConnectionIfFreeNeverWaits() throws {
        let pool = PostgresPool(connectionString: try TestDatabase.url(), size: 2, acquireTimeout: .seconds(30),
                                applicationName: TestDatabase.applicationName)
        defer { pool.close() }
        let pids = try pool.withConnection { first -> [Int32]? in
            try pool.withConnectionIfFree { second -> [Int32] in
                let third: Int32? = try pool.withConnectionIfFree { $0.backendPID }
                #expect(third == nil)
                return [first.backendPID, second.backendPID]
            }
        }
        #expect(pids?.count == 2 && pids?[0] != pids?[1])
        #expect(pool.stats.idle == 2 && pool.stats.waiting == 0)
    }

    @Test func waitingLongerThanAcquireTimeoutThrowsPoolTimeout() throws {
        let pool = PostgresPool(
            connectionString: try TestDatabase.url(), size: 1, acquireTimeout: .milliseconds(200),
            applicationName: TestDatabase.applicationName)
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Thread {
            _ = try? pool.withConnection { _ in
                holding.signal()
                release.wait()
            }
        }
        holder.start()
        holding.wait()
        #expect(pool.stats.idle == 0)
        let start = ContinuousClock.now
        #expect {
            try pool.withConnection { _ in }
        } throws: { error in
            guard case PostgresError.poolTimeout = error else { return false }
            return (error as! PostgresError).isRetryable
        }
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(190) && waited < .seconds(3))
        release.signal()
        // Once the holder is done the connection is free again.
        #expect(try pool.withConnection { try $0.query("SELECT 1 AS one").rows.count } == 1)
    }

    @Test func connectionLeftInTransactionIsRolledBackOnReturn() throws {
        let pool = PostgresPool(connectionString: try TestDatabase.url(), size: 1, applicationName: TestDatabase.applicationName)
        defer { pool.close() }
        let table = TestDatabase.uniqueName("leftover")
        try pool.withConnection { try $0.execute("CREATE TABLE public.\(table) (a int)") }
        defer { _ = try? pool.withConnection { try $0.execute("DROP TABLE public.\(table)") } }
        try pool.withConnection { connection in
            try connection.execute("BEGIN")
            try connection.query("INSERT INTO public.\(unsafeRaw: table) VALUES (\(1))")
        }
        let (count, inTransaction) = try pool.withConnection { connection in
            (try connection.query("SELECT count(*) AS n FROM public.\(unsafeRaw: table)").rows[0].decode(Int.self, column: "n"),
             connection.isInTransaction)
        }
        #expect(count == 0)
        #expect(inTransaction == false)
    }

    @Test func queryOnDeadConnectionThrowsConnectionLostAndPoolReplacesIt() throws {
        let url = try TestDatabase.url()
        let pool = PostgresPool(connectionString: url, size: 1, applicationName: TestDatabase.applicationName)
        defer { pool.close() }
        let killer = try TestDatabase.connect()
        defer { killer.close() }
        let firstPID = try pool.withConnection { $0.backendPID }
        #expect {
            try pool.withConnection { connection in
                // Killed while lent out, so the checkout probe cannot have seen it.
                try killer.query("SELECT pg_terminate_backend(\(Int(connection.backendPID))::int)")
                try waitUntilGone(connection.backendPID, watcher: killer)
                try connection.query("SELECT 1")
            }
        } throws: { error in
            guard case PostgresError.connectionLost = error else { return false }
            return (error as! PostgresError).isRetryable
        }
        #expect(pool.stats.open == 0)
        let secondPID = try pool.withConnection { connection in
            _ = try connection.query("SELECT 1")
            return connection.backendPID
        }
        #expect(secondPID != firstPID)
        #expect(pool.stats.open == 1)
    }

    @Test func checkHealthAndClose() throws {
        let pool = PostgresPool(connectionString: try TestDatabase.url(), size: 2, applicationName: TestDatabase.applicationName)
        #expect(pool.checkHealth())
        #expect(pool.stats.open == 1)
        pool.close()
        #expect(pool.stats.open == 0)
        #expect(!pool.checkHealth())
        #expect {
            try pool.withConnection { _ in }
        } throws: { error in
            guard case PostgresError.poolClosed = error else { return false }
            return true
        }
    }

    @Test func unreachableServerFailsHealthCheckAndWithConnection() throws {
        let pool = PostgresPool(connectionString: "host=/tmp/tokenmeter-no-such-dir user=postgres dbname=postgres", size: 2)
        defer { pool.close() }
        #expect(!pool.checkHealth())
        #expect {
            try pool.withConnection { _ in }
        } throws: { error in
            guard case PostgresError.connectionFailed = error else { return false }
            return true
        }
        #expect(pool.stats.open == 0)
    }
}

/// Backends are terminated by application name, so the test names its own connections: the other
/// suites (and their servers) share the cluster and run at the same time.
struct ReconnectionTests {
    @Test func poolRecoversAfterBackendsAreTerminated() throws {
        let url = try TestDatabase.url()
        // An application name of this test's own: the kill below must not reach the connections of
        // tests running beside it on the same cluster.
        let name = TestDatabase.uniqueName("tokenmeter-reconnect")
        let pool = PostgresPool(connectionString: url, size: 2, acquireTimeout: .seconds(10), applicationName: name)
        defer { pool.close() }

        // Open both connections so both get killed.
        let held = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let other = Thread {
            _ = try? pool.withConnection { _ in
                held.signal()
                go.wait()
            }
        }
        other.start()
        held.wait()
        let (appName, oldPID) = try pool.withConnection { connection in
            (try connection.query("SELECT current_setting('application_name') AS a").rows[0].decode(String.self, column: "a"),
             connection.backendPID)
        }
        go.signal()
        while pool.stats.idle < 2 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(appName == name)
        #expect(pool.stats.open == 2)

        let killer = try PostgresConnection(connectionString: url, applicationName: "tokenmeter-killer")
        defer { killer.close() }
        let killed = try killer.query("""
            SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity
            WHERE application_name = \(name) AND pid <> pg_backend_pid()
            """).rows
        #expect(killed.count >= 2)
        // pg_terminate_backend only signals; wait until the backends are gone.
        let killedPIDs = try killed.map { try $0.decode(Int.self, column: "pid") }
        for _ in 0..<500 {
            let alive = try killer.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY(\(killedPIDs.map(String.init))::int[])")
                .rows[0].decode(Int.self, column: "n")
            if alive == 0 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }

        // The first call may see the dead connection (a retryable .connectionLost) if the death
        // was not yet visible at checkout; the second must succeed on a fresh connection.
        var newPID: Int32?
        for attempt in 1...2 {
            do {
                newPID = try pool.withConnection { connection in
                    _ = try connection.query("SELECT 1 AS one")
                    return connection.backendPID
                }
                break
            } catch let error as PostgresError {
                #expect(attempt == 1, "second attempt failed: \(error)")
                #expect(error.isRetryable, "\(error)")
            }
        }
        let pid = try #require(newPID)
        #expect(pid != oldPID)
        #expect(!killedPIDs.contains(Int(pid)))
        #expect(pool.checkHealth())
    }
}

/// Connection failures: fast, clear, and without the password.
struct ReachabilityTests {
    @Test func unreachableSocketFailsQuicklyWithoutPassword() throws {
        let start = ContinuousClock.now
        #expect {
            _ = try PostgresConnection(connectionString: "host=/tmp/tokenmeter-no-such-dir user=postgres dbname=app password=hunter2")
        } throws: { error in
            guard case PostgresError.connectionFailed(let message) = error else { return false }
            return !message.contains("hunter2") && !"\(error)".contains("hunter2") && (error as! PostgresError).isRetryable
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func refusedTCPPortFailsQuicklyWithoutPassword() throws {
        let start = ContinuousClock.now
        #expect {
            _ = try PostgresConnection(connectionString: "postgresql://svc:hunter2@127.0.0.1:1/app")
        } throws: { error in
            guard case PostgresError.connectionFailed(let message) = error else { return false }
            return !message.contains("hunter2")
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func waitUntilReachableGivesUpNamingTheTarget() throws {
        let start = ContinuousClock.now
        #expect {
            try PostgresConnection.waitUntilReachable(
                connectionString: "host=/tmp/tokenmeter-no-such-dir user=svc dbname=app password=hunter2", timeout: .milliseconds(300))
        } throws: { error in
            guard case PostgresError.connectionFailed(let message) = error else { return false }
            return message.contains("host=/tmp/tokenmeter-no-such-dir") && message.contains("dbname=app")
                && !message.contains("hunter2")
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3))
    }

    @Test func waitUntilReachableReturnsForALiveServer() throws {
        try PostgresConnection.waitUntilReachable(connectionString: try TestDatabase.url(), timeout: .seconds(5))
    }
}

/// `pg_terminate_backend` only signals; this waits until the backend has left pg_stat_activity.
func waitUntilGone(_ pid: Int32, watcher: PostgresConnection) throws {
    for _ in 0..<500 {
        let alive = try watcher.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = \(Int(pid))")
            .rows[0].decode(Int.self, column: "n")
        if alive == 0 { return }
        Thread.sleep(forTimeInterval: 0.01)
    }
    Issue.record("backend \(pid) did not exit")
}

extension Atomic where Value == Int {
    func max(_ candidate: Int) {
        var current = load(ordering: .relaxed)
        while candidate > current {
            let (exchanged, original) = compareExchange(expected: current, desired: candidate, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
