import CLinux
import Glibc
import Synchronization

/// Why the server could not start.
public enum HTTPServerError: Error, CustomStringConvertible, Sendable {
    case alreadyStarted
    case invalidAddress(host: String, port: Int, reason: String)
    case cannotListen(host: String, port: Int, errno: Int32)
    case system(SystemError)

    public var description: String {
        switch self {
        case .alreadyStarted:
            "the server was already started"
        case .invalidAddress(let host, let port, let reason):
            "cannot resolve \(host):\(port): \(reason)"
        case .cannotListen(let host, let port, let code):
            "cannot listen on \(host):\(port): \(String(cString: strerror(code)))"
        case .system(let error):
            error.description
        }
    }
}

/// A listening socket shared by the loops registered on it; the last loop to let go closes it.
final class ListeningSocket: Sendable {
    let fd: Int32
    private let holders: Atomic<Int>

    init(fd: Int32, holders: Int) {
        self.fd = fd
        self.holders = Atomic(holders)
    }

    func release() {
        if holders.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            Glibc.close(fd)
        }
    }
}

/// A resolved listen address.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var family: Int32 { Int32(storage.ss_family) }

    static func resolve(host: String, port: Int) throws(HTTPServerError) -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw .invalidAddress(host: host, port: port, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(result) }
        var address = SocketAddress()
        address.length = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &address.storage) { storage in
            storage.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return address
    }

    /// The numeric host of an IPv4 or IPv6 peer address ("127.0.0.1", "::1").
    static func numericHost(_ storage: inout sockaddr_storage) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(storage.ss_family)
        let ok: Bool = withUnsafePointer(to: &storage) { pointer in
            let raw = UnsafeRawPointer(pointer)
            if family == AF_INET {
                var address = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
                return inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil
            } else if family == AF_INET6 {
                var address = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
                return inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil
            }
            return false
        }
        guard ok else { return "unknown" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Creates, binds and (unless `listening` is false) listens on a non-blocking TCP socket.
/// Returns the fd and the port actually bound.
func makeListeningSocket(
    address: SocketAddress, host: String, port: Int, reusePort: Bool, listening: Bool = true, backlog: Int32
) throws(HTTPServerError) -> (fd: Int32, port: Int) {
    let fd = Glibc.socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .system(SystemError("socket", errno: errno)) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    if reusePort {
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = address
    var bindAddress = address.storage
    // Set the port (it may differ from the resolved one when the first listener picked an ephemeral port).
    withUnsafeMutablePointer(to: &bindAddress) { pointer in
        let raw = UnsafeMutableRawPointer(pointer)
        if address.family == AF_INET {
            raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = in_port_t(UInt16(port).bigEndian)
        } else if address.family == AF_INET6 {
            raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = in_port_t(UInt16(port).bigEndian)
        }
    }
    address.storage = bindAddress
    let bound = withUnsafePointer(to: &address.storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
    }
    guard bound == 0 else {
        let code = errno
        Glibc.close(fd)
        throw .cannotListen(host: host, port: port, errno: code)
    }
    if listening {
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .cannotListen(host: host, port: port, errno: code)
        }
    }
    var boundStorage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &boundStorage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let boundFamily = Int32(boundStorage.ss_family)
    let boundPort = withUnsafePointer(to: &boundStorage) { pointer -> Int in
        let raw = UnsafeRawPointer(pointer)
        if boundFamily == AF_INET6 {
            return Int(UInt16(bigEndian: raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port))
        }
        return Int(UInt16(bigEndian: raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port))
    }
    return (fd, boundPort)
}
