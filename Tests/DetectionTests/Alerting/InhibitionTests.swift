import Foundation
import Testing
import TokenmeterCore
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
    }

    /// The link lasts for the incident: the spike the storm caused is the same incident after
    /// the storm resolves, so it is never told; it resolves silently, linked.
    @Test func theLinkOutlivesTheCauseAndTheSpikeResolvesSilently() throws {
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(storm, pendingFor: 60)])
        run.rounds(10, [Alerts.breach(storm, pendingFor: 60), Alerts.breach(spend)])
        run.rounds(15, [Alerts.clear(storm), Alerts.breach(spend)])
        #expect(run.kinds(storm) == [.firing, .resolved])
        #expect(run.kinds(spend).isEmpty)
        #expect(run.alerts[spend.fingerprint]?.inhibitedBy == storm.fingerprint)
        run.rounds(11, [Alerts.clear(spend)])
        #expect(run.kinds(spend).isEmpty)
        let archived = try #require(run.alerts[spend.fingerprint])
        #expect(archived.phase == .resolved)
        #expect(archived.inhibitedBy == storm.fingerprint)
        // A breach after that is a new incident, told as usual.
        run.rounds(5, [Alerts.breach(spend)])
        #expect(run.kinds(spend) == [.firing])
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

    /// A feature's error surge muted by the project's stays firing while the feature is too
    /// quiet to judge (no data never resolves a ratio rule); it must not hide a later
    /// project-wide spend spike, a broader scope than its own.
    @Test func aMutedNarrowCauseDoesNotMuteABroaderSpike() {
        let projectSurge = AlertKey(rule: .errorSurge, scope: Scope(project: Traffic.project))
        let featureSurge = AlertKey(rule: .errorSurge, scope: Traffic.chat)
        let projectSpend = AlertKey(rule: .spendSpike, scope: Scope(project: Traffic.project))
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(projectSurge, pendingFor: 10), Alerts.breach(featureSurge, pendingFor: 10)])
        run.rounds(12, [Alerts.clear(projectSurge), Alerts.noData(featureSurge)])
        #expect(run.kinds(projectSurge) == [.firing, .resolved])
        #expect(run.alerts[featureSurge.fingerprint]?.phase == .firing)
        #expect(run.alerts[featureSurge.fingerprint]?.inhibitedBy == projectSurge.fingerprint)
        run.rounds(5, [Alerts.noData(featureSurge), Alerts.breach(projectSpend)])
        #expect(run.kinds(projectSpend) == [.firing])
        #expect(run.alerts[projectSpend.fingerprint]?.inhibitedBy == nil)
    }

    @Test func aMutedBroadSpikeStillMutesItsNarrowerScopes() {
        let projectStorm = AlertKey(rule: .retryStorm, scope: Scope(project: Traffic.project))
        let projectSpend = AlertKey(rule: .spendSpike, scope: Scope(project: Traffic.project))
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(projectStorm, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(projectStorm, pendingFor: 0), Alerts.breach(projectSpend), Alerts.breach(spend)])
        #expect(run.kinds(projectSpend).isEmpty && run.kinds(spend).isEmpty)
        // The storm ends; both spikes stay muted (one incident), the feature's via either link.
        run.rounds(15, [Alerts.clear(projectStorm), Alerts.breach(projectSpend), Alerts.breach(spend)])
        #expect(run.kinds(projectSpend).isEmpty && run.kinds(spend).isEmpty)
    }

    @Test func aStormInAnotherScopeInhibitsNothing() {
        let otherModel = AlertKey(rule: .retryStorm, scope: Traffic.chat.adding("model", "claude"))
        let spikeOnModel = AlertKey(rule: .spendSpike, scope: Traffic.chat.adding("model", "gpt-4o"))
        var run = AlertRun()
        run.rounds(2, [Alerts.breach(otherModel, pendingFor: 0)])
        run.rounds(5, [Alerts.breach(otherModel, pendingFor: 0), Alerts.breach(spikeOnModel, pendingFor: 0)])
        #expect(run.kinds(spikeOnModel) == [.firing])
    }

    /// A pending cause holds the first message (it may fire a round later), links nothing,
    /// and when it drops the spike is told at once: late, not lost.
    @Test func aPendingStormHoldsTheSpikeUntilItDrops() throws {
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(storm, pendingFor: 600), Alerts.breach(spend, pendingFor: 0)])
        #expect(run.kinds(spend).isEmpty)
        #expect(run.alerts[spend.fingerprint]?.phase == .firing)
        #expect(run.alerts[spend.fingerprint]?.inhibitedBy == nil)
        run.round([Alerts.clear(storm), Alerts.breach(spend, pendingFor: 0)])
        #expect(run.kinds(spend) == [.firing])
        #expect(run.minutes(spend, .firing) == [3])
    }
}

