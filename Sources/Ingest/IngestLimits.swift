import Foundation

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
    /// Accepted timestamps are at most this old (the raw-event retention): an older event's id may
    /// already have left the dedup registry, so it could not be told apart from a re-send. nil: no bound.
    public var maxAgeSeconds: Double?

    public init() {}

    /// Why `date` (an event's timestamp, received at `receivedAt`) is refused, or nil when it is accepted.
    public func timestampProblem(_ date: Date, receivedAt: Date) -> String? {
        if let maxAge = maxAgeSeconds, date < receivedAt.addingTimeInterval(-maxAge) {
            return "is older than the raw-event retention (\(Int(maxAge / 86_400)) days); such events are not accepted"
        }
        guard date >= Date(timeIntervalSince1970: 946_684_800), date <= receivedAt.addingTimeInterval(maxClockSkewSeconds) else {
            return "is out of range (2000-01-01 up to 24 hours ahead of the server clock)"
        }
        return nil
    }
}
