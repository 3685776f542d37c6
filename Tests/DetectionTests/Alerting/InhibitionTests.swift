import Foundation
import Testing
@testable import Detection

struct InhibitionTests {
    let spend = Alerts.spendKey                                        // feature=chat
    let storm = AlertKey(rule: .retryStorm, scope: Traffic.chat.adding("model", "gpt-4o"))

    @Test func aFiringRetryStormHoldsBackTheSpendSpikeItCausesAndLinksIt() throws {
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(storm, pendingFor: 60)])                   // storm fires at 1
        run.rounds(10, [Alerts.breach(storm, pendingFor: 60), Alerts.breach(spend)])
        let held = try #require(run.alerts[spend.fingerprint])
        #expect(held.phase == .firing)
        #expect(held.inhibitedBy == storm.fingerprint)
        #expect(run.kinds(spend).isEmpty)
        #expect(run.kinds(storm) == [.firing])
        // The storm ends while spend stays high: the spend spike is told then, not lost.
        run.rounds(10, [Alerts.clear(storm), Alerts.breach(spend)])
        #expect(run.kinds(spend).isEmpty)
        run.round([Alerts.clear(storm), Alerts.breach(spend)])
        #expect(run.kinds(storm) == [.firing, .resolved])
        #expect(run.kinds(spend) == [.firing])
        #expect(run.minutes(spend, .firing) == run.minutes(storm, .resolved))
    }

    @Test func anInhibitedSpikeThatEndsFirstResolvesSilently() throws {
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(storm, pendingFor: 60)])
        run.rounds(5, [Alerts.breach(storm, pendingFor: 60), Alerts.breach(spend)])
        run.rounds(11, [Alerts.breach(storm, pendingFor: 60), Alerts.clear(spend)])
        #expect(run.kinds(spend).isEmpty)
        // Archived as resolved with its link to the cause, never announced.
        let archived = try #require(run.alerts[spend.fingerprint])
        #expect(archived.phase == .resolved)
        #expect(archived.inhibitedBy == storm.fingerprint)
        #expect(run.kinds(storm) == [.firing])
    }

    @Test func theStormsNotificationListsWhatItInhibits() throws {
        var run = AlertRun()
        run.round([Alerts.breach(spend, pendingFor: 0)])                         // spike notified first
        run.rounds(2, [Alerts.breach(spend, pendingFor: 0), Alerts.breach(storm, pendingFor: 60)])
        let firing = try #require(run.sent.first { $0.fingerprint == storm.fingerprint && $0.kind == .firing })
        #expect(firing.inhibits == [spend.fingerprint])
        // Already notified, so its end is still announced even while inhibited.
        run.rounds(11, [Alerts.breach(storm, pendingFor: 60), Alerts.clear(spend)])
        #expect(run.kinds(spend) == [.firing, .resolved])
    }

    @Test func aStormInAnotherScopeInhibitsNothing() {
        let otherModel = AlertKey(rule: .retryStorm, scope: Traffic.chat.adding("model", "claude"))
        let spikeOnModel = AlertKey(rule: .spendSpike, scope: Traffic.chat.adding("model", "gpt-4o"))
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(otherModel, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(otherModel, pendingFor: 0), Alerts.breach(spikeOnModel, pendingFor: 0)])
        #expect(run.kinds(spikeOnModel) == [.firing])
    }

    @Test func aPendingStormInhibitsNothing() {
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(storm, pendingFor: 600), Alerts.breach(spend, pendingFor: 0)])
        #expect(run.kinds(spend) == [.firing])
    }
}