/// One incident, one message, at its broadest scope: a rule breaching for the whole project
/// mutes the same rule in its features and models (linked, with their own history).
struct NarrowerScopeInhibitionTests {
    let project = AlertKey(rule: .spendSpike, scope: Traffic.chat.removingLabels())
    let feature = AlertKey(rule: .spendSpike, scope: Traffic.chat)
    let model = AlertKey(rule: .spendSpike, scope: Traffic.chat.removingLabels().adding("model", "gpt-4o"))

    @Test func theProjectWideSpikeMutesItsFeatureAndModel() throws {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(project), Alerts.breach(feature), Alerts.breach(model)])
        #expect(run.kinds(project) == [.firing])
        #expect(run.kinds(feature).isEmpty && run.kinds(model).isEmpty)
        #expect(run.alerts[feature.fingerprint]?.phase == .firing)
        #expect(run.alerts[feature.fingerprint]?.inhibitedBy == project.fingerprint)
        let told = try #require(run.sent.first { $0.fingerprint == project.fingerprint })
        #expect(told.inhibits == [feature.fingerprint, model.fingerprint].sorted())
    }

    /// The feature's wider window clears minutes after the project's: still the same incident.
    @Test func aFeatureStillBreachingAfterTheProjectResolvedStaysSilent() {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(project), Alerts.breach(feature)])
        run.rounds(12, [Alerts.clear(project), Alerts.breach(feature)])
        #expect(run.kinds(project) == [.firing, .resolved])
        run.rounds(12, [Alerts.clear(feature)])
        #expect(run.kinds(feature).isEmpty)
    }

    /// The feature breaching a round before the project is held while the project is pending.
    @Test func aFeatureThatBreachesFirstIsHeldWhileTheProjectIsPending() {
        var run = AlertRun()
        run.round([Alerts.breach(feature, pendingFor: 60)])
        run.rounds(5, [Alerts.breach(project, pendingFor: 60), Alerts.breach(feature, pendingFor: 60)])
        #expect(run.kinds(project) == [.firing])
        #expect(run.kinds(feature).isEmpty)
    }

    @Test func aFeatureFailingAloneAlertsOnItsOwn() {
        var run = AlertRun()
        run.rounds(5, [Alerts.clear(project), Alerts.breach(feature)])
        #expect(run.kinds(feature) == [.firing])
    }

    @Test func otherRulesAreNotMuted() {
        let surge = AlertKey(rule: .errorSurge, scope: Traffic.chat.removingLabels().adding("feature", "search"))
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(feature), Alerts.breach(surge)])
        #expect(run.kinds(feature) == [.firing])
        #expect(run.kinds(surge) == [.firing], "a spend spike mutes no error surge")
    }

    /// An expensive request waits 5 min; a spend spike of the project firing meanwhile
    /// absorbs it. Alone, it is told after its wait.
    @Test func aSpendSpikeAbsorbsTheExpensiveRequestsOfItsProject() {
        let expensive = AlertKey(rule: .expensiveRequest, scope: Traffic.chat.removingLabels())
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(expensive, pendingFor: 300)])
        run.rounds(10, [Alerts.breach(expensive, pendingFor: 300), Alerts.breach(feature, pendingFor: 120)])
        #expect(run.kinds(feature) == [.firing])
        #expect(run.kinds(expensive).isEmpty)
        #expect(run.alerts[expensive.fingerprint]?.inhibitedBy == feature.fingerprint)

        var alone = AlertRun()
        alone.rounds(7, [Alerts.breach(expensive, pendingFor: 300)])
        #expect(alone.kinds(expensive) == [.firing])
        #expect(alone.minutes(expensive, .firing) == [5])
    }

    /// The hour that closes while a spike fires is over its average because of it: linked to
    /// the spike, not told. An hour over its average with no spike live is told.
    @Test func aLiveSpendSpikeAbsorbsTheHourlyCostAlert() {
        let hourly = AlertKey(rule: .hourlyCost, scope: Traffic.chat.removingLabels())
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(feature, pendingFor: 60)])
        run.round([Alerts.breach(feature, pendingFor: 60), Alerts.breach(hourly, pendingFor: 0)])
        #expect(run.kinds(feature) == [.firing])
        #expect(run.kinds(hourly).isEmpty)
        #expect(run.alerts[hourly.fingerprint]?.inhibitedBy == feature.fingerprint)

        var alone = AlertRun()
        alone.round([Alerts.clear(feature), Alerts.breach(hourly, pendingFor: 0)])
        #expect(alone.kinds(hourly) == [.firing])
    }
}

