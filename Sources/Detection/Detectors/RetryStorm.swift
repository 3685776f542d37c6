import Foundation

public struct RetryStormParameters: Sendable, Hashable {
    public var windowMinutes = 5
    /// Also judged over this shorter window (same thresholds, same minimum retries), so a
    /// busy scope's storm breaches a minute or two after onset instead of waiting for the
    /// 5-minute window to fill. Resolution is judged on the long window only.
    public var shortWindowMinutes = 2
    /// And over the freshest 60 s of raw events (``CallSample``), evaluated every round: the
    /// closed-minute windows are at least a minute late, which alone broke the 2-minute
    /// target (bench/anomaly: 3.2 min). Same ratio and rate thresholds; a minimum of retries
    /// (a rate of 25/min, above the 5-minute window's 10/min) spread over several requests,
    /// so one agent trace retrying every step cannot breach it alone.
    public var recentMinimumRetries = 25
    public var recentMinimumRetryingRequests = 5
    /// Retries per call that breach: 5× the SRE book's 10% retry budget.
    public var fireRetriesPerCall = 0.5
    /// …and this multiple of the scope's own 7-day median, so a client that always retries
    /// heavily is its own normal.
    public var baselineMultiple = 3.0
    /// …with at least this many retries in the window.
    public var minimumRetries = 50
    /// Or an absolute rate: retries per minute ≥ max(this, `p99Multiple` × the 7-day p99).
    public var absoluteRetriesPerMinute = 100.0
    public var p99Multiple = 3.0
    /// Below this the storm is over (hysteresis); between the two, elevated.
    public var resolveRetriesPerCall = 0.2
    /// Fewer calls than this in the window: no data (a ratio rule never clears by silence).
    public var minimumCallsToJudge = 10
    /// Three consecutive 10 s evaluations (or two a minute apart): fits the 2-minute budget
    /// with the 60 s window, and one noisy round never fires.
    public var pendingFor: TimeInterval = 20
    public var baselineHistoryMinutes = 7 * Minutes.perDay
    public var criticalRetriesPerCall = 1.5

    public init() {}
}

/// Retry storm: retries per call over 5 minutes far above the scope's own baseline. The
/// annotations say whether the provider is rate limiting (429) or failing (5xx), and how
/// many calls fell back to another model — what the on-call person asks first.
public enum RetryStorm {
    /// - Parameters:
    ///   - recent: the freshest 60 s of raw events for this scope, when the caller has them.
    ///   - history: ``baseline(_:now:parameters:)`` computed earlier in the same minute (it
    ///     scans a week; an evaluator running every 10 s reuses it); nil computes it.
    ///   - now: the watermark; the series windows end at its minute.
    public static func evaluate(_ series: MinuteSeries, recent: [CallSample] = [], history: History? = nil,
                                parameters p: RetryStormParameters = .init(), now: Date) -> Evaluation {
        let key = AlertKey(rule: .retryStorm, scope: series.scope)
        let end = Minutes.of(now)
        let history = history ?? baseline(series, end: end, p)
        let ratioThreshold = max(p.fireRetriesPerCall, p.baselineMultiple * history.medianRetriesPerCall)
        let rateThreshold = max(p.absoluteRetriesPerMinute, p.p99Multiple * history.p99RetriesPerMinute)
        func judge(_ minutes: Int) -> Window? {
            series.totals(endingAt: end, length: minutes).map {
                Window(totals: $0, minutes: minutes, ratioThreshold: ratioThreshold, rateThreshold: rateThreshold, p)
            }
        }
        guard let long = judge(p.windowMinutes) else { return Evaluation(key: key, condition: .noData) }
        // The short window catches the onset sooner. Of the breaching windows the one with more
        // retries per call is reported: while the long window still fills, its lower ratio
        // would understate the storm and a later "critical" would re-notify the same incident.
        let fresh = recentWindow(recent, ratioThreshold: ratioThreshold, rateThreshold: rateThreshold, p)
        let breaching = [long, judge(p.shortWindowMinutes), fresh].compactMap { $0 }.filter(\.breaching)
        guard let storm = breaching.max(by: { $0.retriesPerCall < $1.retriesPerCall }) else {
            guard long.totals.calls >= p.minimumCallsToJudge else { return Evaluation(key: key, condition: .noData) }
            return Evaluation(key: key, condition: long.retriesPerCall >= p.resolveRetriesPerCall ? .elevated : .clear)
        }
        let current = storm.totals
        let upstream = current.http429 + current.http5xx
        let share429 = upstream > 0 ? Double(current.http429) / Double(upstream) : 0
        let cause = upstream == 0 ? "" : share429 >= 0.5
            ? ", mostly rate limiting (\(Format.percent(share429)) 429)"
            : ", mostly upstream failures (\(Format.percent(1 - share429)) 5xx)"
        let span = storm.minutes == 1 && storm.fromRawEvents ? "the last 60 s" : "\(storm.minutes) min"
        let finding = Finding(
            key: key, severity: storm.retriesPerCall >= p.criticalRetriesPerCall ? .critical : .warning,
            unit: storm.byRatio ? .retriesPerCall : .count,
            value: storm.byRatio ? storm.retriesPerCall : storm.perMinute,
            baseline: storm.byRatio ? history.medianRetriesPerCall : history.p99RetriesPerMinute,
            threshold: storm.byRatio ? ratioThreshold : rateThreshold,
            summary: "\(current.retries) retries over \(current.calls) calls in \(span) "
                + "(\(Format.number(storm.retriesPerCall)) per call vs \(Format.number(history.medianRetriesPerCall)) usual)"
                + cause + "; \(current.fallbacks) fallbacks in \(series.scope)",
            annotations: ["retries": String(current.retries), "calls": String(current.calls),
                          "http_429": String(current.http429), "http_5xx": String(current.http5xx),
                          "share_429": Format.number(share429), "fallbacks": String(current.fallbacks),
                          "retries_per_minute": Format.number(storm.perMinute), "window_minutes": String(storm.minutes)],
            pendingFor: p.pendingFor)
        return Evaluation(key: key, condition: .breaching(finding))
    }

