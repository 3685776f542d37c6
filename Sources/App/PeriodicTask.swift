import Foundation
import Synchronization
import TokenmeterCore

/// Runs `work` on its own thread every `interval` (sooner when `work` says there is more to do) until
/// `stop()`, which wakes the thread and waits for it. Background maintenance must not occupy the
/// query or writer threads, and blocking libpq calls do not belong on Swift concurrency's two threads.
final class PeriodicTask: Sendable {
    private let name: String
    private let interval: Duration
    private let work: @Sendable () throws -> Bool
    private let logger: Logger
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)

    /// `work` returns true when it should run again at once (a backlog remains).
    init(name: String, interval: Duration, logger: Logger, work: @escaping @Sendable () throws -> Bool) {
        self.name = name
        self.interval = interval
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
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while !stopping.load(ordering: .acquiring) {
            var again = false
            do {
                again = try work()
            } catch {
                logger.warning("\(name) failed; retrying later", ["error": String(describing: error)])
            }
            if again { continue }
            _ = wake.wait(timeout: .now() + seconds)
        }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake.signal()
        finished.wait()
    }
}
