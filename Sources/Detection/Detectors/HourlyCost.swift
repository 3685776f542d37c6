import Foundation
import TokenmeterCore

/// Parameters of ``HourlyCost``, the static rule users ask for (clawmetry#301: "> 2× a 7-day
/// baseline").
public struct HourlyCostParameters: Sendable, Hashable {
    /// The last closed hour must cost more than this multiple of the average of the same hour.
    public var multiple = 2.0
    /// Days averaged (the same hour of each).
    public var days = 7
    /// Fewer days of history than this: no data. Three so one odd day cannot be the baseline.
    public var minimumDays = 3
    /// And exceed that average by at least this much: $0.40 over $0.20 is not news.
    public var absoluteFloor = Money(picodollars: 1_000_000_000_000)   // $1
    public var criticalMultiple = 5.0

    public init() {}
}

/// Hourly cost above a multiple of the 7-day average for that hour of day. Evaluated on the
/// last closed hour, so it holds for the hour and needs no pending period. Means, not
/// medians, because that is what the rule says and what users check by hand.
public enum HourlyCost {
    public static func evaluate(_ series: MinuteSeries, parameters p: HourlyCostParameters = .init(),
                                now: Date) -> Evaluation {
        let key = AlertKey(rule: .hourlyCost, scope: series.scope)
        let hourEnd = Minutes.of(now) / Minutes.perHour * Minutes.perHour
        guard let current = series.totals(endingAt: hourEnd, length: Minutes.perHour) else {
            return Evaluation(key: key, condition: .noData)
        }
        let past = (1...p.days).compactMap {
            series.totals(endingAt: hourEnd - $0 * Minutes.perDay, length: Minutes.perHour)?.cost.usd
        }
        guard past.count >= p.minimumDays else { return Evaluation(key: key, condition: .noData) }
        let average = past.reduce(0, +) / Double(past.count)
        let x = current.cost.usd
        let threshold = max(p.multiple * average, average + p.absoluteFloor.usd)
        guard x > threshold else { return Evaluation(key: key, condition: .clear) }
        let hour = (hourEnd / Minutes.perHour - 1) % 24
        let finding = Finding(
            key: key, severity: x >= p.criticalMultiple * average ? .critical : .warning, unit: .usd,
            value: x, baseline: average, threshold: threshold,
            summary: "Cost \(Format.usd(x)) in hour \(hour):00 UTC vs a \(past.count)-day average of "
                + "\(Format.usd(average)) (\(Format.times(x, over: average))) in \(series.scope)",
            annotations: ["hour_utc": String(hour), "days_averaged": String(past.count)],
            pendingFor: 0)
        return Evaluation(key: key, condition: .breaching(finding))
    }
}
