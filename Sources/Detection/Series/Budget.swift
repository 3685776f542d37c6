import Foundation
import TokenmeterCore

/// What a budget counts.
public enum BudgetUnit: String, Sendable, Hashable {
    /// Amounts in picodollars (``Money``).
    case usd
    case tokens
}

public enum BudgetPeriod: String, Sendable, Hashable {
    case daily
    case monthly

    /// The calendar day or month that contains `date`, in `timeZone` (default UTC).
    public func interval(containing date: Date, timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> DateInterval {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let component: Calendar.Component = self == .daily ? .day : .month
        return calendar.dateInterval(of: component, for: date)!
    }
}

/// A spending limit for a scope (project, feature or user) over a calendar period.
public struct Budget: Sendable, Hashable {
    public var id: String
    public var scope: Scope
    public var period: BudgetPeriod
    public var unit: BudgetUnit
    /// In the unit's smallest amount: picodollars or tokens.
    public var limit: Int64
    /// Where the period's days and months begin (an IANA zone; default UTC).
    public var timeZone: TimeZone

    public init(id: String, scope: Scope, period: BudgetPeriod, unit: BudgetUnit, limit: Int64,
                timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.id = id
        self.scope = scope
        self.period = period
        self.unit = unit
        self.limit = limit
        self.timeZone = timeZone
    }

    /// The period that contains `date`, in the budget's time zone.
    public func period(containing date: Date) -> DateInterval {
        period.interval(containing: date, timeZone: timeZone)
    }

    /// Renders an amount of this budget's unit for people.
    func format(_ amount: Double) -> String {
        unit == .usd ? Format.usd(amount / Double(Money.picodollarsPerDollar)) : String(format: "%.0f tokens", amount)
    }
}

/// Spend against a budget, summed by the caller (one SQL query over the rollups): the period
/// so far and the trailing windows the burn-rate rules compare.
public struct BudgetUsage: Sendable, Hashable {
    /// In the budget's unit, since the start of the current period.
    public var spentInPeriod: Int64
    public var spentLast5Minutes: Int64
    public var spentLast30Minutes: Int64
    public var spentLastHour: Int64
    public var spentLast6Hours: Int64

    public init(spentInPeriod: Int64, spentLast5Minutes: Int64 = 0, spentLast30Minutes: Int64 = 0,
                spentLastHour: Int64 = 0, spentLast6Hours: Int64 = 0) {
        self.spentInPeriod = spentInPeriod
        self.spentLast5Minutes = spentLast5Minutes
        self.spentLast30Minutes = spentLast30Minutes
        self.spentLastHour = spentLastHour
        self.spentLast6Hours = spentLast6Hours
    }
}