/// One message per (project, rule) incident: the same rule firing at sibling scopes, or at
/// narrower scopes before the project, is grouped under the first alert told.
struct GroupingTests {
    let project = AlertKey(rule: .latencyRegression, scope: Scope(project: Traffic.project))
    let modelA = AlertKey(rule: .latencyRegression, scope: Scope(project: Traffic.project).adding("model", "gpt-4o"))
    let modelB = AlertKey(rule: .latencyRegression, scope: Scope(project: Traffic.project).adding("model", "claude"))

    /// bench/anomaly's latency incident: two models fire minutes apart, the project later.
    @Test func narrowerScopesFiringBeforeTheProjectMakeOneIncident() throws {
        var run = AlertRun()
        run.rounds(3, [Alerts.breach(modelA, pendingFor: 60)])
        run.rounds(3, [Alerts.breach(modelA, pendingFor: 60), Alerts.breach(modelB, pendingFor: 60)])
        run.rounds(10, [Alerts.breach(modelA, pendingFor: 60), Alerts.breach(modelB, pendingFor: 60),
                        Alerts.breach(project, pendingFor: 60)])
        #expect(run.kinds(modelA) == [.firing])
        #expect(run.kinds(modelB).isEmpty && run.kinds(project).isEmpty)
        #expect(run.alerts[project.fingerprint]?.phase == .firing)
        #expect(run.alerts[project.fingerprint]?.inhibitedBy == modelA.fingerprint)
        #expect(run.alerts[modelA.fingerprint]?.inhibitedBy == nil, "the leader is not linked back to its group")
        // model B joined model A's incident, then the project's (which stands for it): linked either way.
        let linkB = try #require(run.alerts[modelB.fingerprint]?.inhibitedBy)
        #expect([modelA.fingerprint, project.fingerprint].contains(linkB))
        // Everything clears: one resolved message, from the alert that was told.
        run.rounds(40, [Alerts.clear(modelA), Alerts.clear(modelB), Alerts.clear(project)])
        #expect(run.kinds(modelA) == [.firing, .resolved])
        #expect(run.kinds(modelB).isEmpty && run.kinds(project).isEmpty)
        let resolved = try #require(run.sent.last { $0.fingerprint == modelA.fingerprint })
        #expect(resolved.inhibits.contains(project.fingerprint))
    }

    /// Siblings firing in the same round: the broadest (then the lowest fingerprint) is told.
    @Test func siblingsFiringTogetherAreToldOnce() {
        let feature = AlertKey(rule: .latencyRegression, scope: Scope(project: Traffic.project).adding("feature", "chat"))
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(modelA), Alerts.breach(modelB), Alerts.breach(feature)])
        let told = [modelA, modelB, feature].filter { !run.kinds($0).isEmpty }
        #expect(told.count == 1)
        #expect(told.first?.fingerprint == [modelA, modelB, feature].map(\.fingerprint).min())
    }

    @Test func anotherProjectOrAnotherRuleIsAnotherIncident() {
        let otherProject = AlertKey(rule: .latencyRegression, scope: Scope(project: ProjectID(8)).adding("model", "gpt-4o"))
        let ttft = AlertKey(rule: .ttftRegression, scope: modelB.scope)
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(modelA), Alerts.breach(otherProject), Alerts.breach(ttft)])
        #expect(run.kinds(modelA) == [.firing])
        #expect(run.kinds(otherProject) == [.firing])
        #expect(run.kinds(ttft) == [.firing])
    }

    /// A scope that starts breaching after the group's leader resolved is a new incident.
    @Test func aLaterIncidentIsToldAgain() {
        var run = AlertRun()
        run.rounds(5, [Alerts.breach(modelA, pendingFor: 0)])
        run.rounds(31, [Alerts.clear(modelA)])
        run.rounds(3, [Alerts.breach(modelB, pendingFor: 0)])
        #expect(run.kinds(modelA) == [.firing, .resolved])
        #expect(run.kinds(modelB) == [.firing])
    }
}

private extension Scope {
    func removingLabels() -> Scope { Scope(project: project) }
}
