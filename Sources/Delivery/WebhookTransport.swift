/// One HTTP POST of a notification.
public struct WebhookRequest: Sendable {
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(url: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What came back: a status (with `Retry-After` if sent), or no HTTP answer at all.
public enum WebhookResponse: Sendable, Hashable {
    case status(Int, retryAfter: String?)
    /// Connection refused or reset, DNS failure, timeout… `reason` names the failure, never the URL.
    case failed(reason: String, timedOut: Bool)
    /// Not sent, and sending again will not help (a private address while those are blocked).
    case refused(reason: String)
}

/// Sends webhook requests. ``CurlTransport`` is the real one; tests may substitute their own.
/// Called on the deliverer's own thread; may block for up to the configured total timeout.
public protocol WebhookTransport: Sendable {
    func post(_ request: WebhookRequest) -> WebhookResponse
}
