import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct BudgetAlertsTests {
    /// 2026-11-25 12:00 UTC.
    static let noon = Date(timeIntervalSince1970: 1_795_608_000)
    static let daily = Budget(id: "b1", scope: Traffic.chat, period: .daily, unit: .usd,
                              limit: 10 * Money.picodollarsPerDollar)

    static func usd(_ amount: Double) -> Int64 { Int64(amount * 1e12) }

    @Test(arguments: [(7.9, nil), (8.5, Severity.warning), (10.0, .critical), (12.0, .critical)])
    func thresholdAlertsAtEightyAndHundredPercent(_ spent: Double, _ severity: Severity?) {
        let evaluation = BudgetAlerts.threshold(Self.daily, usage: BudgetUsage(spentInPeriod: Self.usd(spent)), now: Self.noon)
        #expect(evaluation.finding?.severity == severity)
        #expect(evaluation.key.instance == "2026-11-25T00:00:00Z")
        #expect(evaluation.key.scope.labels["budget_id"] == "b1")
    }

    @Test func thePeriodIsTheKeySoANewDayIsANewIncident() {
        let today = BudgetAlerts.threshold(Self.daily, usage: BudgetUsage(spentInPeriod: Self.usd(9)), now: Self.noon)
        let tomorrow = BudgetAlerts.threshold(Self.daily, usage: BudgetUsage(spentInPeriod: Self.usd(9)),
                                              now: Self.noon.addingTimeInterval(86_400))
        #expect(today.key.fingerprint != tomorrow.key.fingerprint)
        var monthly = Self.daily
        monthly.period = .monthly
        #expect(BudgetAlerts.threshold(monthly, usage: BudgetUsage(spentInPeriod: 0), now: Self.noon).key.instance
                == "2026-11-01T00:00:00Z")
    }

    @Test func projectsExhaustionAtTheLastHoursPace() throws {
        // $8.50 spent, $0.50 in the last hour: $1.50 left lasts 3 hours.
        let usage = BudgetUsage(spentInPeriod: Self.usd(8.5), spentLastHour: Self.usd(0.5))
        let finding = try #require(BudgetAlerts.threshold(Self.daily, usage: usage, now: Self.noon).finding)
        #expect(finding.annotations["projected_exhaustion"] == "2026-11-25T15:00:00Z")
        #expect(BudgetAlerts.projectedExhaustion(Self.daily, usage: BudgetUsage(spentInPeriod: Self.usd(11)), now: Self.noon) == Self.noon)
        #expect(BudgetAlerts.projectedExhaustion(Self.daily, usage: BudgetUsage(spentInPeriod: Self.usd(1)), now: Self.noon) == nil)
    }

    @Test func fastBurnNeedsBothWindows() throws {
        // A daily $10 budget burns at 1 when it spends $0.4167 an hour. $3 in the last hour is
        // 7.2; $0.30 in 5 minutes is 8.64.
        let burning = BudgetUsage(spentInPeriod: Self.usd(4), spentLast5Minutes: Self.usd(0.3),
                                  spentLast30Minutes: Self.usd(1.5), spentLastHour: Self.usd(3), spentLast6Hours: Self.usd(4))
        let finding = try #require(BudgetAlerts.burnRate(Self.daily, usage: burning, now: Self.noon).finding)
        #expect(finding.severity == .critical)
        #expect(abs(finding.value - 7.2) < 1e-9)
        var cooled = burning
        cooled.spentLast5Minutes = 0
        cooled.spentLast30Minutes = Self.usd(0.1)
        #expect(BudgetAlerts.burnRate(Self.daily, usage: cooled, now: Self.noon).condition == .clear)
    }

    @Test func slowBurnWarns() throws {
        // $6 in 6 h is BR 2.4; $1 in 30 min is 4.8; 1 h at $1.2 is 2.88 (< 6: not fast).
        let usage = BudgetUsage(spentInPeriod: Self.usd(6), spentLast5Minutes: Self.usd(0.1),
                                spentLast30Minutes: Self.usd(1), spentLastHour: Self.usd(1.2), spentLast6Hours: Self.usd(6))
        let finding = try #require(BudgetAlerts.burnRate(Self.daily, usage: usage, now: Self.noon).finding)
        #expect(finding.severity == .warning)
        #expect(abs(finding.value - 2.4) < 1e-9)
    }

    @Test func tokenBudgets() throws {
        let tokens = Budget(id: "tok", scope: Traffic.chat, period: .monthly, unit: .tokens, limit: 1_000_000)
        let finding = try #require(BudgetAlerts.threshold(tokens, usage: BudgetUsage(spentInPeriod: 850_000), now: Self.noon).finding)
        #expect(finding.unit == .tokens)
        #expect(finding.summary.contains("850000 tokens of 1000000 tokens"))
    }
}
