import Foundation
import TokenmeterCore

/// Parameters of ``SpendSpike``. Defaults: the reference design (§4.1), which met recall ≥ 0.9
/// for ×3 spikes at a median 6 min with 1 false alert per 8 series-weeks on synthetic data,
/// plus its volume-aware spread (see ``SpendSpike``), a shorter pending period traded for the
/// one-minute test, and a smoothed seasonal baseline (bench/anomaly fired ×3–×5 spikes after
/// 7.6–8.5 min with the reference's 3 evaluations).
public struct SpendSpikeParameters: Sendable, Hashable {
    /// Window of the cost signal when the scope expects ≥ `busyCallsPer5Min` calls per 5 min.
    public var windowMinutes = 5
    /// Wider windows for quieter scopes: fewer calls per window make a ratio meaningless.
    public var quietWindowMinutes = 15
    public var sparseWindowMinutes = 60
    public var busyCallsPer5Min = 20.0
    public var quietCallsPer5Min = 5.0
    /// Robust z the window must reach; 6 keeps ~10⁴ series × 1,440 tests a day quiet.
    public var zFire = 6.0
    /// Below this z the condition is clear (value hysteresis); in between it is elevated.
    public var zResolve = 2.0
    /// Window cost must be ≥ this multiple of the baseline.
    public var minimumLift = 2.0
    /// …and exceed it by at least this many dollars per window: no alerts over cents.
    public var absoluteFloor = Money(picodollars: 100_000_000_000)   // $0.10
    /// …with at least this many calls in the window.
    public var minimumCalls = 20
    /// With under 2 days of history the baseline is a trailing median: z and lift ×1.5.
    public var trailingStrictness = 1.5
    /// Fast path: ≥ ×10 and ≥ 10 floors above the baseline fires at once.
    public var fastLift = 10.0
    public var fastFloorMultiple: Int64 = 10
    /// Severity critical from this lift (of the window, or of its last `severityMinutes`
    /// — `windowMinutes` when the window is wider; see ``SpendSpike/recentLift``).
    public var criticalLift = 5.0
    public var severityMinutes = 2
    /// Breaching at 2 consecutive 1-minute evaluations (t, t+1) before firing. The reference
    /// measured 3 (its "2" came with z ≥ 5 and gave 12× the false alerts), but a pending
    /// period cannot filter what makes most false spend alerts: one very expensive call stays
    /// in a 5-minute window for 5 evaluations whatever the pending period. The one-minute test
    /// below filters that instead, and the minute saved is a fifth of the 6-minute budget.
    public var pendingFor: TimeInterval = 60
    /// Without its most expensive minute, the window must still hold this share of the excess
    /// over the baseline that the threshold asks for (both pro rata): a breach that hinges on
    /// one minute — in practice one heavy-tailed call — is not a spike in spend.
    public var oneMinuteShare = 0.5
    /// …and holding all of it without that minute fires at once: a breach that stands on the
    /// window's other minutes alone is broad and strong, not the borderline case a pending
    /// period is for.
    public var immediateShare = 1.0
    /// Neighbouring windows of each past week or day in the baseline (see ``SeasonalBaseline``):
    /// ±2 × 5 minutes.
    public var baselineNeighbours = 2
    public var baselineNeighbourStep = 5
    /// History used to calibrate the spread.
    public var spreadHistoryMinutes = 7 * Minutes.perDay
    /// Below this much history: no data (nothing to compare with).
    public var minimumHistoryMinutes = 120
    /// Floor of the noise calibration factor: a perfectly regular history must not make every
    /// wiggle infinitely significant (MAD = 0 on quantised series gives z = ∞).
    public var minimumNoiseFactor = 0.5
    /// Floor of the spread relative to the baseline.
    public var minimumRelativeSpread = 0.05

    public init() {}

    var smoothing: SeasonalBaseline.Smoothing {
        SeasonalBaseline.Smoothing(neighbours: baselineNeighbours, step: baselineNeighbourStep)
    }
}

