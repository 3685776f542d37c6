import Synchronization

/// Values that move slowly (a week of history summarized), recomputed at most once per period
/// (an hour, a day) per key. Bounded: past `limit` keys it starts over.
public final class PeriodCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: (period: Int, value: Value)]>([:])
    private let limit: Int

    public init(limit: Int = 100_000) {
        self.limit = limit
    }

    /// The value kept for `key` in `period`, or `compute`'s, kept for the rest of the period.
    public func value(_ key: Key, period: Int, compute: () throws -> Value) rethrows -> Value {
        if let kept = entries.withLock({ $0[key] }), kept.period == period { return kept.value }
        let fresh = try compute()
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll() }
            entries[key] = (period, fresh)
        }
        return fresh
    }
}
