import Foundation
import Testing
import TokenmeterCore
@testable import Detection

/// Real detectors driving the state machine minute by minute: what a user would receive.
struct DetectorLifecycleTests {
    /// Tuesday 14:00 of the fifth week (peak hours, four weeks of history).
    static let onset = Traffic.monday + 4 * Minutes.perWeek + Minutes.perDay + 14 * 60

    /// A 20-minute spend spike of `factor` replayed minute by minute: what was sent, in minutes
    /// after the onset (each evaluation sees only the minutes closed before it).
    static func spendSpike(_ factor: Double) -> [(minute: Int, kind: NotificationKind, severity: Severity)] {
        let end = onset + 20
        let series = Traffic.seasonal(end: onset + 60, days: 32, calls: 10, adjust: Traffic.spike(onset..<end, factor))
        let calibration = SpendSpike.calibrate(series, now: Traffic.date(onset))
        let machine = AlertStateMachine()
        var alerts: [String: AlertInstance] = [:]
        var sent: [(minute: Int, kind: NotificationKind, severity: Severity)] = []
        for minute in (onset - 30)..<(onset + 60) {
            let evaluation = SpendSpike.evaluate(series, calibration: calibration, now: Traffic.date(minute))
            let step = machine.step(previous: alerts, evaluations: [evaluation], now: Traffic.date(minute))
            alerts = step.alerts
            sent += step.notifications.map { (minute - onset, $0.kind, $0.alert.finding.severity) }
        }
        return sent
    }

    @Test func aFiveTimesSpendSpikeIsOneIncidentDetectedWithinFourMinutes() throws {
        let sent = Self.spendSpike(5)
        #expect(sent.map(\.kind) == [.firing, .resolved])
        // Breaching once 2 spike minutes have closed (+2), firing at the next evaluation (+3).
        let firedAfter = try #require(sent.first?.minute)
        #expect(firedAfter <= 4)
        // The window clears 5 min after the spike ends, then 10 clear minutes resolve it.
        let resolvedAfter = try #require(sent.last?.minute)
        #expect(resolvedAfter == 20 + 5 + 10)
    }

    /// ×10 fires before its window is full: critical from its last two minutes, so the filled
    /// window (×10 where it first read ×4.6) is not news — no escalation.
    @Test func aTenTimesSpendSpikeFiresCriticalOnceWithoutEscalating() throws {
        let sent = Self.spendSpike(10)
        #expect(sent.map(\.kind) == [.firing, .resolved])
        #expect(sent.first?.severity == .critical)
        let firedAfter = try #require(sent.first?.minute)
        #expect(firedAfter <= 3)
    }

