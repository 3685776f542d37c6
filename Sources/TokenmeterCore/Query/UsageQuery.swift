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

    public init(project: ProjectID, range: TimeRange, interval: UsageInterval, groupBy: [UsageDimension], filters: [UsageDimension: String]) {
        self.project = project
        self.range = range
        self.interval = interval
        self.groupBy = groupBy
        self.filters = filters
    }
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

    public init(bucket: Date?, dimensions: [UsageDimension: String?], calls: Int64, tokensIn: Int64, tokensOut: Int64,
                cachedTokens: Int64, cacheWriteTokens: Int64, costUSD: String, unpricedCalls: Int64, errors: Int64,
                retries: Int64, fallbacks: Int64, cacheHits: Int64) {
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
    }
}
