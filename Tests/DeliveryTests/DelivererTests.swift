@testable import Delivery
import Detection
import Foundation
import Synchronization
import Postgres
import Testing
import TokenmeterCore

/// The deliverer against a real Postgres and a real HTTP receiver on loopback, on an injected
/// clock (backoff and Retry-After are checked exactly; the only real waits are a 0.3 s client
/// timeout and a receiver that answers after 0.6 s).
struct DelivererTests {
    static let secret = "whsec-4f1d2c"

    func configuration(_ change: (inout DeliveryConfiguration) -> Void = { _ in }) -> DeliveryConfiguration {
        var configuration = DeliveryConfiguration()
        configuration.connectTimeout = 1
        configuration.totalTimeout = 0.3
        change(&configuration)
        return configuration
    }

    func deliverer(_ database: DeliveryDatabase, _ clock: ManualClock, _ configuration: DeliveryConfiguration,
                   counters: DeliveryCounters = DeliveryCounters(), logger: Logger = Logger(label: "test", minimumLevel: .error)) -> Deliverer {
        Deliverer(pool: database.pool(), transport: CurlTransport(configuration: configuration), configuration: configuration,
                  counters: counters, logger: logger, clock: { clock.now() }, random: { 0.5 })
    }

    func notifications(_ project: ProjectID, _ count: Int) -> [AlertNotification] {
        (0..<count).map { Notifications.spendSpike(project: project, feature: "feature-\($0)") }
    }

    /// A receiver with a script, a fresh database with one project sending to it, `count`
    /// notifications enqueued at `Notifications.start`, and a deliverer on a manual clock there.
    struct Scenario {
        var receiver: TestReceiver
        var database: DeliveryDatabase
        var project: ProjectID
        var clock: ManualClock
        var counters: DeliveryCounters
        var deliverer: Deliverer
    }

    func scenario(_ script: [TestReceiver.Behaviour], notifications count: Int, secret: String? = nil, path: String = "/hook",
                  logger: Logger = Logger(label: "test", minimumLevel: .error),
                  _ change: (inout DeliveryConfiguration) -> Void = { _ in }) throws -> Scenario {
        let receiver = try TestReceiver(script: script)
        let database = try DeliveryDatabase.migrated()
        let project = try database.project("p", AlertDestinations(webhookURL: receiver.url(path), hmacSecret: secret))
        #expect(try database.enqueue(notifications(project, count), now: Notifications.start) == count)
        let clock = ManualClock(Notifications.start)
        let counters = DeliveryCounters()
        return Scenario(receiver: receiver, database: database, project: project, clock: clock, counters: counters,
                        deliverer: deliverer(database, clock, configuration(change), counters: counters, logger: logger))
    }

    @Test func everyNotificationReachesTheLedgerThroughFailures() throws {
        let httpDate = "Mon, 30 Nov 2026 00:58:20 GMT"  // start + 300 s
        let test = try scenario([.drop, .slowAccept(seconds: 0.6), .status(429, retryAfter: "120"), .status(500, retryAfter: nil),
                                 .status(503, retryAfter: httpDate)], notifications: 6, secret: Self.secret)
        let (receiver, database, clock, counters, deliverer) = (test.receiver, test.database, test.clock, test.counters, test.deliverer)
        defer { receiver.stop() }

        #expect(try deliverer.deliverDue() == 6)
        let first = receiver.received
        #expect(first.count == 6)
        let rows = Dictionary(uniqueKeysWithValues: try database.rows().map { ($0.id, $0) })
        func row(_ behaviour: TestReceiver.Behaviour) throws -> DeliveryDatabase.Row {
            let request = try #require(first.first { $0.behaviour == behaviour })
            return try #require(rows[request.id])
        }
        // Backoff after a first failure: 10 s drawn from [5, 10] at 0.5 → 7.5 s; Retry-After wins when given.
        #expect(try row(.drop).nextAttemptAt == clock.now() + 7.5)
        #expect(try row(.slowAccept(seconds: 0.6)).nextAttemptAt == clock.now() + 7.5)
        #expect(try row(.slowAccept(seconds: 0.6)).lastError?.hasPrefix("curl 28:") == true)
        #expect(try row(.status(429, retryAfter: "120")).nextAttemptAt == clock.now() + 120)
        #expect(try row(.status(500, retryAfter: nil)).lastStatus == 500)
        #expect(try row(.status(503, retryAfter: httpDate)).nextAttemptAt == clock.now() + 300)
        #expect(try row(.accept).delivered)
        // Not due yet: nothing is sent before its time.
        clock.advance(by: 7)
        #expect(try deliverer.deliverDue() == 0)
        clock.advance(by: 3600)
        #expect(try deliverer.deliverDue() == 5)
        #expect(try deliverer.deliverDue() == 0)

        let all = try database.rows()
        #expect(all.allSatisfy { $0.delivered })
        #expect(all.map(\.attempts).sorted() == [1, 2, 2, 2, 2, 2])
        // The ledger holds every notification; deduplicated by id, exactly once each. The only
        // repeat is the request processed after the client had timed out, re-sent with its id.
        let processed = receiver.processed.map(\.id)
        #expect(Set(processed) == Set(all.map(\.id)))
        #expect(processed.count == 7)
        let slow = try #require(first.first { $0.behaviour.isSlowAccept }).id
        #expect(processed.filter { $0 == slow }.count == 2)
        #expect(receiver.received.count == 11)
        #expect(counters.snapshot == DeliveryCounts(delivered: 6, retried: 5, dead: 0))
        // Every request is signed over its timestamp and body.
        for request in receiver.received {
            let timestamp = try #require(Int64(request.headers["x-tokenmeter-timestamp"] ?? ""))
            let signature = try #require(request.headers["x-tokenmeter-signature"])
            // Sent at the first round's time or the second's (the receiver checks at its own clock).
            #expect([Notifications.start, clock.now()].map { Int64($0.timeIntervalSince1970) }.contains(timestamp))
            let receivedAt = Date(timeIntervalSince1970: Double(timestamp))
            #expect(WebhookSignature.verify(secret: Self.secret, signature: signature, timestamp: timestamp, body: request.body, now: receivedAt))
            #expect(request.headers["content-type"] == "application/json")
        }
    }

