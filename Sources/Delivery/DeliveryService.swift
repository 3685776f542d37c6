import Foundation
import TokenmeterCore

/// Runs a ``Deliverer`` on a thread of its own (its calls block on libpq and libcurl) until
/// stopped: a round whenever rows were due, else a pause of `pollInterval` (cut short by
/// ``wake()``, which the evaluator may call after enqueueing).
public final class DeliveryService: @unchecked Sendable {
    public let deliverer: Deliverer
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var stopping = false
    private var woken = false
    private var finished = false
    private var thread: Thread?

    public init(deliverer: Deliverer) {
        self.deliverer = deliverer
    }

    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil else { return }
        let thread = Thread { [self] in loop() }
        thread.name = "tokenmeter-delivery"
        self.thread = thread
        thread.start()
    }

    /// Ends the current attempt (at most the total timeout), then returns.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil && !finished { condition.wait() }
        condition.unlock()
    }

    public func wake() {
        condition.lock()
        woken = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        let pause = deliverer.configuration.pollInterval
        while true {
            condition.lock()
            let stop = stopping
            woken = false
            condition.unlock()
            if stop { break }
            var claimed = 0
            do {
                claimed = try deliverer.deliverDue()
            } catch {
                // Database trouble: the claimed rows come due again when their lease ends.
                deliverer.logger.warning("delivery round failed", ["error": String(describing: error)])
            }
            if claimed > 0 { continue }
            condition.lock()
            if !stopping && !woken { _ = condition.wait(until: Date().addingTimeInterval(pause)) }
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
