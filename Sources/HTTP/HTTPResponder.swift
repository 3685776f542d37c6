/// What the server hands complete requests to.
public protocol HTTPResponder: Sendable {
    /// Called on an event-loop thread once a complete request (body fully read, decompressed) is available.
    /// Must not block: long work is dispatched elsewhere by the responder. `respond` may be called once,
    /// from any thread; later calls are ignored.
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void)
}
