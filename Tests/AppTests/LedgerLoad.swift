import Foundation
import Postgres
import Synchronization
import Testing

/// Sustained ingest by clients that behave like careful real ones: each batch is retried until it
/// is acknowledged and then sent again `resends` more times (a client that lost the answer). A
/// ledger keeps what was acknowledged, so a fault test can prove that exactly those events — no
/// fewer, none twice — are in the database and in every rollup.
final class LedgerLoad: @unchecked Sendable {
    let prefix: String
    private let ports: [Int]
    private let key: String
    private let batchSize: Int
    private let resends: Int
    private let prompt: String?
    private let acknowledgedIDs = Mutex<Set<String>>([])
    private let refusals = Mutex<[Int: Int]>([:])
    private let missingRetryAfter = Atomic<Int>(0)
    private let resent = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var threads: [Thread] = []

    /// `ports`: the instances behind a load balancer; each sender starts on one (round robin) and moves
    /// to the next when a connection fails. `prompt`: text sent with every event, or none.
    init(ports: [Int], key: String, prefix: String, senders: Int = 2, batchSize: Int = 40, resends: Int = 1, prompt: String? = nil) {
        self.ports = ports
        self.key = key
        self.prefix = prefix
        self.batchSize = batchSize
        self.resends = resends
        self.prompt = prompt
        threads = (0..<senders).map { sender in Thread { [self] in run(sender: sender) } }
    }

    convenience init(port: Int, key: String, prefix: String, senders: Int = 2, batchSize: Int = 40, resends: Int = 1, prompt: String? = nil) {
        self.init(ports: [port], key: key, prefix: prefix, senders: senders, batchSize: batchSize, resends: resends, prompt: prompt)
    }

    var acknowledged: Set<String> { acknowledgedIDs.withLock { $0 } }
    /// Non-2xx answers by status.
    var refusalsByStatus: [Int: Int] { refusals.withLock { $0 } }
    /// 429/503 answers that came without `Retry-After`.
    var refusalsWithoutRetryAfter: Int { missingRetryAfter.load(ordering: .relaxed) }
    /// Re-sends of batches already acknowledged.
    var resendCount: Int { resent.load(ordering: .relaxed) }

    func start() { threads.forEach { $0.start() } }

    /// Waits until at least `count` events are acknowledged (a loaded machine is slow to get there);
    /// false after `seconds`.
    @discardableResult
    func waitForAcknowledged(atLeast count: Int, within seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while acknowledged.count < count {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        while !threads.allSatisfy(\.isFinished) { Thread.sleep(forTimeInterval: 0.05) }
    }

    private func run(sender: Int) {
        var portIndex = sender % ports.count
        var client = HTTPClient(port: ports[portIndex])
        var batch = 0
        let text = prompt.map { #","prompt":"\#($0)""# } ?? ""
        while !stopping.load(ordering: .relaxed) {
            let ids = (0..<batchSize).map { "\(prefix)-\(sender)-\(batch)-\($0)" }
            let body = Array(("[" + ids.enumerated().map { i, id in
                #"{"request_id":"\#(id)","user_id":"u\#(i % 7)","feature":"\#(prefix)","model":"gpt-4o-mini","tokens_in":\#(i + 1),"latency_ms":\#(i * 3 + 1)\#(text)}"#
            }.joined(separator: ",") + "]").utf8)
            var sends = 0
            while sends <= resends, !stopping.load(ordering: .relaxed) {
                guard let response = try? client.send(method: "POST", path: "/v1/events",
                                                      headers: ["Authorization": "Bearer \(key)"], body: body) else {
                    client.close()
                    portIndex = (portIndex + 1) % ports.count
                    client = HTTPClient(port: ports[portIndex])
                    Thread.sleep(forTimeInterval: 0.02)
                    continue
                }
                guard response.status == 200 else {
                    refusals.withLock { $0[response.status, default: 0] += 1 }
                    if [429, 503].contains(response.status), response.header("Retry-After") == nil { missingRetryAfter.add(1, ordering: .relaxed) }
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                if sends == 0 { acknowledgedIDs.withLock { $0.formUnion(ids) } } else { resent.add(1, ordering: .relaxed) }
                sends += 1
            }
            batch += 1
        }
        client.close()
    }

    /// Exactly the acknowledged events are stored, once each (an unacknowledged batch may have been
    /// committed before its answer was lost, but its client retried it until it was acknowledged),
    /// and the rollups count exactly the stored events.
    func verify(database: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let acked = acknowledged
        let connection = try PostgresConnection(connectionString: database)
        defer { connection.close() }
        func rows(_ sql: String) throws -> [PostgresRow] {
            try connection.query(PostgresQuery(sql: sql, binds: [.text(prefix)])).rows
        }
        let stored = try rows("SELECT request_id FROM events WHERE feature = $1").compactMap { $0["request_id"] }
        #expect(stored.count == Set(stored).count, "duplicates stored: \(stored.count - Set(stored).count)", sourceLocation: sourceLocation)
        #expect(acked.isSubset(of: Set(stored)), "acknowledged but missing: \(acked.subtracting(stored).count)", sourceLocation: sourceLocation)
        #expect(Set(stored).isSubset(of: acked), "stored but never acknowledged: \(Set(stored).subtracting(acked).count)", sourceLocation: sourceLocation)
        let calls = String(stored.count)
        for sql in ["SELECT coalesce(sum(calls), 0)::bigint AS n FROM rollup_minute WHERE feature = $1",
                    "SELECT coalesce(sum(calls), 0)::bigint AS n FROM rollup_day WHERE feature = $1",
                    "SELECT coalesce(sum(calls), 0)::bigint AS n FROM rollup_user_hour WHERE feature = $1",
                    "SELECT coalesce(sum(count), 0)::bigint AS n FROM sketch_hour WHERE metric = 0 AND feature = $1"] {
            #expect(try rows(sql).first?["n"] == calls, "\(sql) disagrees with the \(calls) stored events", sourceLocation: sourceLocation)
        }
    }
}
