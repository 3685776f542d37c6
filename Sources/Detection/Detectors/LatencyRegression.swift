import Foundation
import TokenmeterCore

/// Which latency a ``LatencyRegression`` watches.
public enum LatencyMetric: Sendable, Hashable {
    case latency
    case timeToFirstToken

    var rule: Rule { self == .latency ? .latencyRegression : .ttftRegression }
    var name: String { self == .latency ? "p95 latency" : "p95 time to first token" }

    func value(_ bucket: MinuteBucket) -> Double? {
        self == .latency ? bucket.latencyP95 : bucket.ttftP95
    }

    func sketch(_ bucket: MinuteBucket) -> LatencySketch? {
        self == .latency ? bucket.latencySketch : bucket.ttftSketch
    }
}

public struct LatencyRegressionParameters: Sendable, Hashable {
    public var windowMinutes = 15
    /// Fewer calls in the window than this: no data (a p95 of 20 calls is noise).
    public var minimumCalls = 50
    /// p95 ≥ this multiple of the baseline…
    public var fireRatio = 1.5
    /// …and ≥ this many ms above it (a 40 → 60 ms change is not a regression anyone pages on)…
    public var absoluteFloorMs = 500.0
    /// …and a robust z of log(p95 / baseline) ≥ this.
    public var zFire = 4.0
    /// Below this ratio it is clear; between, elevated.
    public var resolveRatio = 1.2
    /// Three evaluations at a 5-minute cadence.
    public var pendingFor: TimeInterval = 10 * 60
    /// Spread from log residuals sampled hourly over this much history.
    public var spreadHistoryMinutes = 7 * Minutes.perDay
    /// Floor on the spread of log(p95): 0.05 ≈ 5%.
    public var minimumLogSpread = 0.05
    public var criticalRatio = 3.0
    /// Without its slowest minute, the window must still be this share of the way from the
    /// baseline to the threshold (see ``LatencyRegression/valueWithoutSlowestMinute(_:_:end:_:)``).
    public var slowestMinuteShare = 0.5
    /// More of the window's minutes must have their own p95 above the baseline than chance gives
    /// with this probability or less (see ``LatencyRegression/mostMinutesAboveBaseline(_:_:end:baseline:_:)``).
    public var minuteSignificance = 0.01

    public init() {}
}

/// Latency regression: the window's p95 well above its seasonal baseline, sustained.
///
/// The window value is the exact p95 of the merged minute sketches when every minute with
/// calls has one; otherwise the call-weighted median of the per-minute p95s, which over 15
/// minutes says "most of the traffic ran slow" and needs only a p95 per minute. Ratios are
/// judged in log space, where latency noise is roughly symmetric.
public enum LatencyRegression {
    /// `spread`, when given, is what ``spread(_:metric:parameters:now:)`` answered for this series
    /// within the hour: it moves slowly, and computing it merges sketches for a week of windows.
    public static func evaluate(_ series: MinuteSeries, metric: LatencyMetric = .latency,
                                parameters p: LatencyRegressionParameters = .init(), spread: Double? = nil, now: Date) -> Evaluation {
        let key = AlertKey(rule: metric.rule, scope: series.scope)
        let end = Minutes.of(now)
        var windows = Windows(series: series, metric: metric, parameters: p)
        guard let current = windows.value(end),
              let baseline = SeasonalBaseline.baseline(at: end, since: series.since,
                                                       trailingStep: Minutes.perHour, value: { windows.value($0) }),
              baseline.value > 0
        else { return Evaluation(key: key, condition: .noData) }
        let spread = spread ?? Self.spread(&windows, end: end)
        let b = baseline.value
        let z = log(current / b) / spread
        let threshold = max(p.fireRatio * b, b + p.absoluteFloorMs, b * exp(p.zFire * spread))
        guard current >= threshold else {
            return Evaluation(key: key, condition: current >= p.resolveRatio * b ? .elevated : .clear)
        }
        // A regression slows every minute; one slow request does not. The steps of an agent
        // trace share its model and often one latency, so at a quiet hour one slow trace can
        // be the window's p95 for all 15 minutes, through any pending period
        // (bench/anomaly --clean-series: 4 steps of one 2.6 s trace in one minute made a
        // Saturday-night p95 of 69 calls 2581 ms vs 1527 usual, and fired).
        let rest = Self.valueWithoutSlowestMinute(series, metric, end: end, p) ?? 0
        guard rest >= b + p.slowestMinuteShare * (threshold - b),
              Self.mostMinutesAboveBaseline(series, metric, end: end, baseline: b, p) else {
            return Evaluation(key: key, condition: .elevated)
        }
        let finding = Finding(
            key: key, severity: current >= p.criticalRatio * b ? .critical : .warning, unit: .milliseconds,
            value: current, baseline: b, threshold: threshold,
            summary: "\(metric.name) \(Format.ms(current)) over \(p.windowMinutes) min vs \(Format.ms(b)) usual "
                + "(\(Format.times(current, over: b)), \(baseline.mode.rawValue) baseline) in \(series.scope)",
            annotations: ["z": Format.number(z), "baseline_mode": baseline.mode.rawValue,
                          "window_minutes": String(p.windowMinutes)],
            pendingFor: p.pendingFor)
        return Evaluation(key: key, condition: .breaching(finding))
    }

    /// The spread of log(p95 / baseline) over hourly windows of the past week (robust, floored):
    /// how far this scope's p95 strays from its baseline on an ordinary day.
    public static func spread(_ series: MinuteSeries, metric: LatencyMetric = .latency,
                              parameters p: LatencyRegressionParameters = .init(), now: Date) -> Double {
        var windows = Windows(series: series, metric: metric, parameters: p)
        return spread(&windows, end: Minutes.of(now))
    }

