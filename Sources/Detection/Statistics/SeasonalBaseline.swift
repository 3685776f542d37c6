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
enum SeasonalBaseline {
    /// - Parameters:
    ///   - end: the window end (exclusive minute) to find a baseline for.
    ///   - since: the first minute with known data.
    ///   - trailingStep: the step between trailing samples (the window length: no overlap).
    ///   - value: the signal for a window ending at a minute; nil when unknown there.
    static func baseline(at end: Int, since: Int, trailingStep: Int,
                         value: (Int) -> Double?) -> Baseline? {
        let history = end - since
        if history >= 2 * Minutes.perWeek {
            let values = (1...4).compactMap { value(end - $0 * Minutes.perWeek) }
            if values.count >= 2, let median = RobustStatistics.median(values) {
                return Baseline(mode: .weekly, value: median, samples: values.count)
            }
        }
        if history >= 2 * Minutes.perDay {
            let values = (1...7).compactMap { value(end - $0 * Minutes.perDay) }
            if values.count >= 2, let median = RobustStatistics.median(values) {
                return Baseline(mode: .daily, value: median, samples: values.count)
            }
        }
        let steps = Minutes.perDay / max(trailingStep, 1)
        let values = (1...max(steps, 1)).compactMap { value(end - $0 * trailingStep) }
        guard let median = RobustStatistics.median(values) else { return nil }
        return Baseline(mode: .trailing, value: median, samples: values.count)
    }
}
