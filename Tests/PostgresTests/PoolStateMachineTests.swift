import Testing

@testable import Postgres

struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<String>

    @Test func opensLazilyUpToCapacityThenQueues() {
        var pool = Machine(capacity: 2)
        #expect(isOpen(pool.acquire(1)))
        #expect(isOpen(pool.acquire(2)))
        #expect(isWait(pool.acquire(3)))
        #expect(pool.open == 2)
        #expect(pool.waitingCount == 1)
    }

    @Test func releasedConnectionGoesToOldestWaiter() {
        var pool = Machine(capacity: 1)
        _ = pool.acquire(1)
        _ = pool.acquire(2)
        _ = pool.acquire(3)
        let first = pool.release("c", reusable: true)
        #expect(first.wake == 2 && !first.discard)
        #expect(pool.takeGrant(3) == nil)
        guard case .connection("c")? = pool.takeGrant(2) else { Issue.record("waiter 2 got nothing"); return }
        let second = pool.release("c", reusable: true)
        #expect(second.wake == 3)
        let third = pool.release("c", reusable: true)
        #expect(third.wake == nil)
        #expect(pool.idle == ["c"])
    }

    @Test func newcomersDoNotOvertakeWaiters() {
        var pool = Machine(capacity: 1)
        _ = pool.acquire(1)
        _ = pool.acquire(2)
        _ = pool.release("c", reusable: true)  // granted to 2
        #expect(isWait(pool.acquire(3)))
    }

    @Test func discardedConnectionLetsNextWaiterOpenAFreshOne() {
        var pool = Machine(capacity: 1)
        _ = pool.acquire(1)
        _ = pool.acquire(2)
        let released = pool.release("dead", reusable: false)
        #expect(released.discard)
        #expect(released.wake == 2)
        guard case .openNew? = pool.takeGrant(2) else { Issue.record("expected permission to open"); return }
        #expect(pool.open == 1)
    }

    @Test func failedOpenPassesItsSlotOn() {
        var pool = Machine(capacity: 1)
        _ = pool.acquire(1)
        _ = pool.acquire(2)
        #expect(pool.openFailed() == 2)
        #expect(pool.open == 1)
        #expect(pool.openFailed() == nil)
        #expect(pool.open == 0)
    }

    @Test func cancelledWaiterLeavesTheQueueOrReturnsALateGrant() {
        var pool = Machine(capacity: 1)
        _ = pool.acquire(1)
        _ = pool.acquire(2)
        #expect(pool.cancel(2) == nil)
        #expect(pool.waitingCount == 0)
        _ = pool.acquire(3)
        _ = pool.release("c", reusable: true)
        guard case .connection("c")? = pool.cancel(3) else { Issue.record("late grant lost"); return }
    }

    @Test func closeReturnsIdleAndRefusesNewcomers() {
        var pool = Machine(capacity: 2)
        _ = pool.acquire(1)
        _ = pool.acquire(2)
        _ = pool.release("a", reusable: true)
        #expect(pool.close() == ["a"])
        guard case .closed = pool.acquire(3) else { Issue.record("expected closed"); return }
        #expect(pool.release("b", reusable: true).discard)
        #expect(pool.open == 0)
    }

    /// Taking a connection only if one is free never queues and never overtakes a waiter.
    @Test func acquireIfFreeTakesIdleOrASlotButNeverWaits() {
        var pool = Machine(capacity: 2)
        guard case .open? = pool.acquireIfFree() else { Issue.record("a free slot was not offered"); return }
        _ = pool.release("c", reusable: true)
        guard case .use("c")? = pool.acquireIfFree() else { Issue.record("the idle connection was not offered"); return }
        #expect(isOpen(pool.acquire(1)))
        #expect(pool.acquireIfFree().map(isOpen) == nil)  // both in use: nil, nothing queued
        #expect(pool.waitingCount == 0 && pool.open == 2)
        #expect(isWait(pool.acquire(2)))
        _ = pool.release("c", reusable: true)  // granted to waiter 2, not idle
        #expect(pool.acquireIfFree().map(isOpen) == nil)
        _ = pool.takeGrant(2)
        _ = pool.release("c", reusable: true)
        _ = pool.release("d", reusable: true)
        #expect(pool.acquireIfFree().map(isOpen) == false)  // an idle one, not a new slot
    }

    private func isOpen(_ action: Machine.AcquireAction) -> Bool {
        if case .open = action { return true }
        return false
    }

    private func isWait(_ action: Machine.AcquireAction) -> Bool {
        if case .wait = action { return true }
        return false
    }

    @Test func evictingIdleFreesTheirSlots() {
        var pool = Machine(capacity: 3)
        for waiter in 1...3 { _ = pool.acquire(UInt64(waiter)) }
        _ = pool.release("a", reusable: true)
        _ = pool.release("b", reusable: true)
        #expect(pool.release("c", reusable: false).discard)
        #expect(pool.evictIdle().sorted() == ["a", "b"])
        #expect(pool.idle.isEmpty && pool.open == 0)
        #expect(isOpen(pool.acquire(4)))
    }
}
