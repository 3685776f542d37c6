/// Which history a baseline came from; ``trailing`` is the least trustworthy.
public enum BaselineMode: String, Sendable, Hashable {
    /// Same minute of the week, 1…4 weeks back (needs ≥ 2 weeks of history).
    case weekly
    /// Same minute of the day, 1…7 days back (needs ≥ 2 days).
    case daily
    /// The trailing 24 hours (less history than that: a new scope).
    case trailing
}

/// A baseline value and where it came from.
public struct Baseline: Sendable, Hashable {
    public var mode: BaselineMode
    public var value: Double
    /// How many past windows the median was taken over.
    public var samples: Int
}

/// The expected value of a windowed signal at a given window end, as the median of the same
/// window at the same minute of the week (weekly seasonality: weekday vs weekend), else of
/// the day (daily seasonality), else of the trailing day.
///
/// Medians, not means: one past incident in four weeks cannot move a median of four. The
/// offsets are exact multiples of the period, not Grafana's 23h45m, because our windows end
/// on closed minutes and the same minute a period ago is exactly comparable.
///
/// With ``Smoothing``, each past period also contributes the windows a few minutes either side
/// of the same minute, and the baseline is the larger of the plain median and the median of
/// all those windows (the union of two bands, as Grafana's anomaly rules take the widest). With
/// two weeks of history the plain weekly baseline is the mean of two windows, as noisy as half
/// a window again; ten windows cut that to about a sixth, so the spread calibrated on the
/// residuals is narrower and spikes cross it sooner. The plain median stays in the max so a
/// burst that recurs at the same minute every week (a cron job) is still its own baseline.
enum SeasonalBaseline {
    /// Neighbouring window ends taken from each past period: `-neighbours...neighbours` steps of
    /// `step` minutes around the same minute.
    struct Smoothing: Sendable, Hashable {
        var neighbours: Int
        var step: Int
    }

    /// - Parameters:
    ///   - end: the window end (exclusive minute) to find a baseline for.
    ///   - since: the first minute with known data.
    ///   - trailingStep: the step between trailing samples (the window length: no overlap).
    ///   - value: the signal for a window ending at a minute; nil when unknown there.
    ///   - smoothing: neighbouring windows for the weekly and daily modes; nil: the same minute only.
    static func baseline(at end: Int, since: Int, trailingStep: Int, smoothing: Smoothing? = nil,
                         value: (Int) -> Double?) -> Baseline? {
        let history = end - since
        func seasonal(_ mode: BaselineMode, period: Int, periods: Int) -> Baseline? {
            let values = (1...periods).compactMap { value(end - $0 * period) }
            guard values.count >= 2, let median = RobustStatistics.median(values) else { return nil }
            guard let smoothing, smoothing.neighbours > 0 else { return Baseline(mode: mode, value: median, samples: values.count) }
            let offsets = (-smoothing.neighbours...smoothing.neighbours).map { $0 * smoothing.step }
            let around = (1...periods).flatMap { k in offsets.compactMap { value(end - k * period + $0) } }
            let smoothed = RobustStatistics.median(around) ?? median
            return Baseline(mode: mode, value: max(median, smoothed), samples: around.count)
        }
        if history >= 2 * Minutes.perWeek, let weekly = seasonal(.weekly, period: Minutes.perWeek, periods: 4) {
            return weekly
        }
        if history >= 2 * Minutes.perDay, let daily = seasonal(.daily, period: Minutes.perDay, periods: 7) {
            return daily
        }
        let steps = Minutes.perDay / max(trailingStep, 1)
        let values = (1...max(steps, 1)).compactMap { value(end - $0 * trailingStep) }
        guard let median = RobustStatistics.median(values) else { return nil }
        return Baseline(mode: .trailing, value: median, samples: values.count)
    }
}