/// Spend spike: the cost of the last window far above what this scope spends at this time.
///
/// Signal x = cost over the window ending at `now` (closed minutes). Baseline b =
/// ``SeasonalBaseline`` of x. Spread: the noise of a sum of c calls grows like √c, so the
/// relative deviation (x − b)/b is far noisier at night than at the daily peak; one
/// week-wide MAD of it is dominated by quiet hours and makes peak-hour spikes slow to fire.
/// So residuals are standardised by the expected Poisson noise, e = (x − b)/(b/√c) with c the
/// baseline call count, and the calibration factor k = 1.4826·MAD(e) over the past week
/// absorbs the cost-per-call variance. z = (x − b)/(k·b/√c).
public enum SpendSpike {
    /// - Parameter calibration: a noise factor computed earlier by ``calibrate(_:parameters:now:)``
    ///   for this scope. Calibrating scans a week of windows, so an evaluator running every
    ///   minute over many scopes should recompute it hourly and pass it in; nil (or one for
    ///   another window length) calibrates now.
    public static func evaluate(_ series: MinuteSeries, parameters p: SpendSpikeParameters = .init(),
                                calibration: SpendCalibration? = nil, now: Date) -> Evaluation {
        let key = AlertKey(rule: .spendSpike, scope: series.scope)
        let end = Minutes.of(now)
        guard end - series.since >= p.minimumHistoryMinutes else { return Evaluation(key: key, condition: .noData) }

        let window = windowLength(series, end: end, p)
        let model = Model(series: series, window: window, smoothing: p.smoothing)
        guard let current = series.totals(endingAt: end, length: window),
              let expected = model.expectation(at: end)
        else { return Evaluation(key: key, condition: .noData) }
        let noiseFactor = calibration.flatMap { $0.windowMinutes == window && $0.mode == expected.cost.mode ? $0.noiseFactor : nil }
            ?? model.noiseFactor(end: end, p, mode: expected.cost.mode)

        let x = current.cost.usd
        let b = expected.cost.value
        let floor = p.absoluteFloor.usd
        let scale = max(b, floor)
        let spread = max(noiseFactor * scale / expected.calls.squareRoot(), p.minimumRelativeSpread * scale)
        let z = (x - b) / spread
        let strictness = expected.cost.mode == .trailing ? p.trailingStrictness : 1
        let zFire = p.zFire * strictness
        let lift = p.minimumLift * strictness
        let threshold = max(lift * b, b + floor, b + zFire * spread)

        let broad = shareWithoutTopMinute(series, end: end, window: window, total: x, baseline: b, threshold: threshold)
        let fast = x >= p.fastLift * b && x - b >= floor * Double(p.fastFloorMultiple)
        let breaching = current.calls >= p.minimumCalls && x >= threshold && broad >= p.oneMinuteShare
        guard breaching else {
            let elevated = z >= p.zResolve && x - b >= floor / 2
            return Evaluation(key: key, condition: elevated ? .elevated : .clear)
        }
        let severity: Severity = max(x / max(b, 1e-12), recentLift(series, end: end, window: window, baseline: b, p))
            >= p.criticalLift ? .critical : .warning
        let summary = "Spend \(Format.usd(x)) in \(window) min vs \(Format.usd(b)) expected "
            + "(\(Format.times(x, over: b)), z \(Format.number(z)), \(expected.cost.mode.rawValue) baseline) "
            + "over \(current.calls) calls in \(series.scope)"
        let finding = Finding(
            key: key, severity: severity, unit: .usd, value: x, baseline: b, threshold: threshold,
            summary: summary,
            annotations: ["z": Format.number(z), "window_minutes": String(window),
                          "baseline_mode": expected.cost.mode.rawValue, "calls": String(current.calls)],
            pendingFor: fast || broad >= p.immediateShare ? 0 : p.pendingFor)
        return Evaluation(key: key, condition: .breaching(finding))
    }

    /// The larger lift of the last minutes of the window: its last `severityMinutes`, and its
    /// last `windowMinutes` when it is a 15- or 60-minute window. A spike fills a window gradually, so the
    /// whole window's lift at firing time understates it, and a later "critical" would
    /// re-notify an incident that did not get worse (a ×10 spike firing two minutes in reads
    /// ×4.6 over 5 minutes, then ×10: an escalation); severity takes the larger of the two.
    /// (Only severity: the breach itself is judged on the full window.)
    static func recentLift(_ series: MinuteSeries, end: Int, window: Int, baseline b: Double,
                           _ p: SpendSpikeParameters) -> Double {
        guard b > 0 else { return 0 }
        return [p.severityMinutes, p.windowMinutes].filter { $0 > 0 && $0 < window }.compactMap { length in
            series.totals(endingAt: end, length: length).map { $0.cost.usd / (b * Double(length) / Double(window)) }
        }.max() ?? 0
    }

    /// How much of the excess the threshold asks for (over the baseline, both pro rata) the
    /// window still holds without its most expensive minute: ≥ 1 breaches on its other minutes
    /// alone. Per-call cost is heavy-tailed, and one call costing 50× the usual one lifts a
    /// 5-minute window for five evaluations in a row, so it passes any pending period; a spend
    /// spike lifts every minute it lasts.
    static func shareWithoutTopMinute(_ series: MinuteSeries, end: Int, window: Int, total x: Double,
                                      baseline b: Double, threshold: Double) -> Double {
        guard window > 1, threshold > b else { return .infinity }
        let top = series.buckets(endingAt: end, length: window).map(\.cost.usd).max() ?? 0
        let share = Double(window - 1) / Double(window)
        return ((x - top) - b * share) / ((threshold - b) * share)
    }

