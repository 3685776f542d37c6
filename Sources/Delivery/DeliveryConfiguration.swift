import Foundation

/// How notifications are delivered. Every default is documented; only the executable reads the
/// environment and fills this in.
public struct DeliveryConfiguration: Sendable, Hashable {
    /// Time to establish a connection (TCP + TLS). Default 5 s.
    public var connectTimeout: TimeInterval = 5
    /// Time for a whole attempt, connection included. Default 10 s (the reference design's figure).
    public var totalTimeout: TimeInterval = 10
    /// First retry delay; doubled per failed attempt. Default 10 s.
    public var backoffBase: TimeInterval = 10
    /// Largest delay between attempts, also the cap on a receiver's `Retry-After`. Default 1 h.
    public var backoffCap: TimeInterval = 3600
    /// Attempts before a notification is dead-lettered. Default 30: at the default backoff that
    /// spans about 10.7–21.4 h (9 attempts within the first 0.7–1.4 h, then one every 0.5–1 h), so
    /// a receiver down for most of a day still gets its notifications; ``maxAge`` ends it sooner
    /// when receivers ask for long `Retry-After`s.
    public var maxAttempts: Int = 30
    /// Age after which a failing notification is dead-lettered instead of retried. Default 24 h.
    public var maxAge: TimeInterval = 24 * 3600
    /// Rows claimed per round, sent one after another. Default 10.
    public var batchSize: Int = 10
    /// Added to the time a whole batch may take (``lease``). Default 30 s.
    public var leaseMargin: TimeInterval = 30
    /// Refuse webhook URLs that resolve to loopback, private (RFC 1918, fc00::/7), link-local
    /// (169.254.0.0/16: cloud metadata), carrier-grade NAT or reserved addresses, checked after
    /// DNS; such notifications are dead-lettered at once. Turn on where tenants you do not trust
    /// set webhook URLs (SSRF). Default off: a self-hosted Tokenmeter usually posts to receivers
    /// on its own network.
    public var blockPrivateAddresses: Bool = false
    /// Sleep between rounds when nothing was due. Default 1 s.
    public var pollInterval: TimeInterval = 1

    public init() {}

    /// How long a claim hides its rows from other deliverers: long enough for every attempt of
    /// the batch to time out one after another (a batch's last row must not come due elsewhere
    /// while it waits its turn), plus the margin. If the deliverer dies, its rows come due again
    /// after this. Default 10 × 10 s + 30 s = 130 s.
    public var lease: TimeInterval { Double(max(batchSize, 1)) * totalTimeout + leaseMargin }
}

/// What goes into payloads besides the alert itself.
public struct PayloadConfiguration: Sendable, Hashable {
    /// Alertmanager's `receiver`. Default `tokenmeter`.
    public var receiver: String = "tokenmeter"
    /// Base of dashboard links (`https://tokenmeter.example.com`), no trailing slash needed. Nil:
    /// payloads carry no links (`generatorURL` empty, `dashboardURL` null).
    public var dashboardBaseURL: String?

    public init(receiver: String = "tokenmeter", dashboardBaseURL: String? = nil) {
        self.receiver = receiver
        self.dashboardBaseURL = dashboardBaseURL
    }

    /// The alert's page: `<base>/alerts/<fingerprint>?project=<id>`.
    func dashboardURL(project: String, fingerprint: String) -> String? {
        guard var base = dashboardBaseURL, !base.isEmpty else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/alerts/\(fingerprint)?project=\(project)"
    }
}
