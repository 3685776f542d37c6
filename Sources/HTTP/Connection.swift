import CLinux
import Glibc

/// One accepted socket and its request/response cycle. Lives on its loop's thread only.
///
/// One request is in flight at a time: while the responder works or the response is being written,
/// nothing more is read or parsed, so pipelined requests are answered strictly in order.
final class Connection {
    enum State: Equatable {
        /// Reading and parsing a request (interim `100 Continue` may be queued).
        case reading
        /// The responder has the request.
        case processing
        /// The response is queued and being flushed.
        case writing
        /// Final response written and write side shut; discarding input until the peer closes.
        case lingering
        case closed
    }

    unowned let loop: EventLoop
    let fd: Int32
    let id: UInt64
    let remoteAddress: String
    /// Counted against `maxConnections` (false for a connection rejected with 503).
    let counted: Bool
    private(set) var timer: ConnectionTimer
    private var parser: HTTPRequestParser
    private var state = State.reading
    private var head: HTTPRequestHead?
    private var sequence: UInt64 = 0
    private var outbound: [[UInt8]] = []
    private var outboundOffset = 0
    /// Input may be waiting in the socket that was not read because a request was in flight.
    private var readPending = false
    /// We read EOF.
    private var inputClosed = false
    /// epoll reported the peer's FIN: read until EOF rather than stopping at a short read.
    private var peerHalfClosed = false
    private var closeAfterWrite = false

    private static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    private static let smallBodyBytes = 32 * 1024

    init(loop: EventLoop, fd: Int32, id: UInt64, remoteAddress: String, counted: Bool, limits: HTTPParserLimits) {
        self.loop = loop
        self.fd = fd
        self.id = id
        self.remoteAddress = remoteAddress
        self.counted = counted
        self.parser = HTTPRequestParser(limits: limits)
        self.timer = ConnectionTimer(now: loop.now)
    }

    /// Between requests with nothing buffered or queued: safe to close on shutdown.
    var isIdle: Bool {
        state == .reading && parser.isBetweenRequests && outbound.isEmpty
    }

    /// Returns false if it was already closed.
    func markClosed() -> Bool {
        guard state != .closed else { return false }
        state = .closed
        return true
    }

    // MARK: Events

    func handle(events: UInt32) {
        if events & EPOLLERR.rawValue != 0 {
            loop.close(self)
            return
        }
        if events & EPOLLRDHUP.rawValue != 0 { peerHalfClosed = true }
        if events & EPOLLOUT.rawValue != 0 && !outbound.isEmpty { flush() }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0 {
            switch state {
            case .reading, .lingering: readAvailable()
            case .processing, .writing: readPending = true
            case .closed: break
            }
        }
    }

