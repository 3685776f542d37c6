import Foundation
import Testing
@testable import Detection

struct RunawayFeatureTests {
    static func traceKey(_ id: String) -> AlertKey {
        AlertKey(rule: .runawayTrace, scope: Traffic.chat.adding("trace_id", id), instance: id)
    }

    @Test func aBrokenFeatureIsOneAlertNotOnePerTrace() throws {
        // Twenty traces of one feature start looping, one a minute, and all stop at minute 25.
        let featureKey = AlertKey(rule: .runawayFeature, scope: Traffic.chat)
        var run = AlertRun()
        for minute in 0..<70 {
            let traces = (0..<20).map { i -> Evaluation in
                let key = Self.traceKey("t\(i)")
                return minute >= i && minute < 25 ? Alerts.breach(key, pendingFor: 0) : Alerts.clear(key)
            }
            // The feature rule reads the instances of the previous step.
            let feature = RunawayFeature.evaluate(Array(run.alerts.values), now: run.now)
            run.round(traces + feature)
        }
        let traceFirings = run.sent.filter { $0.kind == .firing && $0.fingerprint != featureKey.fingerprint }
        #expect(traceFirings.map(\.minute) == [0, 1, 2])
        #expect(run.minutes(featureKey, .firing) == [3])
        let featureFiring = try #require(run.sent.first { $0.fingerprint == featureKey.fingerprint })
        // It links every trace firing with it: the three already announced and t3, held back.
        #expect(featureFiring.inhibits == (0...3).map { Self.traceKey("t\($0)").fingerprint }.sorted())
        // Resolved: the three notified traces when they stop, the feature 15 minutes after
        // fewer than three traces fired in its window; the held-back traces silently.
        #expect(run.sent.filter { $0.kind == .resolved }.count == 4)
        #expect(run.minutes(featureKey, .resolved).count == 1)
        #expect(run.sent.count == 8)
    }

    @Test func twoRunawayTracesAreJustTwoTraces() {
        let alerts = (0..<2).map { i in
            AlertInstance(key: Self.traceKey("t\(i)"), phase: .firing,
                          finding: Alerts.breach(Self.traceKey("t\(i)")).finding!, peakValue: 60,
                          pendingSince: AlertRun.start, firingSince: AlertRun.start, lastEvaluated: AlertRun.start)
        }
        let evaluations = RunawayFeature.evaluate(alerts, now: AlertRun.start.addingTimeInterval(60))
        #expect(evaluations.map(\.condition) == [.clear])
        #expect(evaluations.first?.key.scope == Traffic.chat)
    }

    @Test func tracesThatFiredLongAgoDoNotCount() {
        let alerts = (0..<3).map { i in
            AlertInstance(key: Self.traceKey("t\(i)"), phase: .firing,
                          finding: Alerts.breach(Self.traceKey("t\(i)")).finding!, peakValue: 60,
                          pendingSince: AlertRun.start, firingSince: AlertRun.start.addingTimeInterval(Double(i) * 300),
                          lastEvaluated: AlertRun.start)
        }
        // Fired at 0, 5 and 10 min: three within 15 minutes until minute 15, when the first leaves.
        #expect(RunawayFeature.evaluate(alerts, now: AlertRun.start.addingTimeInterval(899)).first?.finding != nil)
        let evaluations = RunawayFeature.evaluate(alerts, now: AlertRun.start.addingTimeInterval(900))
        #expect(evaluations.map(\.condition) == [.clear])
    }
}
