/// What the server hands complete requests to.
public protocol HTTPResponder: Sendable {
    /// Called on an event-loop thread once a complete request (body fully read, decompressed) is available.
    /// Must not block: long work is dispatched elsewhere by the responder. `respond` may be called once,
    /// from any thread; later calls are ignored.
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void)

    /// Renders a refusal the server makes by itself once it has read the request head (a body coding
    /// it cannot decode, a body too large), so a responder can answer in the format its clients
    /// read. The default is the uniform JSON error; the connection handling stays the server's.
    func refusal(_ error: HTTPParseError, for head: HTTPRequestHead) -> HTTPResponse
}

extension HTTPResponder {
    public func refusal(_ error: HTTPParseError, for head: HTTPRequestHead) -> HTTPResponse {
        error.response
    }
}
