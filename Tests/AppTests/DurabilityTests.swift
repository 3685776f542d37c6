import App
import Foundation
import JSON
import Synchronization
import Testing

/// Postgres restarts under sustained ingest: every acknowledged event is stored exactly once and the
/// server recovers by itself (503 + Retry-After while the database is away).
@Suite(.serialized)
struct DurabilityTests {
    @Test func postgresRestartLosesNothingAcknowledged() throws {
        guard let restart = ProcessInfo.processInfo.environment["TOKENMETER_TEST_PG_RESTART"] else {
            throw TestSetupError("TOKENMETER_TEST_PG_RESTART is not set: run through ./scripts/test")
        }
        let server = try RunningServer()
        let acknowledged = Mutex<Set<String>>([])
        let refusals = Mutex<[Int]>([])
        let stop = Atomic<Bool>(false)

        let sender = Thread {
            let client = server.client()
            var next = 0
            while !stop.load(ordering: .relaxed) {
                let ids = (0..<50).map { "dur-\(next)-\($0)" }
                let body = "[" + ids.map { #"{"request_id":"\#($0)","feature":"durability","tokens_in":1}"# }.joined(separator: ",") + "]"
                // Like a real client: retry the same batch until it is acknowledged.
                while !stop.load(ordering: .relaxed) {
                    guard let response = try? client.send(method: "POST", path: "/v1/events",
                                                          headers: ["Authorization": "Bearer \(server.ingestKey)"], body: Array(body.utf8)) else {
                        client.close()
                        continue
                    }
                    if response.status == 200 {
                        acknowledged.withLock { $0.formUnion(ids) }
                        break
                    }
                    refusals.withLock { $0.append(response.status) }
                    #expect(response.status == 503 || response.status == 429, "\(response.status) \(response.text)")
                    #expect(response.header("Retry-After") != nil)
                    Thread.sleep(forTimeInterval: 0.05)
                }
                next += 1
            }
        }
        sender.start()
        Thread.sleep(forTimeInterval: 1.0)
        let status = try Subprocess.run(["/bin/sh", "-c", restart], environment: ProcessInfo.processInfo.environment, outputPath: "/dev/null")
        #expect(status == 0)
        Thread.sleep(forTimeInterval: 2.0)
        stop.store(true, ordering: .relaxed)
        while !sender.isFinished { Thread.sleep(forTimeInterval: 0.05) }

        let acked = acknowledged.withLock { $0 }
        #expect(acked.count >= 500, "too few events acknowledged to prove anything: \(acked.count)")
        let stored = try server.sql("SELECT request_id FROM events WHERE feature = 'durability'").rows.compactMap { $0["request_id"] }
        #expect(stored.count == Set(stored).count, "duplicates stored")
        #expect(acked.isSubset(of: Set(stored)), "acknowledged but missing: \(acked.subtracting(stored).count)")
        let rollup = try server.sql("SELECT coalesce(sum(calls), 0)::bigint AS n FROM rollup_minute WHERE feature = 'durability'")
        #expect(rollup.rows.first?["n"] == String(stored.count), "rollup disagrees with raw events")
        // And the server is healthy again without a restart.
        let ready = try server.client().send(method: "GET", path: "/readyz")
        #expect(ready.status == 200)
    }
}
