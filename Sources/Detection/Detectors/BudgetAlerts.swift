import Foundation
import TokenmeterCore

public struct BudgetParameters: Sendable, Hashable {
    /// Warning at this fraction of the budget, critical at 100% (one incident that escalates).
    public var warningFraction = 0.8
    /// Fast burn: burn rate ≥ this over 1 h AND 5 min — a daily budget gone within 4 h.
    public var fastBurnRate = 6.0
    /// Slow burn: ≥ this over 6 h AND 30 min — gone within 12 h. The short window makes the
    /// alert reset minutes after the burn stops instead of an hour later.
    public var slowBurnRate = 2.0

    public init() {}
}

/// Budget alerts: threshold crossings and burn rate, with a projected exhaustion time.
///
/// Burn rate BR(w) = (spend in w / limit) / (w / period length): 1 spends exactly the budget
/// by the period's end. Long AND short windows, as in the SRE workbook's multiwindow alerts.
public enum BudgetAlerts {
    /// Threshold alert, keyed by the period's start: one incident per budget and period
    /// (OpenMeter and Lago do the same), warning at 80% escalating to critical at 100%.
    /// It clears when the limit is raised above the spend; the period rolling over ends it
    /// because the next period has a new key (the state machine resolves absent one-shot keys).
    public static func threshold(_ budget: Budget, usage: BudgetUsage, parameters p: BudgetParameters = .init(),
                                 now: Date) -> Evaluation {
        let period = budget.period(containing: now)
        let key = AlertKey(rule: .budgetThreshold, scope: budget.scope.adding("budget_id", budget.id),
                           instance: Format.date(period.start))
        guard budget.limit > 0 else { return Evaluation(key: key, condition: .noData) }
        let spent = Double(usage.spentInPeriod)
        let limit = Double(budget.limit)
        let fraction = spent / limit
        guard fraction >= p.warningFraction else { return Evaluation(key: key, condition: .clear) }
        let exhausted = fraction >= 1
        var annotations = ["budget_id": budget.id, "period_start": Format.date(period.start),
                           "spent": budget.format(spent), "limit": budget.format(limit),
                           "fraction": Format.number(fraction)]
        let eta = projectedExhaustion(budget, usage: usage, now: now)
        if let eta { annotations["projected_exhaustion"] = Format.date(eta) }
        let finding = Finding(
            key: key, severity: exhausted ? .critical : .warning, unit: budget.unit == .usd ? .usd : .tokens,
            value: spent, baseline: limit, threshold: (exhausted ? 1 : p.warningFraction) * limit,
            summary: "Budget \(budget.id) (\(budget.period.rawValue)) at \(Format.percent(fraction)): "
                + "\(budget.format(spent)) of \(budget.format(limit))"
                + (eta.map { "; at the last hour's pace exhausted at \(Format.date($0))" } ?? "")
                + " in \(budget.scope)",
            annotations: annotations, pendingFor: 0)
        return Evaluation(key: key, condition: .breaching(finding))
    }

    /// Burn-rate alert per budget: critical on a fast burn, warning on a slow one.
    public static func burnRate(_ budget: Budget, usage: BudgetUsage, parameters p: BudgetParameters = .init(),
                                now: Date) -> Evaluation {
        let key = AlertKey(rule: .budgetBurn, scope: budget.scope.adding("budget_id", budget.id))
        let period = budget.period(containing: now)
        guard budget.limit > 0 else { return Evaluation(key: key, condition: .noData) }
        func rate(_ spent: Int64, _ seconds: TimeInterval) -> Double {
            (Double(spent) / Double(budget.limit)) / (seconds / period.duration)
        }
        let hour = rate(usage.spentLastHour, 3600), five = rate(usage.spentLast5Minutes, 300)
        let sixHours = rate(usage.spentLast6Hours, 6 * 3600), thirty = rate(usage.spentLast30Minutes, 1800)
        let fast = hour >= p.fastBurnRate && five >= p.fastBurnRate
        let slow = sixHours >= p.slowBurnRate && thirty >= p.slowBurnRate
        guard fast || slow else {
            // Long window still hot but the short one cooled: the burn has stopped.
            return Evaluation(key: key, condition: .clear)
        }
        let value = fast ? hour : sixHours
        let eta = projectedExhaustion(budget, usage: usage, now: now)
        var annotations = ["budget_id": budget.id, "burn_rate_1h": Format.number(hour),
                           "burn_rate_5m": Format.number(five), "burn_rate_6h": Format.number(sixHours),
                           "burn_rate_30m": Format.number(thirty),
                           "spent": budget.format(Double(usage.spentInPeriod)),
                           "limit": budget.format(Double(budget.limit))]
        if let eta { annotations["projected_exhaustion"] = Format.date(eta) }
        let finding = Finding(
            key: key, severity: fast ? .critical : .warning, unit: .ratio,
            value: value, baseline: 1, threshold: fast ? p.fastBurnRate : p.slowBurnRate,
            summary: "Budget \(budget.id) burning \(Format.number(value))× its sustainable rate "
                + "(\(fast ? "1 h" : "6 h") window)"
                + (eta.map { "; projected exhausted at \(Format.date($0))" } ?? "") + " in \(budget.scope)",
            annotations: annotations, pendingFor: 0)
        return Evaluation(key: key, condition: .breaching(finding))
    }

    /// Linear projection at the last hour's pace: now + remaining / rate. Nil when nothing was
    /// spent in the last hour. `now` itself when already exhausted.
    public static func projectedExhaustion(_ budget: Budget, usage: BudgetUsage, now: Date) -> Date? {
        let remaining = Double(budget.limit - usage.spentInPeriod)
        guard remaining > 0 else { return now }
        guard usage.spentLastHour > 0 else { return nil }
        return now.addingTimeInterval(remaining / (Double(usage.spentLastHour) / 3600))
    }
}
