@testable import Delivery
import Detection
import Foundation
import JSON
import Testing
import TokenmeterCore

/// The real alert state machine feeding the outbox, as the evaluator will: each step's
/// notifications enqueued at that step's time, delivered to a loopback receiver.
struct IncidentDeliveryTests {
    @Test func anIncidentArrivesAsOneFiringThenOneResolvedEvenWhenFiringIsRetried() throws {
        // The first firing attempt is rate-limited for an hour; the incident resolves meanwhile.
        let receiver = try TestReceiver(script: [.status(429, retryAfter: "3600")])
        defer { receiver.stop() }
        let database = try DeliveryDatabase.migrated()
        let project = try database.project("p", AlertDestinations(webhookURL: receiver.url(), hmacSecret: "s"))
        let clock = ManualClock(Notifications.start)
        var configuration = DeliveryConfiguration()
        configuration.totalTimeout = 2
        let deliverer = Deliverer(pool: database.pool(), transport: CurlTransport(configuration: configuration), configuration: configuration,
                                  logger: Logger(label: "test", minimumLevel: .error), clock: { clock.now() }, random: { 0.5 })

        let machine = AlertStateMachine()
        let key = AlertKey(rule: .errorSurge, scope: Scope(project: project, labels: ["model": "gpt-4o"]))
        let breach = Condition.breaching(Finding(key: key, severity: .critical, unit: .ratio, value: 0.7, baseline: 0.05, threshold: 0.5,
                                                 summary: "70% errors over 60 s (42 calls)", pendingFor: 0))
        var alerts: [String: AlertInstance] = [:]
        var kinds: [NotificationKind] = []
        func evaluate(_ condition: Condition, at offset: TimeInterval) throws {
            let step = machine.step(previous: alerts, evaluations: [Evaluation(key: key, condition: condition)],
                                    now: Notifications.start + offset)
            alerts = step.alerts
            kinds += step.notifications.map(\.kind)
            _ = try database.enqueue(step.notifications, now: Notifications.start + offset)
        }

        try evaluate(breach, at: 0)
        #expect(try deliverer.deliverDue() == 1)  // 429: back in an hour
        try evaluate(breach, at: 10)
        try evaluate(.clear, at: 60)
        try evaluate(.clear, at: 360)  // clear for the rule's 5 min: resolved
        #expect(kinds == [.firing, .resolved])

        // "resolved" is due, but waits for the firing still being retried.
        clock.advance(by: 360)
        #expect(try deliverer.deliverDue() == 0)
        clock.advance(by: 3600)
        #expect(try deliverer.deliverDue() == 1)
        #expect(try deliverer.deliverDue() == 1)
        #expect(try deliverer.deliverDue() == 0)

        let statuses = try receiver.processed.map { try JSONParser.parse($0.body)["status"]?.stringValue }
        #expect(statuses == ["firing", "resolved"])
        #expect(receiver.received.count == 3)
        let resolved = try JSONParser.parse(try #require(receiver.processed.last).body)
        #expect(resolved["alerts"]?[0]?["endsAt"]?.stringValue == Timestamp.rfc3339(Notifications.start + 360))
        #expect(resolved["alerts"]?[0]?["labels"]?["alertname"]?.stringValue == "error_surge")
    }
}
