import Foundation
import Ingest
import Synchronization
import TokenmeterCore

/// Runs `work` on its own thread every `interval` (sooner when `work` says there is more to do) until
/// `stop()`, which wakes the thread and waits for it. Background maintenance must not occupy the
/// query or writer threads, and blocking libpq calls do not belong on Swift concurrency's two threads.
/// With a `dutyCycle`, a pass that took long is followed by a longer pause, so that the task
/// takes at most that share of one core however much data its passes read.
final class PeriodicTask: Sendable {
    private let name: String
    private let interval: Duration
    private let dutyCycle: Double?
    private let work: @Sendable () throws -> Bool
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)

    /// `work` returns true when it should run again at once (a backlog remains).
    init(name: String, interval: Duration, dutyCycle: Double? = nil, logger: Logger, work: @escaping @Sendable () throws -> Bool) {
        self.name = name
        self.interval = interval
        self.dutyCycle = dutyCycle
        self.logger = logger
        self.work = work
    }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    private func run() {
        defer { finished.signal() }
        let seconds = interval.seconds
        while !stopping.load(ordering: .acquiring) {
            var again = false
            let started = ContinuousClock.now
            do {
                again = try work()
            } catch {
                logger.warning("\(name) failed; retrying later", ["error": String(describing: error)])
            }
            let pause = PeriodicTask.pause(interval: seconds, took: (ContinuousClock.now - started).seconds, dutyCycle: dutyCycle)
            if again && pause <= seconds { continue }
            _ = wake.wait(timeout: .now() + pause)
        }
    }

    /// Seconds to wait after a pass that took `took` seconds: the interval, or longer when the
    /// pass would otherwise keep the task busy more than `dutyCycle` of the time.
    static func pause(interval: Double, took: Double, dutyCycle: Double?) -> Double {
        guard let dutyCycle, dutyCycle > 0, dutyCycle < 1 else { return interval }
        return max(interval, took * (1 - dutyCycle) / dutyCycle)
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
        finished.wait()
    }
}
