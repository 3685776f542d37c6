import Foundation
import Testing
@testable import Detection

/// The reference note's warning: detectors tuned at 50 calls/min can be slow or noisy at a
/// few calls a minute. Peaks here are 10 or 3 calls/min ($0.02 each), nights a fifth of that.
struct LowVolumeLifecycleTests {
    static let onset = Traffic.monday + 4 * Minutes.perWeek + Minutes.perDay + 14 * 60

    static func run(_ series: MinuteSeries, from: Int, to: Int) -> [(minute: Int, kind: NotificationKind)] {
        let machine = AlertStateMachine()
        var alerts: [String: AlertInstance] = [:]
        var sent: [(minute: Int, kind: NotificationKind)] = []
        var calibration: SpendCalibration?
        for minute in from..<to {
            if calibration == nil || minute % 60 == 0 { calibration = SpendSpike.calibrate(series, now: Traffic.date(minute)) }
            let evaluation = SpendSpike.evaluate(series, calibration: calibration, now: Traffic.date(minute))
            let step = machine.step(previous: alerts, evaluations: [evaluation], now: Traffic.date(minute))
            alerts = step.alerts
            sent += step.notifications.map { (minute, $0.kind) }
        }
        return sent
    }

    @Test(arguments: [(10.0, 5.0), (10, 10), (3, 5), (3, 10)])
    func aThirtyMinuteSpikeAtAFewCallsAMinuteIsOneIncident(_ peak: Double, _ factor: Double) throws {
        let series = Traffic.seasonal(end: Self.onset + 90, days: 32, calls: peak / 5, costPerCall: 0.02,
                                      adjust: Traffic.spike(Self.onset..<(Self.onset + 30), factor))
        let sent = Self.run(series, from: Self.onset - 20, to: Self.onset + 90)
        #expect(sent.map(\.kind) == [.firing, .resolved])
        let delay = try #require(sent.first).minute - Self.onset
        #expect(delay <= (peak >= 10 ? 6 : 15))
    }

    @Test(arguments: [10.0, 3.0])
    func aCleanWeekAtAFewCallsAMinuteRaisesNothing(_ peak: Double) {
        // Every 30 minutes across a whole week (weekdays, weekend, transitions), calibrated
        // every 4 hours to keep the debug test quick (the evaluator would do it hourly).
        let start = Traffic.monday + 4 * Minutes.perWeek
        let series = Traffic.seasonal(end: start + Minutes.perWeek, days: 35, calls: peak / 5, costPerCall: 0.02)
        var calibration: SpendCalibration?
        var breaches: [Int] = []
        for minute in stride(from: start, to: start + Minutes.perWeek, by: 30) {
            if minute % 240 == 0 { calibration = SpendSpike.calibrate(series, now: Traffic.date(minute)) }
            if SpendSpike.evaluate(series, calibration: calibration, now: Traffic.date(minute)).finding != nil {
                breaches.append(minute - start)
            }
        }
        #expect(breaches == [])
    }
}
