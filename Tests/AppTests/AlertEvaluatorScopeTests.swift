import Detection
import Foundation
import Testing
import TokenmeterCore
@testable import App

/// One incident, one message, at its broadest scope: a feature's breach of a rule is held back
/// while the project-wide incident of that rule breaches or is still live.
struct AlertEvaluatorScopeTests {
    let project = ProjectID(7)
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func key(_ labels: [String: String], _ rule: Rule = .spendSpike) -> AlertKey {
        AlertKey(rule: rule, scope: Scope(project: project, labels: labels))
    }
    func breaching(_ key: AlertKey) -> Evaluation {
        Evaluation(key: key, condition: .breaching(Finding(key: key, severity: .warning, unit: .usd, value: 3, baseline: 1,
                                                            threshold: 2, summary: "spend", pendingFor: 0)))
    }
    func live(_ key: AlertKey, _ phase: AlertPhase) -> AlertInstance {
        AlertInstance(key: key, phase: phase, finding: breaching(key).finding!, peakValue: 3, pendingSince: now, lastEvaluated: now)
    }
    func held(_ evaluations: [Evaluation]) -> [Bool] { evaluations.map { $0.finding == nil } }

    @Test func aFeatureBreachIsHeldWhileTheProjectBreaches() {
        let result = AlertEvaluator.preferBroadestScope([breaching(key([:])), breaching(key(["feature": "chat"]))])
        #expect(held(result) == [false, true])
    }

    @Test func aFeatureBreachIsHeldWhileTheProjectIncidentIsLiveThoughItsWindowCleared() {
        let feature = breaching(key(["feature": "chat"]))
        for phase in [AlertPhase.pending, .firing] {
            #expect(held(AlertEvaluator.preferBroadestScope([feature], live: [live(key([:]), phase)])) == [true], "\(phase)")
        }
        #expect(held(AlertEvaluator.preferBroadestScope([feature], live: [live(key([:]), .resolved)])) == [false])
        #expect(held(AlertEvaluator.preferBroadestScope([feature], live: [live(key([:], .retryStorm), .firing)])) == [false], "another rule")
        #expect(held(AlertEvaluator.preferBroadestScope([feature])) == [false], "a feature failing alone alerts on its own")
    }
}
