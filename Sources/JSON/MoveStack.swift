/// A growable stack whose top elements can be *moved* out into a new array, so building a
/// container from parsed children neither copies (retains) nor destroys (releases) them.
final class MoveStack<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always)
    func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count &+= 1
    }

    private func grow() {
        let newCapacity = capacity * 2
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Moves the elements from `start` to the top into a new array (bottom first).
    func popArray(from start: Int) -> [Element] {
        let n = count - start
        precondition(n >= 0)
        guard n > 0 else { return [] }
        let result = [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: base + start, count: n)
            initialized = n
        }
        count = start
        return result
    }

    /// Forgets the elements from `start` up, which the caller has already moved out.
    func dropMoved(from start: Int) {
        precondition(start >= 0 && start <= count)
        count = start
    }

    func removeAll() {
        base.deinitialize(count: count)
        count = 0
    }
}
