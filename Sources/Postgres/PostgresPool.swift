import Foundation

/// A fixed-size pool of blocking connections, shared by many threads.
///
/// `withConnection` lends a connection to the calling thread, opening one lazily while fewer
/// than `size` exist, otherwise waiting (first come, first served) up to `acquireTimeout`.
///
/// **After the server restarts** (or a backend is terminated), pooled connections are dead.
/// An idle connection is probed without blocking when it is checked out, and a dead one is
/// replaced by a fresh connection, so usually the next `withConnection` just works. If the
/// death is not visible yet, the first query in `body` throws `.connectionLost`
/// (`isRetryable == true`); that connection is discarded together with the idle ones (they
/// share its fate) and the next `withConnection` opens a new one. Callers that retry once on
/// `isRetryable` errors therefore ride through a restart.
/// The pool never retries `body` itself, because it cannot know whether `body` is idempotent.
public final class PostgresPool: Sendable {
    public let connectionString: String
    public let size: Int
    public let acquireTimeout: Duration
    public let applicationName: String

    private struct State {
        var machine: PoolStateMachine<PostgresConnection>
        var nextWaiter: UInt64 = 0
    }

    private enum WaitOutcome {
        case granted(PoolStateMachine<PostgresConnection>.Grant)
        case closed
    }

    private let state: ConditionLock<State>

    public init(
        connectionString: String, size: Int, acquireTimeout: Duration = .seconds(5),
        applicationName: String = "tokenmeter"
    ) {
        self.connectionString = connectionString
        self.size = size
        self.acquireTimeout = acquireTimeout
        self.applicationName = applicationName
        self.state = ConditionLock(State(machine: PoolStateMachine(capacity: size)))
    }

    deinit {
        close()
    }

    /// Runs `body` with a connection lent to this thread, then takes it back: rolled back if it
    /// was left inside a transaction, discarded if it is broken. Blocks while none is free.
    ///
    /// Throws `.poolTimeout` after `acquireTimeout`, `.connectionFailed` if a new connection
    /// could not be opened, `.poolClosed` after `close()`, or whatever `body` throws.
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try lend(try acquire(), to: body)
    }

    /// Runs `body` with a connection if one is free right now (idle, or a slot to open one in);
    /// nil at once otherwise. For optional extra work beside a connection the caller already holds:
    /// waiting for a second one while holding one could deadlock a pool whose every holder does so.
    public func withConnectionIfFree<T>(_ body: (PostgresConnection) throws -> T) throws -> T? {
        let action = state.withLock { $0.machine.acquireIfFree() }
        let connection: PostgresConnection
        switch action {
        case .use(let idle)?: connection = try checkedOut(idle)
        case .open?: connection = try openInOwnedSlot()
        default: return nil
        }
        return try lend(connection, to: body)
    }

    private func lend<T>(_ connection: PostgresConnection, to body: (PostgresConnection) throws -> T) throws -> T {
        do {
            let value = try body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// Whether a connection can be had and `SELECT 1` runs on it right now.
    public func checkHealth() -> Bool {
        (try? withConnection { try $0.query("SELECT 1") }) != nil
    }

    /// Connections that exist (idle, lent or being opened), idle ones, and threads waiting.
    public var stats: (open: Int, idle: Int, waiting: Int) {
        state.withLock { ($0.machine.open, $0.machine.idle.count, $0.machine.waitingCount) }
    }

    /// Closes idle connections now and lent ones when they come back; waiting and later
    /// callers get `.poolClosed`.
    public func close() {
        let idle = state.withLock { $0.machine.close() }
        state.broadcast()
        for connection in idle { connection.close() }
    }

    // MARK: lending

    private func acquire() throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(Self.seconds(acquireTimeout))
        let (waiter, action) = state.withLock { state -> (UInt64, PoolStateMachine<PostgresConnection>.AcquireAction) in
            state.nextWaiter += 1
            return (state.nextWaiter, state.machine.acquire(state.nextWaiter))
        }
        switch action {
        case .use(let connection):
            return try checkedOut(connection)
        case .open:
            return try openInOwnedSlot()
        case .closed:
            throw PostgresError.poolClosed
        case .wait:
            break
        }
        let outcome = state.wait(until: deadline) { state -> WaitOutcome? in
            if let grant = state.machine.takeGrant(waiter) { return .granted(grant) }
            if state.machine.isClosed {
                if let grant = state.machine.cancel(waiter) { return .granted(grant) }
                return .closed
            }
            return nil
        }
        let grant: PoolStateMachine<PostgresConnection>.Grant
        switch outcome {
        case .granted(let g):
            grant = g
        case .closed:
            throw PostgresError.poolClosed
        case nil:
            // Timed out; a grant may still have slipped in before we cancelled.
            guard let late = state.withLock({ $0.machine.cancel(waiter) }) else { throw PostgresError.poolTimeout }
            grant = late
        }
        switch grant {
        case .connection(let connection): return try checkedOut(connection)
        case .openNew: return try openInOwnedSlot()
        }
    }

    /// An idle connection may have died while it waited; if so, replace it in the same slot.
    private func checkedOut(_ connection: PostgresConnection) throws -> PostgresConnection {
        if connection.probeIsAlive() { return connection }
        connection.close()
        return try openInOwnedSlot()
    }

    /// Opens a connection for a slot the state machine already counted.
    private func openInOwnedSlot() throws -> PostgresConnection {
        do {
            return try PostgresConnection(connectionString: connectionString, applicationName: applicationName)
        } catch {
            if state.withLock({ $0.machine.openFailed() }) != nil { state.broadcast() }
            throw error
        }
    }

    /// A connection that came back broken most often means the server restarted or terminated
    /// backends, which kills the idle ones too, possibly before their probe can tell: they are
    /// closed with it, so a caller that retries once gets a fresh connection, not the next corpse.
    private func release(_ connection: PostgresConnection) {
        let reusable = connection.resetForReuse()
        let (discard, wake, evicted) = state.withLock { state in
            let (discard, wake) = state.machine.release(connection, reusable: reusable)
            return (discard, wake, reusable ? [] : state.machine.evictIdle())
        }
        if discard { connection.close() }
        for idle in evicted { idle.close() }
        if wake != nil { state.broadcast() }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// State guarded by an `NSCondition`, for threads that block until the state changes.
final class ConditionLock<State>: @unchecked Sendable {
    private let condition = NSCondition()
    private var state: State

    init(_ state: State) {
        self.state = state
    }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(&state)
    }

    /// Re-evaluates `check` under the lock on every wake-up until it returns a value, or returns
    /// nil once `deadline` passes.
    func wait<R>(until deadline: Date, _ check: (inout State) -> R?) -> R? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result = check(&state) { return result }
            if !condition.wait(until: deadline) { return check(&state) }
        }
    }

    func broadcast() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}
