import Foundation
import Glibc
import Synchronization

/// A tiny HTTP/1.1 webhook receiver on 127.0.0.1 for delivery tests: POSIX sockets, one thread
/// per connection, `Connection: close`. It answers requests in arrival order from a script, then
/// with 200, and keeps a ledger of what arrived and what it processed.
final class TestReceiver: Sendable {
    enum Behaviour: Sendable, Hashable {
        case accept
        /// Read the request, close without answering.
        case drop
        /// Process the request (it enters the ledger), answer 200 only after `seconds` — later
        /// than the client's timeout, so the sender must retry what was in fact processed.
        case slowAccept(seconds: Double)
        case status(Int, retryAfter: String?)
    }

    struct Request: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var behaviour: Behaviour
        var id: String { headers["x-tokenmeter-notification-id"] ?? "" }
    }

    private struct State {
        var script: [Behaviour]
        var received: [Request] = []
        var processed: [Request] = []
        var inFlight: Set<String> = []
        var overlaps: [String] = []
        var stopped = false
    }

    let port: Int
    private let listener: Int32
    private let state: Mutex<State>
    private let acceptDelay: Double

    /// - Parameter acceptDelay: how long a request is "in flight" before a 200 (to catch overlaps).
    init(script: [Behaviour] = [], acceptDelay: Double = 0) throws {
        state = Mutex(State(script: script))
        self.acceptDelay = acceptDelay
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ReceiverError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { close(fd); throw ReceiverError("bind/listen: errno \(errno)") }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request that arrived, in order.
    var received: [Request] { state.withLock { $0.received } }
    /// The receiver's ledger: requests it processed (answered 2xx, or processed but answered late).
    var processed: [Request] { state.withLock { $0.processed } }
    /// Ids that arrived while a request with the same id was still being handled.
    var overlaps: [String] { state.withLock { $0.overlaps } }

    /// Idempotent. Only shuts the listener down; the accept thread closes it once it has seen
    /// the stop, so no thread ever calls accept on a descriptor number that another socket
    /// (another test's listener) has reused meanwhile.
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if state.withLock({ $0.stopped }) {
                if client >= 0 { close(client) }
                close(listener)
                return
            }
            if client < 0 { continue }
            let thread = Thread { [self] in handle(client) }
            thread.start()
        }
    }

    private func handle(_ client: Int32) {
        defer { close(client) }
        guard var request = readRequest(client) else { return }
        let behaviour: Behaviour = state.withLock { state in
            let next = state.script.isEmpty ? .accept : state.script.removeFirst()
            request.behaviour = next
            state.received.append(request)
            if state.inFlight.contains(request.id) { state.overlaps.append(request.id) }
            state.inFlight.insert(request.id)
            if next == .accept || next.isSlowAccept { state.processed.append(request) }
            return next
        }
        defer { _ = state.withLock { $0.inFlight.remove(request.id) } }
        switch behaviour {
        case .accept:
            if acceptDelay > 0 { usleep(UInt32(acceptDelay * 1_000_000)) }
            respond(client, "200 OK", extra: "")
        case .drop:
            return
        case .slowAccept(let seconds):
            usleep(UInt32(seconds * 1_000_000))
            respond(client, "200 OK", extra: "")
        case .status(let code, let retryAfter):
            respond(client, "\(code) Status", extra: retryAfter.map { "Retry-After: \($0)\r\n" } ?? "")
        }
    }

    private func respond(_ client: Int32, _ status: String, extra: String) {
        let text = "HTTP/1.1 \(status)\r\nContent-Length: 2\r\nConnection: close\r\n\(extra)\r\nok"
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func readRequest(_ client: Int32) -> Request? {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16384)
        var headerEnd: Int?
        var contentLength = 0
        var lines: [String] = []
        while true {
            if let end = headerEnd, buffer.count >= end + contentLength { break }
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            if headerEnd == nil, let range = Self.find([13, 10, 13, 10], in: buffer) {
                headerEnd = range + 4
                lines = String(decoding: buffer[0..<range], as: UTF8.self).components(separatedBy: "\r\n")
                for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let path = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let start = headerEnd!
        return Request(path: path, headers: headers, body: Array(buffer[start..<(start + contentLength)]), behaviour: .accept)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}

extension TestReceiver.Behaviour {
    var isSlowAccept: Bool {
        if case .slowAccept = self { return true }
        return false
    }
}

struct ReceiverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