    /// 5 minutes for busy scopes, 15 or 60 for quiet ones, from the expected calls per 5 min.
    static func windowLength(_ series: MinuteSeries, end: Int, _ p: SpendSpikeParameters) -> Int {
        let calls = SeasonalBaseline.baseline(at: end, since: series.since, trailingStep: p.windowMinutes) {
            series.totals(endingAt: $0, length: p.windowMinutes).map { Double($0.calls) }
        }
        guard let perFive = calls?.value else { return p.windowMinutes }
        if perFive >= p.busyCallsPer5Min { return p.windowMinutes }
        return perFive >= p.quietCallsPer5Min ? p.quietWindowMinutes : p.sparseWindowMinutes
    }

    /// The noise calibration for the window this scope uses at `now`.
    public static func calibrate(_ series: MinuteSeries, parameters p: SpendSpikeParameters = .init(),
                                 now: Date) -> SpendCalibration {
        let end = Minutes.of(now)
        let window = windowLength(series, end: end, p)
        let model = Model(series: series, window: window, smoothing: p.smoothing)
        let mode = model.expectation(at: end)?.cost.mode
        return SpendCalibration(windowMinutes: window, noiseFactor: model.noiseFactor(end: end, p, mode: mode), mode: mode)
    }

    /// The baselines of cost and calls for one window length.
    struct Model {
        let series: MinuteSeries
        let window: Int
        var smoothing: SeasonalBaseline.Smoothing? = SpendSpikeParameters().smoothing

        /// k from the standardised residuals over the past week, sampled every window (no
        /// overlap), floored: the larger of 1.4826 × MAD and the upper tail's spread,
        /// (q95 − median) / 1.645. Per-call cost is heavy-tailed (lognormal, σ ≈ 1), so a
        /// window's cost is right-skewed, most at feature and model scopes with few calls; the
        /// MAD sees only the bulk and under-states how far an ordinary window can reach upward
        /// (bench/anomaly's clean twins fired at ×5 with z 6–8 there). q95 stays clear of past
        /// incidents as long as they fill under 5% of the week.
        ///
        /// Only residuals judged against the same kind of baseline as `mode` count (when
        /// there are a dozen): a week ago the history was shorter, and a day compared with
        /// the weekend is far noisier than one compared with the same weekday, which would
        /// blunt the detector for the whole week the weekly baseline is available.
        func noiseFactor(end: Int, _ p: SpendSpikeParameters, mode: BaselineMode? = nil) -> Double {
            let floor = p.absoluteFloor.usd
            var residuals: [(mode: BaselineMode, value: Double)] = []
            for step in 1...max(p.spreadHistoryMinutes / window, 1) {
                let t = end - step * window
                guard let observed = series.totals(endingAt: t, length: window),
                      let expected = expectation(at: t) else { continue }
                let scale = max(expected.cost.value, floor) / expected.calls.squareRoot()
                residuals.append((expected.cost.mode, (observed.cost.usd - expected.cost.value) / scale))
            }
            let sameMode = residuals.filter { $0.mode == mode }.map(\.value)
            let values = sameMode.count >= 12 ? sameMode : residuals.map(\.value)
            // Under a dozen residuals say little about the noise: keep the Poisson assumption (1).
            guard values.count >= 12, let mad = RobustStatistics.scaledMAD(values),
                  let median = RobustStatistics.median(values),
                  let upper = RobustStatistics.quantile(values, 0.95) else { return max(1, p.minimumNoiseFactor) }
            return max(mad, (upper - median) / 1.645, p.minimumNoiseFactor)
        }

        func expectation(at end: Int) -> (cost: Baseline, calls: Double)? {
            guard let cost = SeasonalBaseline.baseline(at: end, since: series.since, trailingStep: window, smoothing: smoothing, value: {
                series.totals(endingAt: $0, length: window).map { $0.cost.usd }
            }), let calls = SeasonalBaseline.baseline(at: end, since: series.since, trailingStep: window, smoothing: smoothing, value: {
                series.totals(endingAt: $0, length: window).map { Double($0.calls) }
            }) else { return nil }
            return (cost, max(calls.value, 1))
        }
    }
}

/// A scope's spend noise factor for one window length and baseline mode (see ``SpendSpike``).
public struct SpendCalibration: Sendable, Hashable {
    public var windowMinutes: Int
    public var noiseFactor: Double
    /// The baseline kind the residuals were judged against; nil: any.
    public var mode: BaselineMode?

    public init(windowMinutes: Int, noiseFactor: Double, mode: BaselineMode? = nil) {
        self.windowMinutes = windowMinutes
        self.noiseFactor = noiseFactor
        self.mode = mode
    }
}