    /// The raw-event samples of the last 60 s as one window; nil without any.
    static func recentWindow(_ samples: [CallSample], ratioThreshold: Double, rateThreshold: Double,
                             _ p: RetryStormParameters) -> Window? {
        guard !samples.isEmpty else { return nil }
        var totals = WindowTotals()
        var retrying = 0
        for sample in samples {
            totals.calls += sample.calls
            totals.retries += sample.retries
            totals.http429 += sample.http429
            totals.http5xx += sample.http5xx
            totals.fallbacks += sample.fallbacks
            retrying += sample.retryingRequests
        }
        let minutes = max(1, Int((samples.reduce(0) { $0 + $1.seconds } / 60).rounded()))
        var window = Window(totals: totals, minutes: minutes, ratioThreshold: ratioThreshold, rateThreshold: rateThreshold,
                            minimumRetries: p.recentMinimumRetries, p)
        window.fromRawEvents = true
        if retrying < p.recentMinimumRetryingRequests { window.byRatio = false; window.byRate = false }
        return window
    }

    /// One window's retry figures against the thresholds.
    struct Window {
        let totals: WindowTotals
        let minutes: Int
        let retriesPerCall: Double
        let perMinute: Double
        var byRatio: Bool
        var byRate: Bool
        var fromRawEvents = false
        var breaching: Bool { byRatio || byRate }

        init(totals: WindowTotals, minutes: Int, ratioThreshold: Double, rateThreshold: Double,
             minimumRetries: Int? = nil, _ p: RetryStormParameters) {
            self.totals = totals
            self.minutes = minutes
            retriesPerCall = totals.calls > 0 ? Double(totals.retries) / Double(totals.calls) : 0
            perMinute = Double(totals.retries) / Double(minutes)
            byRatio = totals.calls > 0 && retriesPerCall >= ratioThreshold && totals.retries >= (minimumRetries ?? p.minimumRetries)
            byRate = perMinute >= rateThreshold
        }
    }

    /// A scope's usual retry figures (see ``baseline(_:now:parameters:)``).
    public struct History: Sendable, Hashable {
        public var medianRetriesPerCall: Double
        public var p99RetriesPerMinute: Double
    }

    /// The scope's retry baseline at `now`'s minute, for callers that evaluate several times
    /// a minute.
    public static func baseline(_ series: MinuteSeries, now: Date, parameters p: RetryStormParameters = .init()) -> History {
        baseline(series, end: Minutes.of(now), p)
    }

    /// The 7-day median of retries per call (over windows with calls) and p99 of retries per
    /// minute, excluding the current window. No history: zero, so the absolute parts decide.
    static func baseline(_ series: MinuteSeries, end: Int, _ p: RetryStormParameters) -> History {
        let start = max(series.since, end - p.windowMinutes - p.baselineHistoryMinutes)
        var ratios: [Double] = []
        var t = end - p.windowMinutes
        while t - p.windowMinutes >= start {
            if let window = series.totals(endingAt: t, length: p.windowMinutes), window.calls > 0 {
                ratios.append(Double(window.retries) / Double(window.calls))
            }
            t -= p.windowMinutes
        }
        let lastBaselineMinute = end - p.windowMinutes
        let perMinute = start < lastBaselineMinute
            ? (start..<lastBaselineMinute).map { Double(series.bucket(at: $0)?.retries ?? 0) } : []
        return History(medianRetriesPerCall: RobustStatistics.median(ratios) ?? 0,
                       p99RetriesPerMinute: RobustStatistics.quantile(perMinute, 0.99) ?? 0)
    }
}
