import Foundation
@testable import Detection

/// Drives the state machine minute by minute on an injected clock and records every
/// notification, so tests read like incident timelines.
struct AlertRun {
    var machine = AlertStateMachine()
    var alerts: [String: AlertInstance] = [:]
    var sent: [(minute: Int, kind: NotificationKind, fingerprint: String, inhibits: [String])] = []
    var minute = 0
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    var now: Date { AlertRun.start.addingTimeInterval(Double(minute) * 60) }

    /// One evaluation round at the current minute, then the clock advances by `step` minutes.
    mutating func round(_ evaluations: [Evaluation], step: Int = 1) {
        let result = machine.step(previous: alerts, evaluations: evaluations, now: now)
        alerts = result.alerts
        for notification in result.notifications {
            sent.append((minute, notification.kind, notification.alert.fingerprint, notification.inhibits))
        }
        minute += step
    }

    /// `count` rounds of the same evaluations, one a minute.
    mutating func rounds(_ count: Int, _ evaluations: [Evaluation]) {
        for _ in 0..<count { round(evaluations) }
    }

    func kinds(_ key: AlertKey) -> [NotificationKind] {
        sent.filter { $0.fingerprint == key.fingerprint }.map(\.kind)
    }

    func minutes(_ key: AlertKey, _ kind: NotificationKind) -> [Int] {
        sent.filter { $0.fingerprint == key.fingerprint && $0.kind == kind }.map(\.minute)
    }
}

enum Alerts {
    static let spendKey = AlertKey(rule: .spendSpike, scope: Traffic.chat)
    static let surgeKey = AlertKey(rule: .errorSurge, scope: Traffic.chat)

    static func breach(_ key: AlertKey, value: Double = 10, severity: Severity = .warning,
                       pendingFor: TimeInterval = 180) -> Evaluation {
        Evaluation(key: key, condition: .breaching(Finding(
            key: key, severity: severity, unit: .usd, value: value, baseline: 2, threshold: 4,
            summary: "test", pendingFor: pendingFor)))
    }

    static func clear(_ key: AlertKey) -> Evaluation { Evaluation(key: key, condition: .clear) }
    static func elevated(_ key: AlertKey) -> Evaluation { Evaluation(key: key, condition: .elevated) }
    static func noData(_ key: AlertKey) -> Evaluation { Evaluation(key: key, condition: .noData) }
}
