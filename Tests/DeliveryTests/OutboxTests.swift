import Delivery
import Detection
import Foundation
import Postgres
import Testing
import TokenmeterCore

/// Enqueueing against a real Postgres: transactional, idempotent, one row per destination.
struct OutboxTests {
    @Test func enqueueIsIdempotentAndFansOutPerDestination() throws {
        let database = try DeliveryDatabase.migrated()
        let project = try database.project("both", AlertDestinations(webhookURL: "http://127.0.0.1:9/hook",
                                                                      slackURL: "http://127.0.0.1:9/slack", hmacSecret: "s"))
        let quiet = try database.project("quiet", AlertDestinations())
        let notifications = [
            Notifications.spendSpike(project: project, feature: "a"),
            Notifications.spendSpike(project: project, feature: "b"),
            Notifications.spendSpike(project: project, feature: "a", kind: .repeat),
            Notifications.spendSpike(project: quiet, feature: "a"),
        ]
        #expect(try database.enqueue(notifications, now: Notifications.start) == 6)
        // The evaluator retrying its round enqueues the same notifications again: nothing new.
        #expect(try database.enqueue(notifications, now: Notifications.start.addingTimeInterval(60)) == 0)
        let rows = try database.rows()
        #expect(rows.count == 6)
        #expect(rows.filter { $0.destination == "slack" }.count == 3)
        #expect(rows.filter { $0.kind == "repeat" }.count == 2)
        #expect(rows.allSatisfy { $0.attempts == 0 && !$0.delivered && !$0.dead && $0.nextAttemptAt == Notifications.start })
    }

    @Test func enqueueCommitsOrRollsBackWithTheCallersTransaction() throws {
        let database = try DeliveryDatabase.migrated()
        let project = try database.project("p", AlertDestinations(webhookURL: "http://127.0.0.1:9/hook"))
        let outbox = AlertOutbox(payloads: PayloadConfiguration())
        struct StateChangeFailed: Error {}
        try database.withConnection { connection in
            #expect(throws: StateChangeFailed.self) {
                try connection.transaction { tx in
                    try outbox.enqueue([Notifications.spendSpike(project: project, feature: "a")], in: tx, now: Notifications.start)
                    throw StateChangeFailed()  // the alert state write failed: the notification must go too
                }
            }
            #expect(throws: AlertOutbox.NotInTransaction.self) {
                try outbox.enqueue([Notifications.spendSpike(project: project, feature: "a")], in: connection, now: Notifications.start)
            }
        }
        #expect(try database.rows().isEmpty)
    }
}
