import Synchronization

/// Counts failed authentications per client address in fixed windows. Once an address has failed
/// `limit` times in the current window, its requests with a key that is not already known to be
/// valid are answered 429 without a database lookup until the window ends: a flood of random keys
/// can neither load the database nor probe for keys, while clients with valid keys behind the same
/// address keep working. Bounded memory: at most `maxAddresses` are tracked.
public final class AuthFailureLimiter: Sendable {
    private struct Window {
        var start: ContinuousClock.Instant
        var failures: Int
    }

    public let limit: Int
    public let window: Duration
    private let maxAddresses: Int
    private let windows = Mutex<[String: Window]>([:])

    /// `limit` 0 turns the limiter off.
    public init(limit: Int, window: Duration = .seconds(60), maxAddresses: Int = 100_000) {
        self.limit = limit
        self.window = window
        self.maxAddresses = maxAddresses
    }

    /// Seconds until `address` may try unknown keys again; nil when it may now.
    public func blockedFor(_ address: String, now: ContinuousClock.Instant) -> Int? {
        guard limit > 0 else { return nil }
        return windows.withLock { windows in
            guard let current = windows[address], now - current.start < window, current.failures >= limit else { return nil }
            let left = window - (now - current.start)
            return max(1, Int(left.components.seconds) + (left.components.attoseconds > 0 ? 1 : 0))
        }
    }

    public func recordFailure(_ address: String, now: ContinuousClock.Instant) {
        guard limit > 0 else { return }
        windows.withLock { windows in
            if var current = windows[address], now - current.start < window {
                current.failures += 1
                windows[address] = current
                return
            }
            if windows.count >= maxAddresses {
                windows = windows.filter { now - $0.value.start < window }
                if windows.count >= maxAddresses { windows.removeAll() }
            }
            windows[address] = Window(start: now, failures: 1)
        }
    }
}
