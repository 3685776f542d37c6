import Foundation
import TokenmeterCore

/// One closed minute of one scope, as the per-minute rollup stores it.
public struct MinuteBucket: Sendable, Hashable {
    /// Minutes since the Unix epoch (UTC) of the bucket's start.
    public var minute: Int
    public var calls: Int
    public var cost: Money
    public var tokens: Int64
    /// Calls that ended in an error (status error or HTTP ≥ 500).
    public var errors: Int
    /// Sum of the calls' retry counts.
    public var retries: Int
    public var fallbacks: Int
    public var http429: Int
    public var http5xx: Int
    /// p95 latency of the minute's calls in milliseconds; nil when the minute had none.
    public var latencyP95: Double?
    /// p95 time to first token in milliseconds; nil when no call streamed.
    public var ttftP95: Double?
    /// The minute's latency and TTFT histograms (ms) when the rollup has them: windows then
    /// get an exact p95 by merging instead of a median of minute p95s.
    public var latencySketch: LatencySketch?
    public var ttftSketch: LatencySketch?

    public init(minute: Int, calls: Int = 0, cost: Money = .zero, tokens: Int64 = 0, errors: Int = 0,
                retries: Int = 0, fallbacks: Int = 0, http429: Int = 0, http5xx: Int = 0,
                latencyP95: Double? = nil, ttftP95: Double? = nil,
                latencySketch: LatencySketch? = nil, ttftSketch: LatencySketch? = nil) {
        self.minute = minute
        self.calls = calls
        self.cost = cost
        self.tokens = tokens
        self.errors = errors
        self.retries = retries
        self.fallbacks = fallbacks
        self.http429 = http429
        self.http5xx = http5xx
        self.latencyP95 = latencyP95
        self.ttftP95 = ttftP95
        self.latencySketch = latencySketch
        self.ttftSketch = ttftSketch
    }
}

/// Additive counts over a span of minutes.
public struct WindowTotals: Sendable, Hashable {
    public var calls = 0
    public var cost = Money.zero
    public var tokens: Int64 = 0
    public var errors = 0
    public var retries = 0
    public var fallbacks = 0
    public var http429 = 0
    public var http5xx = 0

    public init() {}

    mutating func add(_ bucket: MinuteBucket) {
        calls += bucket.calls
        cost = cost + bucket.cost
        tokens += bucket.tokens
        errors += bucket.errors
        retries += bucket.retries
        fallbacks += bucket.fallbacks
        http429 += bucket.http429
        http5xx += bucket.http5xx
    }
}

/// The per-minute history of one scope.
///
/// `since` is the first minute the scope could have had data (when the project started
/// sending, or the start of the loaded history). A minute at or after `since` with no bucket
/// is a minute with **zero** traffic; a minute before `since` is **unknown**. Keeping the two
/// apart is what lets count rules read silence as zero and baselines refuse to invent history.
public struct MinuteSeries: Sendable {
    public var scope: Scope
    public var since: Int
    private var buckets: [Int: MinuteBucket]

    public init(scope: Scope, since: Int, buckets: [MinuteBucket]) {
        self.scope = scope
        self.since = since
        var byMinute: [Int: MinuteBucket] = [:]
        for bucket in buckets where bucket.minute >= since { byMinute[bucket.minute] = bucket }
        self.buckets = byMinute
    }

    public func bucket(at minute: Int) -> MinuteBucket? { buckets[minute] }

    /// Totals over the minutes `[end - length, end)`, or nil when any of them is before `since`.
    public func totals(endingAt end: Int, length: Int) -> WindowTotals? {
        guard end - length >= since else { return nil }
        var totals = WindowTotals()
        for minute in (end - length)..<end {
            if let bucket = buckets[minute] { totals.add(bucket) }
        }
        return totals
    }

    /// The buckets present in `[end - length, end)`, oldest first.
    public func buckets(endingAt end: Int, length: Int) -> [MinuteBucket] {
        ((end - length)..<end).compactMap { buckets[$0] }
    }
}

/// Minute arithmetic on `Date`, so detectors never read a clock.
public enum Minutes {
    public static let perHour = 60
    public static let perDay = 1_440
    public static let perWeek = 10_080

    /// The minute that contains `date` (floor).
    public static func of(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 60).rounded(.down))
    }

    public static func date(_ minute: Int) -> Date {
        Date(timeIntervalSince1970: Double(minute) * 60)
    }
}
