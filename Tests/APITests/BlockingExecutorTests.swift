import Foundation
import Synchronization
import Testing
@testable import API

struct BlockingExecutorTests {
    final class Payload: Sendable {}

    /// A job that has run must not stay referenced by the queue: jobs capture whole request bodies,
    /// and keeping the last few hundred alive held ~500 MB under large batches.
    @Test func finishedJobsReleaseWhatTheyCaptured() {
        let executor = BlockingExecutor(name: "test-executor", threads: 2, maxQueued: 1_000)
        defer { executor.shutdown() }
        let ran = Atomic<Int>(0)
        nonisolated(unsafe) var watchers: [() -> Bool] = []
        for _ in 0..<100 {
            let payload = Payload()
            weak let weakPayload = payload
            watchers.append { weakPayload != nil }
            #expect(executor.submit { _ = payload; ran.add(1, ordering: .relaxed) })
        }
        for _ in 0..<500 where ran.load(ordering: .relaxed) < 100 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(ran.load(ordering: .relaxed) == 100)
        Thread.sleep(forTimeInterval: 0.05)  // the last job's closure is released right after it returns
        #expect(watchers.filter { $0() }.count == 0, "payloads of finished jobs still alive")
    }

    @Test func aFullQueueRefuses() {
        let executor = BlockingExecutor(name: "test-executor-full", threads: 1, maxQueued: 2)
        defer { executor.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        #expect(executor.submit { gate.wait() })
        Thread.sleep(forTimeInterval: 0.05)  // the thread takes the first job and blocks
        #expect(executor.submit {})
        #expect(executor.submit {})
        #expect(!executor.submit {}, "a third queued job exceeds maxQueued = 2")
        gate.signal()
    }
}
