import Foundation
import Synchronization
import TokenmeterCore

/// Group commit: requests hand over their events and a completion; writer threads take everything
/// queued (up to `maxBatchEvents`) into one transaction and complete every request in it once it is
/// committed. Under light load a batch is one request (low latency); under heavy load batches grow by
/// themselves (high throughput). A 2xx is only ever sent after the commit.
public final class GroupCommitter: Sendable {
    public struct Configuration: Sendable {
        public var writerThreads = 2
        public var maxBatchEvents = 5_000
        /// Beyond this many queued events new submissions are refused (429): bounded memory under overload.
        public var maxQueuedEvents = 200_000
        /// Transient failures are retried (safe: writes are idempotent) with these pauses before giving up.
        public var retryDelays: [Duration] = [.milliseconds(100), .milliseconds(400), .milliseconds(1000)]
        public init() {}
    }

    public enum Failure: Error, Sendable {
        /// Too much queued already; retry shortly.
        case overloaded
        /// Storage is down or failing; retry after a pause.
        case unavailable(String)
        /// Shutting down; no new work.
        case shuttingDown
        /// Storage refused the data itself (a bug, not an outage): 500, not retried.
        case rejected(String)
    }

    public typealias Completion = @Sendable (Result<Int, Failure>) -> Void

    private struct Submission: Sendable {
        let events: [ProjectEvent]
        let completion: Completion

        /// Left in a taken slot, so the queue (compacted only now and then) does not keep the
        /// events and the completion alive: with batches of hundreds of events, up to 1024 taken
        /// slots held hundreds of MB.
        static let taken = Submission(events: [], completion: { _ in })
    }

    private struct State {
        var queue: [Submission] = []
        var head = 0
        var queuedEvents = 0
        var stopping = false
        var runningWriters = 0
    }

    private let configuration: Configuration
    private let writer: any EventWriter
    private let logger: Logger
    private let metrics: Metrics
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    public init(writer: any EventWriter, configuration: Configuration = Configuration(), logger: Logger, metrics: Metrics) {
        self.writer = writer
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        metrics.gauge("tokenmeter_ingest_queued_events", help: "Events waiting for a commit.") { [weak self] in
            Double(self?.queuedEvents ?? 0)
        }
    }

    public var queuedEvents: Int { state.withLock { $0.queuedEvents } }

    public func start() {
        state.withLock { $0.runningWriters = configuration.writerThreads }
        for i in 0..<configuration.writerThreads {
            let thread = Thread { [self] in self.runWriter() }
            thread.name = "tokenmeter-writer-\(i)"
            thread.start()
        }
    }

    /// Hands events over; `completion` runs on a writer thread after commit or failure.
    public func submit(_ events: [ProjectEvent], completion: @escaping Completion) {
        if events.isEmpty { completion(.success(0)); return }
        let refusal: Failure? = state.withLock { s in
            if s.stopping { return .shuttingDown }
            if s.queuedEvents > 0, s.queuedEvents + events.count > configuration.maxQueuedEvents { return .overloaded }
            s.queue.append(Submission(events: events, completion: completion))
            s.queuedEvents += events.count
            return nil
        }
        if let refusal {
            metrics.increment("tokenmeter_ingest_refused_total", labels: [("reason", refusal.reason)], help: "Submissions refused before reaching storage.")
            completion(.failure(refusal))
            return
        }
        wake.signal()
    }

    /// Stops taking work, commits everything already queued, then stops the writer threads.
    public func shutdown() {
        let writers = state.withLock { s -> Int in
            s.stopping = true
            return s.runningWriters
        }
        for _ in 0..<writers { wake.signal() }
        for _ in 0..<writers { finished.wait() }
    }

    private func takeBatch() -> [Submission]? {
        while true {
            let taken: [Submission]? = state.withLock { s in
                guard s.head < s.queue.count else { return s.stopping ? nil : [] }
                var batch: [Submission] = []
                var count = 0
                while s.head < s.queue.count {
                    let next = s.queue[s.head]
                    if !batch.isEmpty, count + next.events.count > configuration.maxBatchEvents { break }
                    batch.append(next)
                    count += next.events.count
                    s.queue[s.head] = .taken
                    s.head += 1
                }
                s.queuedEvents -= count
                if s.head > 1024, s.head * 2 > s.queue.count {
                    s.queue.removeFirst(s.head)
                    s.head = 0
                }
                return batch
            }
            guard let taken else { return nil }
            if !taken.isEmpty { return taken }
            wake.wait()
        }
    }

    private func runWriter() {
        while let batch = takeBatch() {
            commit(batch)
        }
        finished.signal()
    }

    private func commit(_ batch: [Submission]) {
        let events = batch.flatMap(\.events)
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                let inserted = try writer.write(events)
                let seconds = (ContinuousClock.now - started).seconds
                metrics.observe("tokenmeter_ingest_commit_seconds", seconds, help: "Time from batch start to commit.")
                metrics.increment("tokenmeter_ingest_events_committed_total", by: Double(inserted), help: "New events committed to storage.")
                metrics.increment("tokenmeter_ingest_events_duplicate_total", by: Double(events.count - inserted), help: "Re-sent events recognized as already stored.")
                metrics.increment("tokenmeter_ingest_batches_total", help: "Group-commit transactions.")
                // Attribution of "new vs duplicate" per request is not needed by clients; report accepted counts.
                for submission in batch { submission.completion(.success(submission.events.count)) }
                return
            } catch {
                let transient: Bool
                if case StorageError.failed = error { transient = false } else { transient = true }
                if transient, attempt < configuration.retryDelays.count {
                    Thread.sleep(forTimeInterval: configuration.retryDelays[attempt].seconds)
                    attempt += 1
                    continue
                }
                if !transient, batch.count > 1 {
                    // One request's data must not sink the others grouped with it: commit each alone.
                    for submission in batch { commit([submission]) }
                    return
                }
                logger.error("ingest batch failed", ["batch.events": String(events.count), "error": String(describing: error)])
                metrics.increment("tokenmeter_ingest_batch_failures_total", help: "Batches that could not be committed.")
                let failure: Failure = transient ? .unavailable(String(describing: error)) : .rejected(String(describing: error))
                for submission in batch { submission.completion(.failure(failure)) }
                return
            }
        }
    }
}

extension GroupCommitter.Failure {
    var reason: String {
        switch self {
        case .overloaded: return "overloaded"
        case .unavailable: return "unavailable"
        case .shuttingDown: return "shutting_down"
        case .rejected: return "rejected"
        }
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