    /// A loop alerted at step 10 (the same tool and input five times) that runs on to 200
    /// steps (critical by then) is one incident: one firing, no escalation, one resolved.
    @Test func aRunawayTraceThatKeepsGrowingIsToldOnce() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let steps = (0..<200).map { i in
            TraceStep(at: start.addingTimeInterval(Double(i) * 6), toolName: "search_docs",
                      inputHash: i % 2 == 1 ? "same" : "h\(i)", cost: Money(decimalString: "0.0015")!)
        }
        let machine = AlertStateMachine()
        var alerts: [String: AlertInstance] = [:]
        var sent: [(step: Int, kind: NotificationKind)] = []
        var severities: [Severity] = []
        for second in stride(from: 10, through: 1_200 + 900, by: 10) {
            let now = start.addingTimeInterval(Double(second))
            let visible = steps.filter { $0.at < now }
            let trace = TraceView(scope: Traffic.chat.adding("feature", "agent"), traceID: "loop", steps: visible)
            let evaluation = RunawayTrace.evaluate(trace, now: now)
            if let finding = evaluation.finding { severities.append(finding.severity) }
            let step = machine.step(previous: alerts, evaluations: [evaluation], now: now)
            alerts = step.alerts
            sent += step.notifications.map { (visible.count, $0.kind) }
        }
        #expect(severities.contains(.critical), "it did reach 200 steps")
        #expect(sent.map(\.kind) == [.firing, .resolved])
        #expect((sent.first?.step ?? 99) < 12)
    }

    @Test func aCleanDayRaisesNothing() {
        // Wednesday 00:00 → Thursday 00:00 of the fifth week, every 10 minutes: noisy,
        // seasonal, ordinary. Calibrated hourly as an evaluator would.
        let start = Traffic.monday + 4 * Minutes.perWeek + 2 * Minutes.perDay
        let series = Traffic.seasonal(end: start + Minutes.perDay, days: 30, calls: 10)
        var calibration: SpendCalibration?
        var conditions: [Condition] = []
        for minute in stride(from: start, to: start + Minutes.perDay, by: 10) {
            if minute % 60 == 0 { calibration = SpendSpike.calibrate(series, now: Traffic.date(minute)) }
            conditions.append(SpendSpike.evaluate(series, calibration: calibration, now: Traffic.date(minute)).condition)
        }
        #expect(conditions.count == 144)
        #expect(!conditions.contains { if case .breaching = $0 { true } else { false } })
    }

    @Test func aRetryStormAtFiftyCallsAMinuteFiresWithinTwoMinutes() throws {
        // 50 calls a minute, 5% retried; from the onset 1.5 retries per call for 20 minutes.
        let onset = Traffic.monday + 8 * Minutes.perDay
        let since = onset - 8 * Minutes.perDay
        let buckets = (since..<(onset + 60)).map { minute -> MinuteBucket in
            let storm = minute >= onset && minute < onset + 20
            return MinuteBucket(minute: minute, calls: 50, retries: storm ? 75 : (minute % 2 == 0 ? 3 : 2),
                                http429: storm ? 40 : 0)
        }
        let series = MinuteSeries(scope: Traffic.chat.adding("model", "gpt-4o"), since: since, buckets: buckets)
        let machine = AlertStateMachine()
        var alerts: [String: AlertInstance] = [:]
        var sent: [(minute: Int, kind: NotificationKind)] = []
        for minute in (onset - 10)..<(onset + 60) {
            let step = machine.step(previous: alerts, evaluations: [RetryStorm.evaluate(series, now: Traffic.date(minute))],
                                    now: Traffic.date(minute))
            alerts = step.alerts
            sent += step.notifications.map { (minute - onset, $0.kind) }
        }
        #expect(sent.map(\.kind) == [.firing, .resolved])
        // The first storm minute closes at +1: the 2-minute window breaches then (78 retries
        // over 100 calls), and the second consecutive breach at +2 fires.
        let fired = try #require(sent.first?.minute)
        #expect(fired == 2)
        #expect(alerts.isEmpty)   // nothing lingers once resolved and archived
        // The 5-minute window drops below 0.2 retries per call 5 minutes after the end (+25),
        // then 10 clear minutes resolve it.
        #expect(sent.last?.minute == 35)
    }

    @Test func anErrorSurgeEvaluatedEveryTenSecondsFiresWithinAMinute() throws {
        let scope = Traffic.chat
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        // 40 calls a minute; errors go from 5% to 80% at t0 + 300 s and back at t0 + 600 s.
        let samples = (0..<120).map { i -> CallSample in
            let start = t0.addingTimeInterval(Double(i) * 10)
            let surging = i >= 30 && i < 60
            return CallSample(start: start, seconds: 10, calls: 7, errors: surging ? 6 : (i % 3 == 0 ? 1 : 0))
        }
        var machine = AlertStateMachine()
        machine.policies[.errorSurge] = AlertPolicy(resolveAfter: 300)
        var alerts: [String: AlertInstance] = [:]
        var sent: [(second: Double, kind: NotificationKind)] = []
        for i in 1...120 {
            let now = t0.addingTimeInterval(Double(i) * 10)
            let visible = samples.filter { $0.start.addingTimeInterval($0.seconds) <= now }
            let step = machine.step(previous: alerts, evaluations: [ErrorSurge.evaluate(visible, scope: scope, now: now)],
                                    now: now)
            alerts = step.alerts
            sent += step.notifications.map { (now.timeIntervalSince(t0) - 300, $0.kind) }
        }
        #expect(sent.map(\.kind) == [.firing, .resolved])
        let delay = try #require(sent.first?.second)
        #expect(delay > 0 && delay <= 60)
    }
}
