import Dispatch
import Glibc
import Synchronization

/// An HTTP/1.1 server: `eventLoopThreads` threads, each with its own epoll instance, accepting on a shared
/// port and handing complete requests to an `HTTPResponder`.
public final class HTTPServer: Sendable {
    private enum Phase {
        case idle
        case running(loops: [EventLoop], threads: [pthread_t])
        case stopped
    }

    private let context: ServerContext
    private let phase = Mutex<Phase>(.idle)
    private let port = Atomic<Int>(0)

    public init(configuration: HTTPServerConfiguration, responder: some HTTPResponder) {
        context = ServerContext(configuration: configuration, responder: responder)
    }

    /// The port actually bound (useful with `port = 0`); 0 before `start()`.
    public var boundPort: Int { port.load(ordering: .acquiring) }

    /// Connections currently open (not counting those being turned away with 503).
    public var openConnections: Int { context.openConnections.load(ordering: .relaxed) }

    /// Binds, listens and starts the loop threads. Throws `HTTPServerError`, e.g. when the address is in use.
    public func start() throws {
        try phase.withLock { phase throws(HTTPServerError) in
            guard case .idle = phase else { throw .alreadyStarted }
            let configuration = context.configuration
            let loopCount = max(1, configuration.eventLoopThreads)
            let listeners = try openListeners(count: loopCount)
            var loops: [EventLoop] = []
            do throws(SystemError) {
                for index in 0..<loopCount {
                    let exclusive = configuration.listenerStrategy == .exclusiveWakeup
                    loops.append(try EventLoop(
                        context: context, listener: listeners[exclusive ? 0 : index], exclusive: exclusive))
                }
            } catch {
                for listener in listeners { Glibc.close(listener.fd) }
                throw .system(error)
            }
            var threads: [pthread_t] = []
            for loop in loops {
                do throws(SystemError) {
                    threads.append(try startThread { loop.run() })
                } catch {
                    // Loops already running stop through the normal path; the others never ran.
                    for started in loops.prefix(threads.count) { started.mailbox.send(.shutdown(deadline: 0)) }
                    for thread in threads { pthread_join(thread, nil) }
                    throw .system(error)
                }
            }
            phase = .running(loops: loops, threads: threads)
        }
    }

    private func openListeners(count: Int) throws(HTTPServerError) -> [ListeningSocket] {
        let configuration = context.configuration
        let host = configuration.host
        let address = try SocketAddress.resolve(host: host, port: configuration.port)
        switch configuration.listenerStrategy {
        case .exclusiveWakeup:
            let (fd, bound) = try makeListeningSocket(
                address: address, host: host, port: configuration.port, reusePort: false,
                backlog: configuration.backlog)
            port.store(bound, ordering: .releasing)
            return [ListeningSocket(fd: fd, holders: count)]
        case .reusePort:
            var wanted = configuration.port
            if wanted != 0 {
                // SO_REUSEPORT would let us share a port another server of the same user holds:
                // a plain bind first turns that into the usual "address in use".
                let probe = try makeListeningSocket(
                    address: address, host: host, port: wanted, reusePort: false, listening: false,
                    backlog: configuration.backlog)
                Glibc.close(probe.fd)
            }
            var sockets: [ListeningSocket] = []
            do {
                for _ in 0..<count {
                    let (fd, bound) = try makeListeningSocket(
                        address: address, host: host, port: wanted, reusePort: true, backlog: configuration.backlog)
                    wanted = bound
                    sockets.append(ListeningSocket(fd: fd, holders: 1))
                }
            } catch {
                for socket in sockets { Glibc.close(socket.fd) }
                throw error
            }
            port.store(wanted, ordering: .releasing)
            return sockets
        }
    }

    /// Closes the listening sockets; open connections carry on. Waits (briefly) until every loop has
    /// let go of its listener, unless called from a loop thread.
    public func stopAccepting() {
        let loops = phase.withLock { phase -> [EventLoop] in
            if case .running(let loops, _) = phase { return loops }
            return []
        }
        var waits: [DispatchSemaphore] = []
        for loop in loops {
            if loop.mailbox.isLoopThread {
                loop.mailbox.send(.stopAccepting(nil))
            } else {
                let done = DispatchSemaphore(value: 0)
                loop.mailbox.send(.stopAccepting(done))
                waits.append(done)
            }
        }
        for done in waits { _ = done.wait(timeout: .now() + 5) }
    }

    /// Stops accepting, closes idle keep-alive connections, lets requests in flight finish (their
    /// responses written, then the connection closed) for up to `gracePeriod`, then closes whatever is
    /// left and joins the loop threads. Must not be called from a responder on a loop thread (that thread
    /// cannot be joined from itself; it is then left to finish on its own).
    public func shutdown(gracePeriod: Duration) {
        let taken = phase.withLock { phase -> ([EventLoop], [pthread_t]) in
            guard case .running(let loops, let threads) = phase else { return ([], []) }
            phase = .stopped
            return (loops, threads)
        }
        let (loops, threads) = taken
        guard !loops.isEmpty else { return }
        let deadline = monotonicNanoseconds() &+ max(0, gracePeriod.nanoseconds)
        for loop in loops { loop.mailbox.send(.shutdown(deadline: deadline)) }
        for (loop, thread) in zip(loops, threads) {
            if loop.mailbox.isLoopThread {
                pthread_detach(thread)
            } else {
                pthread_join(thread, nil)
            }
        }
    }
}
