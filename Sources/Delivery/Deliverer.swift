import Foundation
import Postgres
import TokenmeterCore

/// What happened to one claimed row.
enum DeliveryOutcome: Sendable, Hashable {
    case delivered
    case retryScheduled
    case dead
    /// Our lease ran out and another deliverer took the row over; nothing recorded.
    case lostClaim
}

/// Delivers due outbox rows: claim, POST, record. At-least-once: a row is marked delivered only
/// after a 2xx, so a crash (or a timeout after the receiver already processed the request)
/// means it is sent again — with the same `X-Tokenmeter-Notification-Id`.
///
/// **Claiming** is a short transaction: due rows are locked with `FOR UPDATE SKIP LOCKED`, their
/// attempt counted and `next_attempt_at` pushed a lease ahead (long enough for the whole batch to
/// time out, plus a margin: ``DeliveryConfiguration/lease``), then committed. Other deliverers — threads or Tokenmeter instances — skip the
/// locked rows and, after the commit, see them as not due, so no two deliver a row at the same
/// time; no transaction stays open during HTTP. A deliverer that dies mid-attempt leaves its
/// rows to come due again when the lease ends. Results are recorded under the claim token, so
/// a deliverer whose lease ran out cannot overwrite the newer claim.
///
/// **Order per alert:** a row is not claimed while an older row of the same alert (fingerprint)
/// and destination is pending, so a receiver never sees "resolved" before the "firing" that is
/// still being retried, and one alert has at most one request in flight per destination.
///
/// Every call blocks (libpq, libcurl): run it on a thread of its own (``DeliveryService``).
public final class Deliverer: Sendable {
    public let pool: PostgresPool
    public let transport: any WebhookTransport
    public let configuration: DeliveryConfiguration
    public let counters: DeliveryCounters
    let policy: RetryPolicy
    let logger: Logger
    let clock: @Sendable () -> Date
    let random: @Sendable () -> Double

    /// - Parameters:
    ///   - clock: the time used for due checks, backoff and signatures (injected in tests).
    ///   - random: uniform in [0, 1), for backoff jitter.
    public init(pool: PostgresPool, transport: any WebhookTransport, configuration: DeliveryConfiguration = DeliveryConfiguration(),
                counters: DeliveryCounters = DeliveryCounters(), logger: Logger,
                clock: @escaping @Sendable () -> Date = { Date() },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.pool = pool
        self.transport = transport
        self.configuration = configuration
        self.counters = counters
        self.policy = RetryPolicy(configuration: configuration)
        self.logger = logger.with(label: "delivery")
        self.clock = clock
        self.random = random
    }

    /// One claimed row: what to send and where.
    struct Claim: Sendable {
        var id: String
        var token: String
        var project: Int64
        var destination: String
        var url: String
        var payload: [UInt8]
        var attempts: Int
        var createdAt: Date
        var hmacSecret: String?
    }

    /// Claims up to `batchSize` due rows, delivers them one after another, records each result.
    /// Returns how many rows it claimed (0: nothing was due).
    @discardableResult
    public func deliverDue() throws -> Int {
        let claims = try claim(limit: configuration.batchSize)
        for claim in claims {
            let outcome = try deliver(claim)
            counters.record(outcome)
        }
        return claims.count
    }