    @Test func permanentClientErrorsAreDeadLetteredAtOnce() throws {
        let test = try scenario([.status(404, retryAfter: nil), .status(400, retryAfter: nil), .status(410, retryAfter: "5")], notifications: 3)
        let (receiver, database, clock, counters, deliverer) = (test.receiver, test.database, test.clock, test.counters, test.deliverer)
        defer { receiver.stop() }
        #expect(try deliverer.deliverDue() == 3)
        clock.advance(by: 86_400)
        #expect(try deliverer.deliverDue() == 0)
        let rows = try database.rows()
        #expect(rows.allSatisfy { $0.dead && !$0.delivered && $0.attempts == 1 })
        #expect(Set(rows.compactMap(\.lastError)) == ["HTTP 404", "HTTP 400", "HTTP 410"])
        #expect(receiver.received.count == 3)
        #expect(counters.snapshot == DeliveryCounts(delivered: 0, retried: 0, dead: 3))
        // Unsigned without a secret, but always identified.
        #expect(receiver.received.allSatisfy { $0.headers["x-tokenmeter-signature"] == nil && $0.id.count == 36 })
    }

    @Test func givesUpAfterMaxAttempts() throws {
        let test = try scenario(Array(repeating: .status(500, retryAfter: nil), count: 10), notifications: 1) { $0.maxAttempts = 3 }
        let (receiver, database, clock, counters, deliverer) = (test.receiver, test.database, test.clock, test.counters, test.deliverer)
        defer { receiver.stop() }
        for _ in 0..<5 {
            try deliverer.deliverDue()
            clock.advance(by: 3600)
        }
        let row = try #require(try database.rows().first)
        #expect(row.dead && row.attempts == 3 && row.lastError == "HTTP 500")
        #expect(receiver.received.count == 3)
        #expect(counters.snapshot == DeliveryCounts(delivered: 0, retried: 2, dead: 1))
    }

    @Test func givesUpAfter24Hours() throws {
        let test = try scenario(Array(repeating: .status(503, retryAfter: nil), count: 50), notifications: 1) { $0.maxAttempts = 1000 }
        let (receiver, database, clock, deliverer) = (test.receiver, test.database, test.clock, test.deliverer)
        defer { receiver.stop() }
        for _ in 0..<20 {
            try deliverer.deliverDue()
            clock.advance(by: 3 * 3600)
        }
        let row = try #require(try database.rows().first)
        // Attempts at 0, 3, …, 24 h; after the one at 24 h the next would fall past the limit.
        #expect(row.dead && row.attempts == 9)
        #expect(receiver.received.count == 9)
    }

    @Test func nothingIsLostAcrossARestart() throws {
        let test = try scenario([], notifications: 10, secret: Self.secret) { $0.batchSize = 4 }
        let (receiver, database, project, clock, first) = (test.receiver, test.database, test.project, test.clock, test.deliverer)
        defer { receiver.stop() }
        let config = first.configuration

        // The first instance delivers one batch, then claims another and dies before sending it.
        #expect(try first.deliverDue() == 4)
        #expect(try first.claim(limit: 4).count == 4)
        first.pool.close()
        // Notifications keep coming while nothing runs.
        _ = try database.enqueue((10..<13).map { Notifications.spendSpike(project: project, feature: "feature-\($0)") }, now: clock.now())

        // A new instance on the same database: the dead one's claims stay hidden for their lease…
        let second = deliverer(database, clock, config)
        while try second.deliverDue() > 0 {}
        #expect(try database.rows().filter { !$0.delivered }.count == 4)
        // …and come due when it ends.
        clock.advance(by: config.lease)
        while try second.deliverDue() > 0 {}

        let rows = try database.rows()
        #expect(rows.count == 13 && rows.allSatisfy { $0.delivered })
        let processed = receiver.processed.map(\.id)
        #expect(processed.count == 13 && Set(processed) == Set(rows.map(\.id)))
    }

