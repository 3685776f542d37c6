import Foundation
import Synchronization

/// A fixed set of threads for work that blocks (libpq calls, JSON decoding of big bodies), so it never
/// runs on an event loop or on Swift's two-thread cooperative pool. The queue is bounded: when full,
/// `submit` returns false and the caller answers 429.
public final class BlockingExecutor: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var stopping = false
    }
    private static let taken: @Sendable () -> Void = {}
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let threads: Int
    private let maxQueued: Int

    public init(name: String, threads: Int, maxQueued: Int) {
        self.threads = threads
        self.maxQueued = maxQueued
        for i in 0..<threads {
            let thread = Thread { [self] in self.run() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    public var queued: Int { state.withLock { $0.jobs.count - $0.head } }

    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard !s.stopping, s.jobs.count - s.head < maxQueued else { return false }
            s.jobs.append(job)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Runs what is queued, then stops the threads.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        for _ in 0..<threads { available.signal() }
        for _ in 0..<threads { done.wait() }
    }

    private func run() {
        while true {
            available.wait()
            let job: (@Sendable () -> Void)? = state.withLock { s in
                guard s.head < s.jobs.count else { return nil }
                let job = s.jobs[s.head]
                // Release the slot now: a taken job still in the array keeps what it captured (a
                // whole request body) alive until the next compaction, up to 256 bodies — this held
                // ~500 MB under batches of 1000 events with text.
                s.jobs[s.head] = BlockingExecutor.taken
                s.head += 1
                if s.head > 256, s.head * 2 > s.jobs.count {
                    s.jobs.removeFirst(s.head)
                    s.head = 0
                }
                return job
            }
            if let job {
                job()
                continue
            }
            if state.withLock({ $0.stopping && $0.head >= $0.jobs.count }) { break }
        }
        done.signal()
    }
}
