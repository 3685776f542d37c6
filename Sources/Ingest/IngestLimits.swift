/// Caps applied to every native event. All are configurable; defaults suit production traffic.
public struct IngestLimits: Sendable {
    /// Prompt, response and step text longer than this (UTF-8 bytes) is truncated and flagged.
    public var textCapBytes = 32 * 1024
    /// Ids, names and dimension values.
    public var maxStringBytes = 512
    public var maxTags = 64
    /// The serialized `metadata` object (unknown fields included).
    public var maxMetadataBytes = 64 * 1024
    public var maxEventsPerRequest = 100_000
    /// Plausible bounds for one call; beyond them a value is a bug on the client side, not data.
    public var maxTokens: Int64 = 100_000_000
    public var maxCostUSD: Double = 100_000
    public var maxLatencyMs: Double = 86_400_000
    public var maxRetries = 1_000
    /// Accepted timestamps: from 2000-01-01 to this far after the receive time.
    public var maxClockSkewSeconds: Double = 86_400

    public init() {}
}
