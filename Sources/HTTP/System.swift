import CLinux
import Glibc

/// A failed system call: which call and the `errno` it left.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Outcome of a non-blocking call: it either did something or would have blocked.
enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// Every syscall goes through here: retries `EINTR`, maps `EAGAIN`/`EWOULDBLOCK` to `.wouldBlock`,
/// and turns any other negative return into a `SystemError`.
@inline(__always)
func syscall<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .done(result) }
        let code = Glibc.errno
        switch code {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        default: throw SystemError(call.description, errno: code)
        }
    }
}

/// For calls that cannot block (setup calls): `EAGAIN` is reported as an error too.
@inline(__always)
@discardableResult
func syscallOrThrow<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> T {
    switch try syscall(call, body) {
    case .done(let value): return value
    case .wouldBlock: throw SystemError(call.description, errno: EAGAIN)
    }
}

/// Monotonic time in nanoseconds; the only clock the event loop reads.
@inline(__always)
func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return product &+ attoseconds / 1_000_000_000
    }
}

/// Starts a joinable POSIX thread (never Swift's cooperative pool: the loop blocks in `epoll_wait`).
func startThread(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body))
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { argument in
        let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
        box.body()
        return nil
    }, box.toOpaque())
    if rc != 0 {
        box.release()
        throw SystemError("pthread_create", errno: rc)
    }
    return thread
}
