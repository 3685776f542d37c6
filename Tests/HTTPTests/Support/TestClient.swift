import Foundation
import Glibc

struct TestResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A blocking socket client speaking just enough HTTP/1.1 for the tests. Every wait has a timeout.
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: Int = 10) throws {
        // Connect on a local fd first: a throwing init of a fully initialised class still runs deinit,
        // which would close the fd a second time (and maybe someone else's socket by then).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestClientError(description: "connect: \(String(cString: strerror(code)))")
        }
        self.fd = fd
    }

    private var isClosed = false

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw TestClientError(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Waits up to `milliseconds` for the socket to become readable (data or EOF).
    func waitReadable(milliseconds: Int32) -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Reads more bytes into the buffer; false on EOF/reset.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffer.append(contentsOf: chunk[..<n])
            return true
        }
        if n == 0 || errno == ECONNRESET { return false }
        throw TestClientError(description: "recv: \(String(cString: strerror(errno)))")
    }

    /// Reads one response (interim 1xx ones too). `nil` when the server closed before sending anything.
    func readResponse(headRequest: Bool = false) throws -> TestResponse? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while true {
            if let found = findSubsequence(terminator, in: buffer) {
                headEnd = found
                break
            }
            if try !fill() {
                if buffer.isEmpty { return nil }
                throw TestClientError(description: "connection closed inside a response head")
            }
        }
        let headText = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestClientError(description: "bad status line in \(headText)")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = TestResponse(status: status, headers: headers, body: [])
        if status >= 200 && !headRequest, let length = response.header("Content-Length").flatMap({ Int($0) }) {
            while buffer.count < length {
                if try !fill() { throw TestClientError(description: "connection closed inside a body") }
            }
            response.body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// Sends a request and reads its response.
    func request(_ text: String) throws -> TestResponse {
        try send(text)
        guard let response = try readResponse() else { throw TestClientError(description: "no response") }
        return response
    }

    /// True when the server closed the connection (EOF or reset) within the receive timeout.
    func isClosedByServer() -> Bool {
        while true {
            do {
                if try !fill() { return true }
            } catch {
                return false
            }
        }
    }
}

func findSubsequence(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if Array(haystack[start..<(start + needle.count)]) == needle { return start }
    }
    return nil
}
