import App
import Foundation
import Synchronization
import Testing

/// The bound on ingest memory: `--max-queued-events` / `TOKENMETER_MAX_QUEUED_EVENTS`.
struct IngestQueueLimitTests {
    @Test func defaultsFlagsAndEnvironment() throws {
        #expect(try Configuration.load(arguments: [], environment: [:]).0.maxQueuedEvents == 200_000)
        #expect(try Configuration.load(arguments: ["--max-queued-events", "5000"], environment: [:]).0.maxQueuedEvents == 5_000)
        #expect(try Configuration.load(arguments: [], environment: ["TOKENMETER_MAX_QUEUED_EVENTS": "50000"]).0.maxQueuedEvents == 50_000)
    }

    @Test(arguments: ["0", "999", "10000001", "lots", "-5"])
    func badValuesAreRefusedByName(value: String) {
        #expect {
            _ = try Configuration.load(arguments: [], environment: ["TOKENMETER_MAX_QUEUED_EVENTS": value])
        } throws: { error in
            String(describing: error).contains("TOKENMETER_MAX_QUEUED_EVENTS")
        }
    }

    /// A server whose queue holds 1,000 events, under 8 clients sending 2,000-event batches: requests
    /// arriving while a batch waits are refused with 429 + Retry-After instead of buffered (an
    /// empty queue always takes one request, however large, so nothing is refused forever).
    @Test func aBacklogBeyondTheBoundIs429() throws {
        let server = try RunningServer { $0.maxQueuedEvents = 1_000 }
        let statuses = Mutex<[Int: Int]>([:])
        let failures = Mutex<[String]>([])
        let missingRetryAfter = Atomic<Int>(0)
        let clients = (0..<8).map { client in
            Thread {
                for batch in 0..<4 {
                    let events = "[" + (0..<2_000).map { #"{"request_id":"q\#(client)-\#(batch)-\#($0)","tokens_in":1}"# }.joined(separator: ",") + "]"
                    do {
                        let response = try server.ingest(events)
                        statuses.withLock { $0[response.status, default: 0] += 1 }
                        if response.status == 429, response.header("Retry-After") == nil { missingRetryAfter.add(1, ordering: .relaxed) }
                    } catch {
                        failures.withLock { $0.append(String(describing: error)) }
                    }
                }
            }
        }
        clients.forEach { $0.start() }
        while !clients.allSatisfy(\.isFinished) { Thread.sleep(forTimeInterval: 0.05) }  // not isExecuting: false until a thread starts
        let seen = statuses.withLock { $0 }
        #expect((seen[429] ?? 0) > 0, "no request was refused: \(seen)")
        #expect((seen[200] ?? 0) > 0, "nothing got through: \(seen)")
        #expect(Set(seen.keys).isSubset(of: [200, 429]), "\(seen)")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(missingRetryAfter.load(ordering: .relaxed) == 0)
    }
}