    /// Reads until the socket is drained (edge-triggered), a request goes to the responder, or EOF.
    private func readAvailable() {
        readPending = false
        let scratch = loop.scratch
        while state == .reading || state == .lingering {
            let result: IOResult<Int>
            do {
                result = try syscall("recv") { Glibc.recv(fd, scratch.baseAddress, scratch.count, 0) }
            } catch {
                loop.close(self)
                return
            }
            guard case .done(let count) = result else { return }
            if count == 0 {
                inputEnded()
                return
            }
            // A short read drained the socket: later data raises a new edge (unless the FIN is already in).
            let drained = count < scratch.count && !peerHalfClosed
            if state == .lingering {
                if drained { return }
                continue
            }
            timer.received(at: loop.now)
            parser.append(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
            processInput()
            if state != .reading {
                readPending = !drained
                return
            }
            if drained { return }
        }
    }

    private func inputEnded() {
        inputClosed = true
        switch state {
        case .reading, .lingering:
            // A request cut short can never complete; between requests this is a normal close.
            loop.close(self)
        case .processing, .writing:
            break  // answer what we have, then close
        case .closed:
            break
        }
    }

    // MARK: Requests

    private func processInput() {
        while state == .reading {
            switch parser.next() {
            case .needMoreData:
                if inputClosed { loop.close(self) }
                return
            case .head(let head):
                self.head = head
                if let error = Self.contentEncodingError(head) {
                    fail(error)
                    return
                }
                if head.expectsContinue && !parser.hasBodyBytes {
                    outbound.append(Self.continueResponse)
                    flush()
                }
            case .end(let body):
                dispatch(body: body)
            case .error(let error):
                fail(error)
                return
            }
        }
    }

    /// 415 before reading the body when the body's content coding is one we cannot decode.
    private static func contentEncodingError(_ head: HTTPRequestHead) -> HTTPParseError? {
        let values = head.headers.values(for: "Content-Encoding")
        guard !values.isEmpty else { return nil }
        do {
            _ = try contentCodings(values.joined(separator: ","))
            return nil
        } catch {
            return HTTPParseError(
                status: 415, code: "unsupported_encoding",
                message: "\(error); supported: gzip, x-gzip, deflate, identity", field: "Content-Encoding")
        }
    }

    private func dispatch(body wireBody: [UInt8]) {
        guard let head else { return }
        timer.requestComplete()
        state = .processing
        var body = wireBody
        let encodings = head.headers.values(for: "Content-Encoding")
        if !encodings.isEmpty && !body.isEmpty {
            do {
                body = try decompress(
                    body, encoding: encodings.joined(separator: ","),
                    limit: loop.context.configuration.maxDecompressedBodyBytes)
            } catch {
                let failure: HTTPParseError
                switch error as? DecompressionError {
                case .tooLarge(let limit)?:
                    failure = HTTPParseError(
                        status: 413, code: "body_too_large", message: "decompressed body exceeds \(limit) bytes",
                        field: "Content-Encoding")
                case .unsupportedEncoding?:
                    failure = Self.contentEncodingError(head)!
                default:
                    failure = HTTPParseError(
                        status: 400, code: "invalid_body", message: "\(error)", field: "Content-Encoding")
                }
                // The body was read in full, so the connection can go on.
                send(loop.context.responder.refusal(failure, for: head), keepAlive: head.keepAlive && !loop.isShuttingDown,
                     includeBody: !head.isHEAD)
                return
            }
        }
        sequence += 1
        let request = HTTPRequest(
            method: head.method, target: head.target, headers: head.headers, body: body,
            remoteAddress: remoteAddress)
        let mailbox = loop.mailbox
        let (fd, id, sequence) = (self.fd, self.id, self.sequence)
        loop.context.responder.handle(request) { response in
            mailbox.send(.response(fd: fd, connectionID: id, sequence: sequence, response))
        }
    }

    /// The responder's answer, on the loop thread. A second answer to the same request is ignored.
    func deliver(_ response: HTTPResponse, sequence: UInt64) {
        guard state == .processing, sequence == self.sequence, let head else { return }
        let keepAlive = head.keepAlive && !response.asksToClose && !loop.isShuttingDown
        send(response, keepAlive: keepAlive, includeBody: !head.isHEAD)
    }

    /// Answers a request the server refuses and closes the connection.
    func fail(_ error: HTTPParseError) {
        guard state == .reading else { return }
        let response = head.map { loop.context.responder.refusal(error, for: $0) } ?? error.response
        send(response, keepAlive: false, includeBody: !(head?.isHEAD ?? false))
    }

    /// Answers a connection over `maxConnections` before reading anything, then closes it.
    func reject(_ response: HTTPResponse) {
        send(response, keepAlive: false, includeBody: true)
    }

    // MARK: Writing

    private func send(_ response: HTTPResponse, keepAlive: Bool, includeBody: Bool) {
        closeAfterWrite = !keepAlive
        state = .writing
        var bytes: [UInt8] = []
        response.encodeHead(keepAlive: keepAlive, date: loop.currentDate(), into: &bytes)
        let body = response.body
        if includeBody && !response.statusForbidsBody && !body.isEmpty {
            if body.count <= Self.smallBodyBytes {
                bytes.append(contentsOf: body)
                outbound.append(bytes)
            } else {
                outbound.append(bytes)
                outbound.append(body)
            }
        } else {
            outbound.append(bytes)
        }
        timer.wrote(at: loop.now)
        flush()
    }

    /// Writes queued bytes until done or the socket is full (then EPOLLOUT resumes it).
    private func flush() {
        while !outbound.isEmpty {
            let result: IOResult<Int>
            do {
                result = try syscall("sendmsg") { writeOutbound() }
            } catch {
                loop.close(self)  // EPIPE, ECONNRESET: the peer is gone
                return
            }
            guard case .done(var written) = result else { return }
            while written > 0 {
                let remaining = outbound[0].count - outboundOffset
                if written >= remaining {
                    written -= remaining
                    outbound.removeFirst()
                    outboundOffset = 0
                } else {
                    outboundOffset += written
                    written = 0
                }
            }
            if state == .writing { timer.wrote(at: loop.now) }
        }
        if state == .writing { finishResponse() }
    }

    /// One `send`/`sendmsg` of the first one or two queued buffers, with `MSG_NOSIGNAL` (no SIGPIPE).
    private func writeOutbound() -> Int {
        let offset = outboundOffset
        return outbound[0].withUnsafeBytes { first in
            let firstBase = UnsafeMutableRawPointer(mutating: first.baseAddress! + offset)
            if outbound.count == 1 {
                return Glibc.send(fd, firstBase, first.count - offset, Int32(MSG_NOSIGNAL))
            }
            return outbound[1].withUnsafeBytes { second in
                var vectors = (
                    iovec(iov_base: firstBase, iov_len: first.count - offset),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress!), iov_len: second.count))
                return withUnsafeMutableBytes(of: &vectors) { raw in
                    var message = msghdr()
                    message.msg_iov = raw.baseAddress!.assumingMemoryBound(to: iovec.self)
                    message.msg_iovlen = 2
                    return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                }
            }
        }
    }

    private func finishResponse() {
        head = nil
        if closeAfterWrite {
            startLingering()
            return
        }
        state = .reading
        timer.responseFinished(at: loop.now, nextRequestBuffered: parser.bufferedByteCount > 0)
        processInput()  // a pipelined request may already be buffered
        if state == .reading && readPending { readAvailable() }
    }

    /// Shut our side and drain input for a while, so that unread request bytes do not turn our final
    /// response into a TCP reset on the client's side.
    private func startLingering() {
        state = .lingering
        Glibc.shutdown(fd, Int32(SHUT_WR))
        timer.lingering(at: loop.now)
        if inputClosed || loop.isShuttingDown {
            loop.close(self)
        } else {
            readAvailable()
        }
    }
}
