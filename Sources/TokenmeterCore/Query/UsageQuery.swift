import Foundation

/// Half-open time window `[from, to)`.
public struct TimeRange: Sendable, Hashable {
    public var from: Date
    public var to: Date
    public init(from: Date, to: Date) {
        self.from = from
        self.to = to
    }
}

/// Dimensions usage can be grouped and filtered by. Raw values are the API's names.
public enum UsageDimension: String, Sendable, Hashable, CaseIterable {
    case feature
    case userID = "user_id"
    case model
    case provider
    case environment
    case status
    case stepType = "step_type"

    /// The dimensions kept in the per-minute rollup (all but the high-cardinality user id).
    public var isRolledUp: Bool { self != .userID }
}

public enum UsageInterval: String, Sendable, Hashable, CaseIterable {
    case minute, hour, day, none

    /// Bucket length in seconds; nil for `none` (one bucket for the whole range).
    public var seconds: Int64? {
        switch self {
        case .minute: return 60
        case .hour: return 3600
        case .day: return 86_400
        case .none: return nil
        }
    }
}

public struct UsageQuery: Sendable, Hashable {
    public var project: ProjectID
    public var range: TimeRange
    public var interval: UsageInterval
    public var groupBy: [UsageDimension]
    public var filters: [UsageDimension: String]
    /// IANA time zone for day (and hour) buckets; nil = UTC.
    public var timeZone: String?
    /// Only the top `limit` groups by `metric`, largest first.
    public var top: (metric: UsageMetric, limit: Int)?
    /// Only the calls of this session (no rollup keeps sessions: answered from raw events).
    public var sessionID: String?

    public init(project: ProjectID, range: TimeRange, interval: UsageInterval, groupBy: [UsageDimension],
                filters: [UsageDimension: String], timeZone: String? = nil, top: (metric: UsageMetric, limit: Int)? = nil,
                sessionID: String? = nil) {
        self.project = project
        self.range = range
        self.interval = interval
        self.groupBy = groupBy
        self.filters = filters
        self.timeZone = timeZone
        self.top = top
        self.sessionID = sessionID
    }

    public static func == (a: UsageQuery, b: UsageQuery) -> Bool {
        a.project == b.project && a.range == b.range && a.interval == b.interval && a.groupBy == b.groupBy && a.filters == b.filters
            && a.timeZone == b.timeZone && a.top?.metric == b.top?.metric && a.top?.limit == b.top?.limit && a.sessionID == b.sessionID
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(project); hasher.combine(range); hasher.combine(interval); hasher.combine(groupBy)
        hasher.combine(filters); hasher.combine(timeZone); hasher.combine(top?.metric); hasher.combine(top?.limit)
        hasher.combine(sessionID)
    }
}

/// What "top" ranks by.
public enum UsageMetric: String, Sendable, Hashable, CaseIterable {
    case costUSD = "cost_usd"
    case tokens
    case calls
    case errors
}

/// Latency percentiles of one bucket × group.
public struct LatencyRow: Sendable, Hashable {
    public var bucket: Date?
    public var dimensions: [UsageDimension: String?]
    public var sketch: LatencySketch

    public init(bucket: Date?, dimensions: [UsageDimension: String?], sketch: LatencySketch) {
        self.bucket = bucket
        self.dimensions = dimensions
        self.sketch = sketch
    }
}

public enum LatencyMetric: String, Sendable, Hashable, CaseIterable {
    case latency
    case ttft
}

/// One bucket × group of aggregated usage. `costUSD` is an exact decimal string.
public struct UsageRow: Sendable, Hashable {
    public var bucket: Date?
    public var dimensions: [UsageDimension: String?]
    public var calls: Int64
    public var tokensIn: Int64
    public var tokensOut: Int64
    public var cachedTokens: Int64
    public var cacheWriteTokens: Int64
    public var costUSD: String
    public var unpricedCalls: Int64
    public var errors: Int64
    public var retries: Int64
    public var fallbacks: Int64
    public var cacheHits: Int64
    /// Calls the provider's prompt cache served some input tokens of (`cached_tokens > 0`).
    public var providerCacheHits: Int64
    /// What cached input tokens saved against the uncached input price (exact decimal).
    public var cacheSavingsUSD: String = "0"
    /// Calls that were not app-cache hits, those of them priced, and their cost (exact decimal).
    public var missCalls: Int64 = 0
    public var missPricedCalls: Int64 = 0
    public var missCostUSD: String = "0"

    public init(bucket: Date?, dimensions: [UsageDimension: String?], calls: Int64, tokensIn: Int64, tokensOut: Int64,
                cachedTokens: Int64, cacheWriteTokens: Int64, costUSD: String, unpricedCalls: Int64, errors: Int64,
                retries: Int64, fallbacks: Int64, cacheHits: Int64, providerCacheHits: Int64) {
        self.bucket = bucket
        self.dimensions = dimensions
        self.calls = calls
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cachedTokens = cachedTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.costUSD = costUSD
        self.unpricedCalls = unpricedCalls
        self.errors = errors
        self.retries = retries
        self.fallbacks = fallbacks
        self.cacheHits = cacheHits
        self.providerCacheHits = providerCacheHits
    }
}
