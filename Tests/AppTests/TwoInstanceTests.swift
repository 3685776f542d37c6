import Foundation
import JSON
import Postgres
import Store
import Testing
import TokenmeterCore

/// Issue 7, part 5: two Tokenmeter processes (the real binary) on one Postgres behind a
/// client-side load balancer. Ingest goes through both, one is killed with SIGKILL mid-ingest and
/// its clients fail over to the other: exactly the acknowledged events are stored, once, every
/// rollup agrees although both instances ran their background folding side by side, and queries
/// through either instance give the same answer. Background work happens once: an error surge is
/// one notification although both evaluate every second, and partitions are created once.
@Suite(.serialized)
struct TwoInstanceTests {
    struct Instances {
        let database: String
        let ingestKey: String
        let readKey: String
        let ports: [Int]
        let environments: [[String: String]]
        let binary: String
    }

    static func prepare() throws -> Instances {
        guard let binary = ProcessInfo.processInfo.environment["TOKENMETER_TEST_BINARY"] else {
            throw TestSetupError("TOKENMETER_TEST_BINARY is not set: run through ./scripts/test")
        }
        let database = try TestEnvironment.migratedDatabase()
        let pool = PostgresPool(connectionString: database, size: 1)
        defer { pool.close() }
        let keys = PostgresKeyStore(pool: pool)
        let project = try keys.ensureProject(named: "twins")
        var ports = [BinaryTests.freePort()]
        while ports.count < 2 { let port = BinaryTests.freePort(); if port != ports[0] { ports.append(port) } }
        let environments = ports.map { port in
            var environment = ProcessInfo.processInfo.environment
            environment["TOKENMETER_DATABASE_URL"] = database
            environment["TOKENMETER_PORT"] = String(port)
            environment["TOKENMETER_LOG_LEVEL"] = "error"
            environment["TOKENMETER_COMPACTION_INTERVAL_SECONDS"] = "1"
            environment["TOKENMETER_ADMIN_TOKEN"] = AlertTest.adminToken
            environment["TOKENMETER_ALERT_EVALUATION_INTERVAL_SECONDS"] = "1"
            environment["TOKENMETER_ALERT_DELIVERY_BACKOFF_SECONDS"] = "1"
            return environment
        }
        return Instances(database: database, ingestKey: try keys.createKey(project: project, kind: .ingest),
                         readKey: try keys.createKey(project: project, kind: .read), ports: ports, environments: environments, binary: binary)
    }

    @Test func ingestThroughBothAndSurviveOneKilled() throws {
        let twins = try Self.prepare()
        let first = try CrashTests.Binary(binary: twins.binary, environment: twins.environments[0])
        var second = try CrashTests.Binary(binary: twins.binary, environment: twins.environments[1])
        #expect(CrashTests.waitHealthy(port: twins.ports[0]) && CrashTests.waitHealthy(port: twins.ports[1]))

        let load = LedgerLoad(ports: twins.ports, key: twins.ingestKey, prefix: "twins", senders: 4, batchSize: 40, resends: 1)
        load.start()
        load.waitForAcknowledged(atLeast: 400)
        let beforeKill = load.acknowledged.count
        second.kill(SIGKILL)
        load.waitForAcknowledged(atLeast: beforeKill + 400)
        let afterKill = load.acknowledged.count
        // The killed instance comes back and takes traffic again.
        second = try CrashTests.Binary(binary: twins.binary, environment: twins.environments[1])
        #expect(CrashTests.waitHealthy(port: twins.ports[1]))
        Thread.sleep(forTimeInterval: 1.5)
        load.stop()

        #expect(beforeKill >= 400, "too little acknowledged with both instances up: \(beforeKill)")
        #expect(afterKill >= beforeKill + 400, "the surviving instance did not take over: \(beforeKill) → \(afterKill)")
        #expect(Set(load.refusalsByStatus.keys).isSubset(of: [429, 503]), "\(load.refusalsByStatus)")
        Thread.sleep(forTimeInterval: 2.5)  // both compactors fold (one at a time); the views are exact either way
        try load.verify(database: twins.database)

        // Either instance answers the same totals, which are the stored events.
        let answers = try twins.ports.map { port -> JSONValue? in
            let response = try HTTPClient(port: port).send(method: "GET", path: "/v1/usage?group_by=feature&from=-1h",
                                                            headers: ["Authorization": "Bearer \(twins.readKey)"])
            #expect(response.status == 200)
            return response.json?["rows"]
        }
        #expect(answers[0] == answers[1])
        let stored = try PostgresConnection(connectionString: twins.database).query(
            PostgresQuery(sql: "SELECT count(*)::bigint AS n FROM events", binds: [])).rows.first?["n"]
        #expect(answers[0]?[0]?["calls"]?.int64Value.map(String.init) == stored, "\(String(describing: answers[0]))")
        // Alerting: both instances evaluate every second; an error surge is announced once. In a
        // quiet project of its own: the error rate is judged over the freshest minute, which in
        // "twins" still holds the load's last seconds of healthy calls.
        let quiet = try AlertTest.project("twins-alerts", on: twins.database)
        let receiver = try TestReceiver()
        try AlertTest.setDestination(twins.ports[0], project: "twins-alerts", url: receiver.url())
        try AlertTest.ingest(twins.ports[1], key: quiet.ingest, AlertTest.events(30, at: Date().addingTimeInterval(-10), status: "error"))
        #expect(AlertTest.wait(timeout: 40) { receiver.processed.count >= 1 }, "no notification from either instance")
        Thread.sleep(forTimeInterval: 4)
        #expect(receiver.received.count == 1, "\(receiver.received.count) notifications for one incident")
        let connection = try PostgresConnection(connectionString: twins.database)
        defer { connection.close() }
        func count(_ sql: String) throws -> String? { try connection.query(PostgresQuery(sql: sql, binds: [])).rows.first?["n"] }
        // The project's incident and its only model's (muted by it, kept in the history).
        #expect(try count("SELECT count(*)::bigint AS n FROM alert_instances") == "2")
        // Partition maintenance ran on both at start, under one lock: each day from yesterday to a
        // week ahead exists once (names are unique, so a second creation would have failed loudly).
        #expect(try count("SELECT count(*)::bigint AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default'").map { Int($0)! >= 9 } == true)

        second.kill(SIGTERM)
        first.kill(SIGTERM)
        #expect(first.process.terminationStatus == 0 && second.process.terminationStatus == 0)
    }
}

