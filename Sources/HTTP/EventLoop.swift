import CLinux
import Dispatch
import Glibc
import Synchronization

/// What other threads ask of a loop.
enum LoopMessage: Sendable {
    case response(fd: Int32, connectionID: UInt64, sequence: UInt64, HTTPResponse)
    case stopAccepting(DispatchSemaphore?)
    case shutdown(deadline: Int64)
}

/// The only part of a loop other threads touch: a locked queue plus an eventfd to wake `epoll_wait`.
final class LoopMailbox: Sendable {
    let eventFD: Int32
    private let queue = Mutex<[LoopMessage]>([])
    private let wakePending = Atomic<Bool>(false)
    private let loopThread = Atomic<UInt>(0)

    init() throws(SystemError) {
        eventFD = try syscallOrThrow("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    deinit {
        Glibc.close(eventFD)
    }

    func bind(toCurrentThread: Void) {
        loopThread.store(UInt(pthread_self()), ordering: .releasing)
    }

    var isLoopThread: Bool {
        loopThread.load(ordering: .acquiring) == UInt(pthread_self())
    }

    func send(_ message: LoopMessage) {
        queue.withLock { $0.append(message) }
        // The loop drains its queue after every batch of events, so it need not wake itself.
        if isLoopThread { return }
        if !wakePending.exchange(true, ordering: .sequentiallyConsistent) {
            var one: UInt64 = 1
            _ = try? syscall("write") { Glibc.write(eventFD, &one, 8) }
        }
    }

    /// Swaps the queued messages into `spare` (which must be empty), so no allocation happens per drain.
    func drain(into spare: inout [LoopMessage]) {
        wakePending.store(false, ordering: .sequentiallyConsistent)
        queue.withLock { swap(&$0, &spare) }
    }

    func acknowledgeWake() {
        var value: UInt64 = 0
        _ = try? syscall("read") { Glibc.read(eventFD, &value, 8) }
    }
}

/// What all loops of one server share.
final class ServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let timeouts: ConnectionTimeouts
    let openConnections = Atomic<Int>(0)

    init(configuration: HTTPServerConfiguration, responder: any HTTPResponder) {
        self.configuration = configuration
        self.responder = responder
        self.timeouts = configuration.timeouts
    }
}

/// One thread, one epoll instance, the connections it accepted.
///
/// `@unchecked Sendable`: only `mailbox` and `context` (both Sendable) are used from other threads. Every
/// other property is touched only by the loop's own thread inside `run()`; the creating thread hands the
/// object to that thread before `run()` starts and touches nothing afterwards.
final class EventLoop: @unchecked Sendable {
    let mailbox: LoopMailbox
    let context: ServerContext
    private let epollFD: Int32
    private var listener: ListeningSocket?
    private var exclusiveListener: Bool
    private var acceptPaused = false
    private var connections: [Connection?] = []
    private var liveConnections = 0
    private var nextConnectionID: UInt64 = 0
    private var messages: [LoopMessage] = []
    private let tickInterval: Int64
    private var shutdownDeadline: Int64?

    /// Read buffer shared by this loop's connections.
    let scratch: UnsafeMutableRawBufferPointer
    /// Monotonic time of the current iteration, in nanoseconds.
    private(set) var now: Int64
    private var dateCache = HTTPDateCache()
    var isShuttingDown: Bool { shutdownDeadline != nil }

