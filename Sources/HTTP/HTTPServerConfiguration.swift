/// Server settings with their defaults. Only the executable reads the environment; it fills this in.
public struct HTTPServerConfiguration: Sendable {
    /// How event-loop threads share the listening port.
    public enum ListenerStrategy: Sendable {
        /// One listening socket per loop with `SO_REUSEPORT`; the kernel spreads connections by hash.
        /// A second process of the same user on the same port would also bind, so `start()` first
        /// checks the port with a plain bind.
        case reusePort
        /// One listening socket registered in every loop with `EPOLLEXCLUSIVE`.
        case exclusiveWakeup
    }

    /// Numeric IPv4 or IPv6 address, or a name `getaddrinfo` resolves.
    public var host = "127.0.0.1"
    /// 0 picks an ephemeral port; `HTTPServer.boundPort` tells which.
    public var port = 8787
    public var eventLoopThreads = 2
    public var listenerStrategy: ListenerStrategy = .reusePort
    /// The whole request head (request line, headers); over → 431. Also the cap for chunked trailers.
    public var maxHeaderBytes = 16 * 1024
    /// Over → 431.
    public var maxHeaderCount = 100
    /// Body bytes on the wire (after de-chunking); over → 413, checked against Content-Length up front.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// After gunzip/inflate; over → 413, inflating stops at the cap.
    public var maxDecompressedBodyBytes = 64 * 1024 * 1024
    /// Past this many open connections new ones get 503 with `Retry-After` and are closed.
    public var maxConnections = 10_000
    /// Keep-alive idle time between requests; then the connection closes silently.
    public var idleTimeout: Duration = .seconds(60)
    /// From the first byte of a request to its complete body; over → 408 and close.
    public var requestTimeout: Duration = .seconds(30)
    /// After a final response on a connection that closes, unread input is drained this long so the
    /// client reads the response instead of a TCP reset.
    public var lingerTimeout: Duration = .seconds(2)
    /// `listen` backlog.
    public var backlog: Int32 = 1024

    public init() {}

    var parserLimits: HTTPParserLimits {
        HTTPParserLimits(maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
    }

    var timeouts: ConnectionTimeouts {
        ConnectionTimeouts(
            idle: idleTimeout.nanoseconds, request: requestTimeout.nanoseconds, linger: lingerTimeout.nanoseconds)
    }
}
