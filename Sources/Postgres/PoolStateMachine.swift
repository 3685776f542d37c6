/// The bookkeeping of a connection pool, with no I/O, no locks and no knowledge of Postgres:
/// the pool calls it under its lock and carries out the returned actions outside.
///
/// Rules:
/// - at most `capacity` connections exist (idle + leased + being opened);
/// - a waiter is served strictly in arrival order: a released connection goes to the oldest
///   waiter, never back to the idle list while someone waits;
/// - a discarded connection, or an open that failed, hands its slot to the oldest waiter
///   as permission to open a fresh connection.
struct PoolStateMachine<Connection> {
    typealias WaiterID = UInt64

    /// What a waiter may do once woken.
    enum Grant {
        case connection(Connection)
        case openNew
    }

    enum AcquireAction {
        case use(Connection)
        case open
        case wait
        case closed
    }

    let capacity: Int
    private(set) var idle: [Connection] = []
    /// Connections that exist or are being opened (idle + leased + opening).
    private(set) var open = 0
    private var waiters: [WaiterID] = []
    private var waiterHead = 0
    private var grants: [WaiterID: Grant] = [:]
    private(set) var isClosed = false

    init(capacity: Int) {
        precondition(capacity > 0, "a pool needs at least one connection")
        self.capacity = capacity
    }

    var waitingCount: Int { waiters.count - waiterHead }

    /// A caller wants a connection. `.open` means it owns a new slot and must open a connection
    /// (then report `opened` or `openFailed`); `.wait` means it must wait for `takeGrant`.
    mutating func acquire(_ waiter: WaiterID) -> AcquireAction {
        if isClosed { return .closed }
        if waitingCount == 0 {
            if let connection = idle.popLast() { return .use(connection) }
            if open < capacity {
                open += 1
                return .open
            }
        }
        waiters.append(waiter)
        return .wait
    }

    /// A caller that would rather do without than wait: `.use` or `.open` when a connection or a
    /// slot is free right now (and nobody waits for one), else nil with nothing recorded.
    mutating func acquireIfFree() -> AcquireAction? {
        if isClosed || waitingCount > 0 { return nil }
        if let connection = idle.popLast() { return .use(connection) }
        guard open < capacity else { return nil }
        open += 1
        return .open
    }

    /// The grant for a waiter, if one arrived. Removes it.
    mutating func takeGrant(_ waiter: WaiterID) -> Grant? {
        grants.removeValue(forKey: waiter)
    }

    /// A waiter gave up (timeout). Returns a grant that reached it in the meantime, which the
    /// caller must use or pass back with `release`/`openFailed`.
    mutating func cancel(_ waiter: WaiterID) -> Grant? {
        if let grant = grants.removeValue(forKey: waiter) { return grant }
        if let index = waiters[waiterHead...].firstIndex(of: waiter) { waiters.remove(at: index) }
        compactWaiters()
        return nil
    }

    /// A leased connection comes back. With `reusable == false`, or once the pool is closed,
    /// it is discarded: `discard` is true and the caller closes it. `wake` is the waiter that
    /// was granted the connection or its slot.
    mutating func release(_ connection: Connection, reusable: Bool) -> (discard: Bool, wake: WaiterID?) {
        if !reusable || isClosed {
            open -= 1
            return (true, isClosed ? nil : grantOpenToNextWaiter())
        }
        if let waiter = popWaiter() {
            grants[waiter] = .connection(connection)
            return (false, waiter)
        }
        idle.append(connection)
        return (false, nil)
    }

    /// Takes every idle connection out of the pool (the caller closes them) and frees their slots;
    /// the next callers open fresh ones. While connections are idle nobody waits, so no one is woken.
    mutating func evictIdle() -> [Connection] {
        let evicted = idle
        open -= idle.count
        idle = []
        return evicted
    }

    /// Opening a connection failed: its slot is freed and offered to the next waiter.
    mutating func openFailed() -> WaiterID? {
        open -= 1
        return isClosed ? nil : grantOpenToNextWaiter()
    }

    /// Closing: returns the idle connections to close; leased ones are discarded on release,
    /// and every waiter must be woken to fail.
    mutating func close() -> [Connection] {
        isClosed = true
        let toClose = idle
        open -= idle.count
        idle = []
        return toClose
    }

    private mutating func grantOpenToNextWaiter() -> WaiterID? {
        guard open < capacity, let waiter = popWaiter() else { return nil }
        open += 1
        grants[waiter] = .openNew
        return waiter
    }

    private mutating func popWaiter() -> WaiterID? {
        guard waiterHead < waiters.count else { return nil }
        let waiter = waiters[waiterHead]
        waiterHead += 1
        compactWaiters()
        return waiter
    }

    private mutating func compactWaiters() {
        if waiterHead == waiters.count {
            waiters.removeAll(keepingCapacity: true)
            waiterHead = 0
        } else if waiterHead > 64 && waiterHead * 2 > waiters.count {
            waiters.removeFirst(waiterHead)
            waiterHead = 0
        }
    }
}