    /// Locks and leases due rows; commits before any HTTP is sent.
    func claim(limit: Int) throws -> [Claim] {
        let now = clock()
        let token = UUID()
        let leaseUntil = now.addingTimeInterval(configuration.lease)
        return try pool.withConnection { connection in
            try connection.query("""
                UPDATE alert_outbox o
                SET attempts = o.attempts + 1, next_attempt_at = \(leaseUntil), claim_token = \(token)::uuid, last_attempt_at = \(now)
                WHERE o.id IN (
                    SELECT id FROM alert_outbox due
                    WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= \(now)
                      AND NOT EXISTS (
                          SELECT 1 FROM alert_outbox older
                          WHERE older.project_id = due.project_id AND older.fingerprint = due.fingerprint
                            AND older.destination = due.destination AND older.delivered_at IS NULL AND older.dead_at IS NULL
                            AND older.created_at < due.created_at)
                    ORDER BY next_attempt_at, id
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED)
                RETURNING o.id, o.project_id, o.destination, o.url, o.payload::text AS payload, o.attempts, o.created_at,
                    (SELECT d.hmac_secret FROM alert_destinations d WHERE d.project_id = o.project_id) AS hmac_secret
                """).rows.map { row in
                Claim(id: try row.decode(String.self, column: "id"), token: token.uuidString.lowercased(),
                      project: try row.decode(Int64.self, column: "project_id"),
                      destination: try row.decode(String.self, column: "destination"),
                      url: try row.decode(String.self, column: "url"),
                      payload: Array(try row.decode(String.self, column: "payload").utf8),
                      attempts: try row.decode(Int.self, column: "attempts"),
                      createdAt: try row.decode(Date.self, column: "created_at"),
                      hmacSecret: try row.decode(String?.self, column: "hmac_secret"))
            }.sorted { $0.id < $1.id }
        }
    }

    /// Sends one claimed row and records the result.
    func deliver(_ claim: Claim) throws -> DeliveryOutcome {
        let sentAt = clock()
        let response = transport.post(request(for: claim, at: sentAt))
        let now = clock()
        let metadata = ["outbox.id": claim.id, "project.id": String(claim.project), "destination.kind": claim.destination,
                        "delivery.attempt": String(claim.attempts)]
        let status: Int? = if case .status(let code, _) = response { code } else { nil }
        switch policy.verdict(for: response, now: now) {
        case .delivered:
            return try record(claim, """
                delivered_at = \(now), last_status = \(status), last_error = NULL
                """)
        case .permanent(let reason):
            logger.warning("notification dead-lettered: permanent failure", metadata.merging(["error": reason]) { $1 })
            return try record(claim, "dead_at = \(now), last_status = \(status), last_error = \(reason)", outcome: .dead)
        case .retry(let reason, let retryAfter):
            let delay = policy.delay(afterAttempts: claim.attempts, retryAfter: retryAfter, unit: random())
            let next = now.addingTimeInterval(delay)
            if policy.exhausted(attempts: claim.attempts, createdAt: claim.createdAt, nextAttemptAt: next) {
                logger.warning("notification dead-lettered: retries exhausted", metadata.merging(["error": reason]) { $1 })
                return try record(claim, "dead_at = \(now), last_status = \(status), last_error = \(reason)", outcome: .dead)
            }
            logger.info("notification delivery failed, will retry",
                        metadata.merging(["error": reason, "delivery.retry_in_seconds": String(Int(delay.rounded()))]) { $1 })
            return try record(claim, "next_attempt_at = \(next), last_status = \(status), last_error = \(reason)", outcome: .retryScheduled)
        }
    }

    /// The POST: body as stored; id, timestamp and (with a secret, for webhooks) the signature.
    func request(for claim: Claim, at date: Date) -> WebhookRequest {
        let timestamp = Int64(date.timeIntervalSince1970.rounded(.down))
        var headers: [(name: String, value: String)] = [
            (WebhookSignature.idHeader, claim.id),
            (WebhookSignature.timestampHeader, String(timestamp)),
        ]
        if claim.destination == DestinationKind.webhook.rawValue, let secret = claim.hmacSecret, !secret.isEmpty {
            headers.append((WebhookSignature.signatureHeader, WebhookSignature.signature(secret: secret, timestamp: timestamp, body: claim.payload)))
        }
        return WebhookRequest(url: claim.url, headers: headers, body: claim.payload)
    }

    /// Applies `assignments` to the row if our claim still holds it.
    private func record(_ claim: Claim, _ assignments: PostgresQuery, outcome: DeliveryOutcome = .delivered) throws -> DeliveryOutcome {
        let head: PostgresQuery = "UPDATE alert_outbox SET claim_token = NULL, "
        let condition: PostgresQuery = " WHERE id = \(claim.id)::uuid AND claim_token = \(claim.token)::uuid"
        let query = head + assignments + condition
        let updated = try pool.withConnection { try $0.query(query).affectedRows }
        return updated == 1 ? outcome : .lostClaim
    }
}