    private static func spread(_ windows: inout Windows, end: Int) -> Double {
        let p = windows.parameters
        var residuals: [Double] = []
        for step in 1...(p.spreadHistoryMinutes / Minutes.perHour) {
            let t = end - step * Minutes.perHour
            guard let observed = windows.value(t), observed > 0,
                  let expected = SeasonalBaseline.baseline(at: t, since: windows.series.since,
                                                           trailingStep: Minutes.perHour, value: { windows.value($0) }),
                  expected.value > 0 else { continue }
            residuals.append(log(observed / expected.value))
        }
        return max(RobustStatistics.scaledMAD(residuals) ?? p.minimumLogSpread, p.minimumLogSpread)
    }

    /// Window values by end minute, remembered: the spread's week of hourly steps and their
    /// trailing baselines ask for the same windows again and again (t − k h), and each is a merge
    /// of 15 sketches.
    private struct Windows {
        let series: MinuteSeries
        let metric: LatencyMetric
        let parameters: LatencyRegressionParameters
        var known: [Int: Double?] = [:]

        mutating func value(_ end: Int) -> Double? {
            if let value = known[end] { return value }
            let computed = LatencyRegression.value(series, metric, end: end, parameters)
            known[end] = computed
            return computed
        }
    }

    /// The window's value without the minute whose own p95 is the highest (no minimum call
    /// count: it only confirms a breach of the full window); nil when no other minute has one.
    static func valueWithoutSlowestMinute(_ series: MinuteSeries, _ metric: LatencyMetric, end: Int,
                                          _ p: LatencyRegressionParameters) -> Double? {
        let buckets = series.buckets(endingAt: end, length: p.windowMinutes).filter { $0.calls > 0 }
        let sketches = buckets.compactMap(metric.sketch)
        if !buckets.isEmpty && sketches.count == buckets.count {
            let p95s = sketches.map { $0.quantile(0.95) ?? 0 }
            guard let slowest = p95s.indices.max(by: { p95s[$0] < p95s[$1] }) else { return nil }
            var merged = LatencySketch()
            for (index, sketch) in sketches.enumerated() where index != slowest { merged.merge(sketch) }
            return merged.count > 0 ? merged.quantile(0.95) : nil
        }
        var pairs = buckets.compactMap { bucket in metric.value(bucket).map { (value: $0, weight: Double(bucket.calls)) } }
        guard let slowest = pairs.indices.max(by: { pairs[$0].value < pairs[$1].value }) else { return nil }
        pairs.remove(at: slowest)
        return RobustStatistics.weightedMedian(pairs)
    }

    /// Whether more minutes of the window have their own p95 above the baseline than chance
    /// explains. Slow traces at a quiet hour are spread over a few minutes (two night-time false
    /// alerts at ×1.8 on bench/anomaly --clean-series outlived the slowest-minute check); a
    /// regression slows most minutes. Without one, a minute of c calls has its p95 (rank ⌈0.95c⌉)
    /// above the usual p95 only if at least c − ⌈0.95c⌉ + 1 of its calls are, each with chance
    /// 0.05: the count of such minutes is judged against that Poisson binomial, one-sided at
    /// `minuteSignificance`, so a quiet hour (5 calls a minute: chance 0.23 per minute) needs about
    /// 8 of 15 minutes and a busy one nearly all. True without per-minute sketches (the value is
    /// then already a median of minutes).
    static func mostMinutesAboveBaseline(_ series: MinuteSeries, _ metric: LatencyMetric, end: Int, baseline: Double,
                                         _ p: LatencyRegressionParameters) -> Bool {
        let buckets = series.buckets(endingAt: end, length: p.windowMinutes).filter { $0.calls > 0 }
        let sketches = buckets.compactMap(metric.sketch)
        guard !buckets.isEmpty, sketches.count == buckets.count else { return true }
        var chances: [Double] = []
        var above = 0
        for sketch in sketches where sketch.count > 0 {
            let calls = Int(sketch.count)
            let rank = max(1, Int((0.95 * Double(calls)).rounded(.up)))
            chances.append(RobustStatistics.binomialUpperTail(trials: calls, atLeast: calls - rank + 1, probability: 0.05))
            if let minuteP95 = sketch.quantile(0.95), minuteP95 > baseline { above += 1 }
        }
        return RobustStatistics.poissonBinomialUpperTail(chances, atLeast: above) <= p.minuteSignificance
    }

    /// Call-weighted median of minute p95s in the window ending at `end`; nil under the
    /// minimum call count or before the series' history.
    static func value(_ series: MinuteSeries, _ metric: LatencyMetric, end: Int,
                      _ p: LatencyRegressionParameters) -> Double? {
        guard end - p.windowMinutes >= series.since else { return nil }
        let buckets = series.buckets(endingAt: end, length: p.windowMinutes).filter { $0.calls > 0 }
        let sketches = buckets.compactMap(metric.sketch)
        if !buckets.isEmpty && sketches.count == buckets.count {
            var merged = LatencySketch()
            for sketch in sketches { merged.merge(sketch) }
            return merged.count >= Int64(p.minimumCalls) ? merged.quantile(0.95) : nil
        }
        let pairs = series.buckets(endingAt: end, length: p.windowMinutes).compactMap { bucket in
            metric.value(bucket).map { (value: $0, weight: Double(bucket.calls)) }
        }
        guard pairs.reduce(0, { $0 + $1.weight }) >= Double(p.minimumCalls) else { return nil }
        return RobustStatistics.weightedMedian(pairs)
    }
}
