import Foundation
import Testing
@testable import Detection

struct AlertStateMachineTests {
    let spend = Alerts.spendKey

    @Test func oneFiringAndOneResolvedNotificationPerIncident() throws {
        var run = AlertRun()
        run.rounds(20, [Alerts.breach(spend)])        // minutes 0–19
        run.rounds(15, [Alerts.clear(spend)])         // minutes 20–34
        #expect(run.kinds(spend) == [.firing, .resolved])
        // Pending 3 min: breaching at 0, 1, 2 and firing at 3. Clear from 20: resolved at 30.
        #expect(run.minutes(spend, .firing) == [3])
        #expect(run.minutes(spend, .resolved) == [30])
        #expect(run.alerts[spend.fingerprint] == nil)
    }

    @Test func pendingThatClearsNeverNotifies() {
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(spend)])
        run.round([Alerts.clear(spend)])
        run.rounds(2, [Alerts.breach(spend)])
        run.rounds(12, [Alerts.clear(spend)])
        #expect(run.sent.isEmpty)
        #expect(run.alerts.isEmpty)
    }

    @Test func aGapInTheDataRestartsThePendingPeriod() {
        // Breaching at 0–1, unknown at 2–9, breaching again from 10: the 3 minutes count from 10.
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(spend)])
        run.rounds(4, [Alerts.noData(spend)])
        run.rounds(4, [])
        run.rounds(5, [Alerts.breach(spend)])
        #expect(run.minutes(spend, .firing) == [13])
    }

    @Test func aResolvedInstanceIsReturnedOnceForArchiving() throws {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(spend, pendingFor: 0)])
        run.rounds(10, [Alerts.clear(spend)])
        #expect(run.alerts[spend.fingerprint]?.phase == .firing)
        run.round([Alerts.clear(spend)])
        let resolved = try #require(run.alerts[spend.fingerprint])
        #expect(resolved.phase == .resolved)
        #expect(resolved.resolvedAt == AlertRun.start.addingTimeInterval(15 * 60))
        #expect(resolved.firingSince == AlertRun.start)
        run.round([Alerts.clear(spend)])
        #expect(run.alerts.isEmpty)
    }

    @Test func flappingStaysOneIncident() {
        // Firing, then breaching and clear alternating every 2 minutes for an hour: never
        // clear for the 10-minute resolve window, so one firing notification, no resolution.
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(spend)])
        for i in 0..<30 {
            run.rounds(2, [i % 2 == 0 ? Alerts.breach(spend) : Alerts.clear(spend)])
        }
        #expect(run.kinds(spend) == [.firing])
        run.rounds(10, [Alerts.clear(spend)])
        #expect(run.kinds(spend) == [.firing, .resolved])
    }

    @Test func elevatedKeepsAFiringAlertButStartsNothing() {
        var run = AlertRun()
        run.rounds(4, [Alerts.elevated(spend)])
        #expect(run.alerts.isEmpty)
        run.rounds(5, [Alerts.breach(spend)])
        run.rounds(30, [Alerts.elevated(spend)])
        #expect(run.kinds(spend) == [.firing])
        run.rounds(10, [Alerts.clear(spend)])
        #expect(run.kinds(spend) == [.firing])
        run.round([Alerts.clear(spend)])
        #expect(run.kinds(spend) == [.firing, .resolved])
    }

    @Test func missingDataNeverResolvesARatioAlert() throws {
        let surge = Alerts.surgeKey
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(surge, pendingFor: 10)])
        run.rounds(110, [Alerts.noData(surge)])       // almost two hours of too few calls
        run.rounds(110, [])                            // and as long not evaluated at all
        #expect(run.kinds(surge) == [.firing])
        #expect(run.alerts[surge.fingerprint]?.phase == .firing)
        // Clear, a gap of no data, clear again: the clear clock restarts after the gap.
        run.rounds(3, [Alerts.clear(surge)])
        run.round([Alerts.noData(surge)])
        run.rounds(5, [Alerts.clear(surge)])
        #expect(run.kinds(surge) == [.firing])
        run.round([Alerts.clear(surge)])
        #expect(run.kinds(surge) == [.firing, .resolved])
    }

    @Test func aVanishedCountScopeResolvesAsStale() {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(spend, pendingFor: 0)])   // last evaluated at minute 4
        run.rounds(29, [])
        #expect(run.kinds(spend) == [.firing])
        run.round([])                                          // minute 34: 30 min unseen
        #expect(run.kinds(spend) == [.firing, .resolved])
    }

    @Test func repeatsEveryFourHoursWhileFiring() {
        var run = AlertRun()
        run.rounds(9 * 60, [Alerts.breach(spend, pendingFor: 0)])
        #expect(run.minutes(spend, .firing) == [0])
        #expect(run.minutes(spend, .repeat) == [240, 480])
    }

    @Test func escalationNotifiesOnceAtTheHigherSeverity() {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(spend, value: 10, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(spend, value: 20, severity: .critical, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(spend, value: 10, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(spend, value: 40, severity: .critical, pendingFor: 0)])
        // A spend spike escalates when critical at 4× the value told (its window keeps filling
        // after it fires, so ×2 is not news): 20 is not, 40 is.
        #expect(run.kinds(spend) == [.firing, .escalated])
        #expect(run.minutes(spend, .escalated) == [15])
        // Other rules escalate at 2×.
        let latency = AlertKey(rule: .latencyRegression, scope: Traffic.chat)
        var other = AlertRun()
        other.rounds(5, [Alerts.breach(latency, value: 10, pendingFor: 0)])
        other.rounds(5, [Alerts.breach(latency, value: 20, severity: .critical, pendingFor: 0)])
        #expect(other.kinds(latency) == [.firing, .escalated])
        #expect(other.minutes(latency, .escalated) == [5])
    }

    @Test func aRetryStormFillingItsWindowDoesNotEscalate() {
        // Told at 1.06 retries per call from a 60 s window half inside the storm, critical at
        // 2.14 a minute later: the same storm, one message. Growing 4× is news.
        let storm = AlertKey(rule: .retryStorm, scope: Traffic.chat)
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(storm, value: 1.06, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(storm, value: 2.14, severity: .critical, pendingFor: 0)])
        #expect(run.kinds(storm) == [.firing])
        run.rounds(2, [Alerts.breach(storm, value: 4.3, severity: .critical, pendingFor: 0)])
        #expect(run.kinds(storm) == [.firing, .escalated])
        #expect(run.minutes(storm, .escalated) == [7])
    }

    @Test func aSeverityHoveringAtItsBoundaryDoesNotEscalate() {
        // Critical by a hair (value ×1.1 of the notified one): not news.
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(spend, value: 10, pendingFor: 0)])
        run.rounds(3, [Alerts.breach(spend, value: 11, severity: .critical, pendingFor: 0)])
        #expect(run.kinds(spend) == [.firing])
        // Budgets escalate 80% → 100% regardless (ratio 1).
        let budget = AlertKey(rule: .budgetThreshold, scope: Traffic.chat, instance: "2026-11-25T00:00:00Z")
        run.round([Alerts.breach(budget, value: 8.5, pendingFor: 0)])
        run.round([Alerts.breach(budget, value: 10, severity: .critical, pendingFor: 0)])
        #expect(run.kinds(budget) == [.firing, .escalated])
    }

    @Test func anotherIncidentAfterResolutionNotifiesAgain() {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(spend, pendingFor: 0)])
        run.rounds(11, [Alerts.clear(spend)])
        run.rounds(5, [Alerts.breach(spend, pendingFor: 0)])
        run.rounds(11, [Alerts.clear(spend)])
        #expect(run.kinds(spend) == [.firing, .resolved, .firing, .resolved])
    }

    @Test func stateRebuiltFieldByFieldContinuesTheIncident() {
        // What a restart does: the store loads each instance back through the public init.
        var run = AlertRun()
        run.rounds(8, [Alerts.breach(spend)])
        run.rounds(4, [Alerts.clear(spend)])
        run.alerts = run.alerts.mapValues { a in
            AlertInstance(key: a.key, phase: a.phase, finding: a.finding, peakValue: a.peakValue,
                          pendingSince: a.pendingSince, firingSince: a.firingSince, resolvedAt: a.resolvedAt,
                          clearSince: a.clearSince, lastEvaluated: a.lastEvaluated, notifiedSeverity: a.notifiedSeverity,
                          notifiedValue: a.notifiedValue, lastNotifiedAt: a.lastNotifiedAt, inhibitedBy: a.inhibitedBy)
        }
        run.rounds(7, [Alerts.clear(spend)])
        #expect(run.kinds(spend) == [.firing, .resolved])
        #expect(run.minutes(spend, .resolved) == [18])
    }

    @Test func peakValueIsKept() throws {
        var run = AlertRun()
        run.round([Alerts.breach(spend, value: 12, pendingFor: 0)])
        run.round([Alerts.breach(spend, value: 30, pendingFor: 0)])
        run.round([Alerts.breach(spend, value: 8, pendingFor: 0)])
        let alert = try #require(run.alerts[spend.fingerprint])
        #expect(alert.peakValue == 30)
        #expect(alert.finding.value == 8)
    }
}
