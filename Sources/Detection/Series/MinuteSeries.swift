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
    /// Running totals from `origin`: `running[i]` sums the minutes `[origin, origin + i)`, so a
    /// window's totals are one subtraction. The detectors ask for tens of thousands of windows
    /// per scope and round (a week of spread calibration, each step with its own seasonal
    /// baseline); summing minute by minute made one round of a few projects take seconds.
    private var origin: Int
    private var running: [RunningTotals]

    public init(scope: Scope, since: Int, buckets: [MinuteBucket]) {
        self.scope = scope
        self.since = since
        var byMinute: [Int: MinuteBucket] = [:]
        for bucket in buckets where bucket.minute >= since { byMinute[bucket.minute] = bucket }
        self.buckets = byMinute
        origin = since
        let last = byMinute.keys.max() ?? since - 1
        running = [RunningTotals()]
        running.reserveCapacity(last - since + 2)
        extendRunning(through: last)
    }

    public func bucket(at minute: Int) -> MinuteBucket? {
        minute >= since ? buckets[minute] : nil
    }

    /// Totals over the minutes `[end - length, end)`, or nil when any of them is before `since`.
    public func totals(endingAt end: Int, length: Int) -> WindowTotals? {
        guard end - length >= since else { return nil }
        guard length > 0 else { return WindowTotals() }
        // Minutes outside [origin, last] hold no bucket: clamping the bounds counts them as zero.
        func index(_ minute: Int) -> Int { min(max(minute - origin, 0), running.count - 1) }
        return running[index(end)].window(since: running[index(end - length)])
    }

    /// The buckets present in `[end - length, end)`, oldest first.
    public func buckets(endingAt end: Int, length: Int) -> [MinuteBucket] {
        (max(end - length, since)..<max(end, since)).compactMap { buckets[$0] }
    }

    /// One evaluation round's update: the minutes from `from` on become `fresh` (what a new read
    /// found there; a minute without a bucket is zero) and the history starts at `newSince`.
    /// Costs the minutes that changed, not the days kept: rebuilding 15 days of minutes per scope
    /// every round was most of a round's time. Storage before `since` is let go about once a day.
    public mutating func advance(since newSince: Int, replacingFrom from: Int, with fresh: [MinuteBucket]) {
        let cut = max(from, origin)
        let last = origin + running.count - 2
        if cut <= last {
            for minute in cut...last { buckets[minute] = nil }
        }
        let keep = cut - origin + 1
        if running.count > keep { running.removeLast(running.count - keep) }
        for bucket in fresh where bucket.minute >= cut { buckets[bucket.minute] = bucket }
        extendRunning(through: fresh.lazy.map(\.minute).filter { $0 >= cut }.max() ?? cut - 1)
        since = newSince
        if newSince - origin > Self.storageSlackMinutes {
            self = MinuteSeries(scope: scope, since: newSince, buckets: Array(buckets.values))
        }
    }

    /// Forgets the latency and TTFT sketches of the minutes in `[from, to)` (counts stay): a
    /// history of many days keeps sketches only for its recent part.
    public mutating func dropSketches(from: Int, to: Int) {
        guard from < to else { return }
        let start = max(from, origin)
        let stop = min(to, origin + running.count - 1)
        guard start < stop else { return }
        for minute in start..<stop where buckets[minute]?.latencySketch != nil || buckets[minute]?.ttftSketch != nil {
            buckets[minute]?.latencySketch = nil
            buckets[minute]?.ttftSketch = nil
        }
    }

    static let storageSlackMinutes = Minutes.perDay

    /// Appends running totals for every minute after the last one covered, through `last`.
    private mutating func extendRunning(through last: Int) {
        var next = origin + running.count - 1
        guard next <= last else { return }
        // (No reserveCapacity here: reserving one round's minutes more each time would copy the
        // whole array every round instead of growing it geometrically.)
        var current = running[running.count - 1]
        while next <= last {
            if let bucket = buckets[next] { current.add(bucket) }
            running.append(current)
            next += 1
        }
    }
}

/// Running sums of the additive bucket fields. Wrapping arithmetic: a difference of two running
/// sums is exact modulo 2⁶⁴ whenever the window's own total fits, however large the history.
private struct RunningTotals: Sendable {
    var calls = 0, errors = 0, retries = 0, fallbacks = 0, http429 = 0, http5xx = 0
    var cost: Int64 = 0, tokens: Int64 = 0

    mutating func add(_ bucket: MinuteBucket) {
        calls &+= bucket.calls
        errors &+= bucket.errors
        retries &+= bucket.retries
        fallbacks &+= bucket.fallbacks
        http429 &+= bucket.http429
        http5xx &+= bucket.http5xx
        cost &+= bucket.cost.picodollars
        tokens &+= bucket.tokens
    }

    func window(since start: RunningTotals) -> WindowTotals {
        var totals = WindowTotals()
        totals.calls = calls &- start.calls
        totals.errors = errors &- start.errors
        totals.retries = retries &- start.retries
        totals.fallbacks = fallbacks &- start.fallbacks
        totals.http429 = http429 &- start.http429
        totals.http5xx = http5xx &- start.http5xx
        totals.cost = Money(picodollars: cost &- start.cost)
        totals.tokens = tokens &- start.tokens
        return totals
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
