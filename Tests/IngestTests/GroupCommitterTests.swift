import Foundation
import Ingest
import Synchronization
import Testing
import TokenmeterCore

/// The group committer against an in-memory writer (the Postgres writer has its own integration tests).
struct GroupCommitterTests {
    /// Records batches; fails or blocks on demand.
    final class RecordingWriter: EventWriter, @unchecked Sendable {
        let batches = Mutex<[[String]]>([])
        let failures = Mutex<[StorageError]>([])
        let gate = DispatchSemaphore(value: 0)
        let gated: Bool
        let poison: String?

        init(gated: Bool = false, failures: [StorageError] = [], poison: String? = nil) {
            self.gated = gated
            self.poison = poison
            self.failures.withLock { $0 = failures }
        }

        func write(_ batch: [ProjectEvent]) throws -> Int {
            if gated { gate.wait() }
            if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
            if let poison, batch.contains(where: { $0.event.requestID == poison }) { throw StorageError.failed("poison") }
            batches.withLock { $0.append(batch.map(\.event.requestID)) }
            return batch.count
        }
    }

    static func events(_ ids: [String]) -> [ProjectEvent] {
        ids.map { ProjectEvent(project: ProjectID(1), event: Event(eventID: UUID(), timestamp: Date(), requestID: $0)) }
    }

    static func committer(_ writer: RecordingWriter, maxQueued: Int = 1000, retries: [Duration] = [.milliseconds(1)]) -> GroupCommitter {
        var configuration = GroupCommitter.Configuration()
        configuration.writerThreads = 1
        configuration.maxQueuedEvents = maxQueued
        configuration.retryDelays = retries
        return GroupCommitter(writer: writer, configuration: configuration, logger: Logger(label: "test", minimumLevel: .error), metrics: Metrics())
    }

    func submit(_ committer: GroupCommitter, _ ids: [String]) -> DispatchSemaphore & Sendable {
        let done = DispatchSemaphore(value: 0)
        committer.submit(GroupCommitterTests.events(ids)) { _ in done.signal() }
        return done
    }

    @Test func committedSubmissionsAreNotRetained() {
        final class Token: Sendable {}
        let writer = RecordingWriter()
        let committer = GroupCommitterTests.committer(writer)
        committer.start()
        weak var released: Token?
        let done = DispatchSemaphore(value: 0)
        do {
            let token = Token()
            released = token
            committer.submit(GroupCommitterTests.events(["a"])) { _ in
                withExtendedLifetime(token) {}
                done.signal()
            }
        }
        done.wait()
        // The one writer thread lets go of a batch when it takes the next, so once a second
        // submission is answered nothing but the queue could still hold the first.
        submit(committer, ["b"]).wait()
        #expect(released == nil, "the queue still holds a committed submission (its events and completion)")
        committer.shutdown()
    }

    @Test func requestsQueuedDuringACommitShareTheNextTransaction() {
        let writer = RecordingWriter(gated: true)
        let committer = GroupCommitterTests.committer(writer)
        committer.start()
        let first = submit(committer, ["a"])
        Thread.sleep(forTimeInterval: 0.05)  // the writer is now blocked inside the first transaction
        let waits = (0..<5).map { submit(committer, ["b\($0)"]) }
        writer.gate.signal()
        first.wait()
        writer.gate.signal()
        waits.forEach { $0.wait() }
        committer.shutdown()
        let batches = writer.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.first == ["a"])
        #expect(batches.last?.count == 5)
    }

    @Test func overloadIsRefusedImmediately() {
        let writer = RecordingWriter(gated: true)
        let committer = GroupCommitterTests.committer(writer, maxQueued: 10)
        committer.start()
        let first = submit(committer, ["busy"])
        Thread.sleep(forTimeInterval: 0.05)
        let queued = submit(committer, (0..<8).map { "q\($0)" })
        let outcome = Mutex<GroupCommitter.Failure?>(nil)
        let refused = DispatchSemaphore(value: 0)
        committer.submit(GroupCommitterTests.events((0..<5).map { "r\($0)" })) { result in
            if case .failure(let failure) = result { outcome.withLock { $0 = failure } }
            refused.signal()
        }
        refused.wait()
        if case .overloaded? = outcome.withLock({ $0 }) {} else { Issue.record("expected overloaded, got \(String(describing: outcome.withLock { $0 }))") }
        writer.gate.signal(); writer.gate.signal()
        first.wait(); queued.wait()
        committer.shutdown()
    }

    @Test func transientFailuresAreRetriedThenReported() {
        let writer = RecordingWriter(failures: [.unavailable("down"), .unavailable("down"), .unavailable("down")])
        let committer = GroupCommitterTests.committer(writer, retries: [.milliseconds(1)])
        committer.start()
        let results = Mutex<[Bool]>([])
        for _ in 0..<2 {
            let done = DispatchSemaphore(value: 0)
            committer.submit(GroupCommitterTests.events(["x"])) { result in
                results.withLock { $0.append((try? result.get()) != nil) }
                done.signal()
            }
            done.wait()
        }
        committer.shutdown()
        // First submission: 2 attempts fail (1 retry allowed) → reported. Second: 1 failure, then success.
        #expect(results.withLock { $0 } == [false, true])
    }

    @Test func aPermanentFailureDoesNotSinkOtherRequestsInTheBatch() {
        let writer = RecordingWriter(gated: true, poison: "poison")
        let committer = GroupCommitterTests.committer(writer)
        committer.start()
        let blocker = submit(committer, ["first"])
        Thread.sleep(forTimeInterval: 0.05)
        let outcomes = Mutex<[String: Bool]>([:])
        let waits = ["a", "poison", "b"].map { id -> DispatchSemaphore in
            let done = DispatchSemaphore(value: 0)
            committer.submit(GroupCommitterTests.events([id])) { result in
                outcomes.withLock { $0[id] = (try? result.get()) != nil }
                done.signal()
            }
            return done
        }
        for _ in 0..<5 { writer.gate.signal() }
        blocker.wait(); waits.forEach { $0.wait() }
        committer.shutdown()
        // The merged batch [a, poison, b] failed permanently, was split, and only poison failed.
        #expect(outcomes.withLock { $0 } == ["a": true, "poison": false, "b": true])
        #expect(writer.batches.withLock { $0 } == [["first"], ["a"], ["b"]])
    }

    @Test func shutdownCommitsEverythingQueued() {
        let writer = RecordingWriter()
        let committer = GroupCommitterTests.committer(writer)
        committer.start()
        let count = Atomic<Int>(0)
        for i in 0..<100 { committer.submit(GroupCommitterTests.events(["s\(i)"])) { _ in count.add(1, ordering: .relaxed) } }
        committer.shutdown()
        #expect(count.load(ordering: .relaxed) == 100)
        #expect(writer.batches.withLock { $0.flatMap { $0 } }.count == 100)
        let late = Mutex<Bool>(false)
        committer.submit(GroupCommitterTests.events(["late"])) { result in
            if case .failure(.shuttingDown) = result { late.withLock { $0 = true } }
        }
        #expect(late.withLock { $0 })
    }
}