    init(context: ServerContext, listener: ListeningSocket, exclusive: Bool) throws(SystemError) {
        self.context = context
        self.listener = listener
        self.exclusiveListener = exclusive
        mailbox = try LoopMailbox()
        epollFD = try syscallOrThrow("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        scratch = .allocate(byteCount: 128 * 1024, alignment: 16)
        now = monotonicNanoseconds()
        let timeouts = context.timeouts
        tickInterval = max(10_000_000, min(1_000_000_000, min(timeouts.idle, timeouts.request, timeouts.linger) / 4))
        do {
            try register(mailbox.eventFD, events: EPOLLIN.rawValue)
            try registerListener()
        } catch {
            // deinit still runs for this fully initialised object and frees `scratch`.
            Glibc.close(epollFD)
            throw error
        }
    }

    deinit {
        scratch.deallocate()
    }

    private func register(_ fd: Int32, events: UInt32) throws(SystemError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        try syscallOrThrow("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
    }

    private func registerListener() throws(SystemError) {
        guard let listener else { return }
        let events = EPOLLIN.rawValue | (exclusiveListener ? EPOLLEXCLUSIVE.rawValue : 0)
        try register(listener.fd, events: events)
    }

    private func unregisterListener() {
        guard let listener else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, listener.fd, nil)
    }

    // MARK: Loop

    /// Runs until shutdown completes. Call on the loop's own thread.
    func run() {
        mailbox.bind(toCurrentThread: ())
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        var nextTick = now + tickInterval
        var messagesLeft = false
        while true {
            var timeout: Int32 = -1
            if messagesLeft {
                timeout = 0
            } else if liveConnections > 0 || acceptPaused || shutdownDeadline != nil {
                var wakeAt = nextTick
                if let shutdownDeadline { wakeAt = min(wakeAt, shutdownDeadline) }
                timeout = Int32(clamping: max(0, (wakeAt - now + 999_999) / 1_000_000))
            }
            let count = epoll_wait(epollFD, events, capacity, timeout)
            now = monotonicNanoseconds()
            if count < 0 && errno != EINTR { break }
            for index in 0..<Int(max(count, 0)) {
                let event = events[index]
                dispatch(fd: event.data.fd, flags: event.events)
            }
            messagesLeft = processMessages()
            if now >= nextTick {
                nextTick = now + tickInterval
                tick()
            }
            if let shutdownDeadline, liveConnections == 0 || now >= shutdownDeadline { break }
        }
        for case let connection? in connections { close(connection) }
        if let listener {
            unregisterListener()
            listener.release()
            self.listener = nil
        }
        Glibc.close(epollFD)
    }

    private func dispatch(fd: Int32, flags: UInt32) {
        if fd == mailbox.eventFD {
            mailbox.acknowledgeWake()
        } else if let listener, fd == listener.fd {
            acceptConnections()
        } else if Int(fd) < connections.count, let connection = connections[Int(fd)] {
            connection.handle(events: flags)
        }
    }

    /// Returns true when messages are still queued (a long run of pipelined requests answered at once):
    /// the next `epoll_wait` must then not block.
    private func processMessages() -> Bool {
        // Responses delivered here can start pipelined requests whose responders answer at once: repeat,
        // but not forever, so that other connections get their turn.
        for _ in 0..<64 {
            mailbox.drain(into: &messages)
            if messages.isEmpty { return false }
            for message in messages {
                switch message {
                case .response(let fd, let connectionID, let sequence, let response):
                    // The id check matters: the fd may have been closed and reused by a newer connection.
                    if Int(fd) < connections.count, let connection = connections[Int(fd)], connection.id == connectionID {
                        connection.deliver(response, sequence: sequence)
                    }
                case .stopAccepting(let done):
                    stopAccepting()
                    done?.signal()
                case .shutdown(let deadline):
                    beginShutdown(deadline: deadline)
                }
            }
            messages.removeAll(keepingCapacity: true)
        }
        return true
    }

    private func tick() {
        if acceptPaused && shutdownDeadline == nil {
            acceptPaused = false
            try? registerListener()
        }
        let timeouts = context.timeouts
        for case let connection? in connections {
            switch connection.timer.expiry(at: now, timeouts: timeouts) {
            case nil: break
            case .close: close(connection)
            case .requestTimeout:
                connection.fail(HTTPParseError(
                    status: 408, code: "request_timeout",
                    message: "the request was not received within \(context.configuration.requestTimeout)"))
            }
        }
    }

    // MARK: Accepting

    private func acceptConnections() {
        guard let listener, !acceptPaused else { return }
        // A bounded batch keeps one loop from taking every pending connection when the listener is shared.
        for _ in 0..<(exclusiveListener ? 4 : 64) {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let result: IOResult<Int32>
            do {
                result = try syscall("accept4") {
                    withUnsafeMutablePointer(to: &address) { pointer in
                        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            tm_accept4(listener.fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                        }
                    }
                }
            } catch {
                switch error.errno {
                case ECONNABORTED, EPROTO, EPERM:
                    continue
                default:
                    // EMFILE/ENFILE/ENOBUFS: the listener would stay readable and spin; retry at the next tick.
                    unregisterListener()
                    acceptPaused = true
                    return
                }
            }
            guard case .done(let fd) = result else { return }
            adopt(fd: fd, address: &address)
        }
    }

    private func adopt(fd: Int32, address: inout sockaddr_storage) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let open = context.openConnections.add(1, ordering: .relaxed).newValue
        let accepted = open <= context.configuration.maxConnections && shutdownDeadline == nil
        if !accepted { context.openConnections.subtract(1, ordering: .relaxed) }

        nextConnectionID += 1
        let connection = Connection(
            loop: self, fd: fd, id: nextConnectionID, remoteAddress: SocketAddress.numericHost(&address),
            counted: accepted, limits: context.configuration.parserLimits)
        if Int(fd) >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count + 64))
        }
        connections[Int(fd)] = connection
        liveConnections += 1
        do {
            let events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
            try register(fd, events: events)
        } catch {
            close(connection)
            return
        }
        if !accepted {
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: "1")
            connection.reject(.error(
                status: 503, code: "server_busy", message: "too many open connections", headers: headers))
        }
    }

    private func stopAccepting() {
        guard let listener else { return }
        unregisterListener()
        listener.release()
        self.listener = nil
    }

    private func beginShutdown(deadline: Int64) {
        stopAccepting()
        shutdownDeadline = deadline
        for case let connection? in connections where connection.isIdle {
            close(connection)
        }
    }

    // MARK: For connections

    func close(_ connection: Connection) {
        guard connection.markClosed() else { return }
        connections[Int(connection.fd)] = nil
        liveConnections -= 1
        Glibc.close(connection.fd)
        if connection.counted { context.openConnections.subtract(1, ordering: .relaxed) }
    }

    func currentDate() -> [UInt8] {
        dateCache.current()
    }
}