    @Test func aDelivererWhoseLeaseRanOutCannotOverwriteTheNewClaim() throws {
        let test = try scenario([], notifications: 1)
        let (receiver, database, clock, slow) = (test.receiver, test.database, test.clock, test.deliverer)
        defer { receiver.stop() }
        let stale = try #require(try slow.claim(limit: 1).first)
        clock.advance(by: slow.configuration.lease)
        let other = deliverer(database, clock, configuration())
        let fresh = try #require(try other.claim(limit: 1).first)
        // The stale attempt still reaches the receiver (at-least-once, same id) but records nothing.
        #expect(try slow.deliver(stale) == .lostClaim)
        #expect(try other.deliver(fresh) == .delivered)
        #expect(receiver.processed.map(\.id) == [stale.id, stale.id])
        #expect(try database.rows().first?.attempts == 2)
    }

    @Test func twoDeliverersNeverSendTheSameRowAtOnce() throws {
        let receiver = try TestReceiver(acceptDelay: 0.02)
        defer { receiver.stop() }
        let database = try DeliveryDatabase.migrated()
        let project = try database.project("p", AlertDestinations(webhookURL: receiver.url(), slackURL: receiver.url("/slack")))
        _ = try database.enqueue(notifications(project, 30), now: Notifications.start)
        let clock = ManualClock(Notifications.start)
        let config = configuration { $0.batchSize = 3; $0.totalTimeout = 5 }
        let deliverers = [deliverer(database, clock, config), deliverer(database, clock, config)]
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for deliverer in deliverers {
            done.enter()
            Thread {
                start.wait()
                // Until nothing is left: rows the other one holds are not due for us.
                while (try? deliverer.deliverDue()) ?? 0 > 0 {}
                done.leave()
            }.start()
        }
        start.signal(); start.signal()
        done.wait()

        let rows = try database.rows()
        #expect(rows.count == 60 && rows.allSatisfy { $0.delivered && $0.attempts == 1 })
        #expect(receiver.overlaps.isEmpty)
        let received = receiver.received.map(\.id)
        #expect(received.count == 60 && Set(received).count == 60)
        let counts = deliverers.map(\.counters.delivered)
        #expect(counts.reduce(0, +) == 60)
        #expect(counts.allSatisfy { $0 > 0 }, "both deliverers took part: \(counts)")
        #expect(receiver.received.filter { $0.path == "/slack" }.count == 30)
    }

    @Test func secretsNeverReachTheLogs() throws {
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "test", minimumLevel: .debug) { line in lines.withLock { $0.append(line) } }
        let token = "T0KEN-9b1f3e77"
        let test = try scenario([.drop, .status(500, retryAfter: nil), .status(404, retryAfter: nil)], notifications: 3,
                                secret: Self.secret, path: "/hooks/\(token)?key=\(token)", logger: logger)
        defer { test.receiver.stop() }
        #expect(try test.deliverer.deliverDue() == 3)
        #expect(test.receiver.received.allSatisfy { $0.path == "/hooks/\(token)?key=\(token)" })
        let logged = lines.withLock { $0 }
        #expect(logged.count == 3)  // two retries and one dead letter, each logged once
        #expect(logged.allSatisfy { !$0.contains(token) && !$0.contains(Self.secret) && $0.contains("outbox.id") })
        let stored = try test.database.rows().compactMap(\.lastError)
        #expect(stored.count == 3 && stored.allSatisfy { !$0.contains(token) })
    }

    @Test func deadLettersAreListedWithoutURLsAndCanBeRedelivered() throws {
        let test = try scenario([.status(404, retryAfter: nil), .status(404, retryAfter: nil)], notifications: 2, path: "/hooks/T0KEN")
        defer { test.receiver.stop() }
        #expect(try test.deliverer.deliverDue() == 2)
        let dead = try test.database.withConnection { try AlertOutbox.deadLetters(project: test.project, on: $0) }
        #expect(dead.count == 2 && dead.allSatisfy { $0.lastStatus == 404 && $0.attempts == 1 && $0.destination == "webhook" })
        #expect(!String(describing: dead).contains("T0KEN"))
        let connection = try PostgresConnection(connectionString: test.database.connectionString, applicationName: "tokenmeter-test")
        defer { connection.close() }
        do {
            #expect(try AlertOutbox.backlog(on: connection) == OutboxBacklog(pending: 0, dead: 2, oldestPending: nil))
            test.clock.advance(by: 60)
            // The receiver was fixed: put one back.
            #expect(try AlertOutbox.redeliver(id: dead[0].id, project: test.project, now: test.clock.now(), on: connection))
            #expect(try !AlertOutbox.redeliver(id: dead[0].id, project: test.project, now: test.clock.now(), on: connection))
            #expect(try AlertOutbox.backlog(on: connection) == OutboxBacklog(pending: 1, dead: 1, oldestPending: test.clock.now()))
        }
        #expect(try test.deliverer.deliverDue() == 1)
        #expect(test.receiver.processed.map(\.id) == [dead[0].id])
        let rows = try test.database.rows()
        #expect(rows.filter { $0.delivered }.count == 1 && rows.filter { $0.dead }.count == 1)
    }
}
