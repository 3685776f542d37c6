import Detection
import Foundation
import Postgres
import TokenmeterCore

/// Where one project's notifications go.
public struct AlertDestinations: Sendable, Hashable {
    /// Receives Alertmanager-format JSON, signed when `hmacSecret` is set.
    public var webhookURL: String?
    /// A Slack incoming webhook; receives Slack's message format.
    public var slackURL: String?
    public var hmacSecret: String?

    public init(webhookURL: String? = nil, slackURL: String? = nil, hmacSecret: String? = nil) {
        self.webhookURL = webhookURL
        self.slackURL = slackURL
        self.hmacSecret = hmacSecret
    }
}

extension AlertDestinations {
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        /// `webhook_url`, `slack_url` or `hmac_secret`.
        public var field: String
        public var reason: String
        /// Names the field, never echoes the value (it may be a secret).
        public var description: String { "\(field): \(reason)" }
    }

    /// What the API checks before storing: absolute http(s) URLs with a host, no whitespace or
    /// control characters, at most 2048 bytes; a secret of 16–256 printable characters. Set
    /// fields only; none set means "no alert delivery".
    public func validate() throws(Invalid) {
        for (field, url) in [("webhook_url", webhookURL), ("slack_url", slackURL)] {
            guard let url else { continue }
            guard url.utf8.count <= 2048 else { throw Invalid(field: field, reason: "longer than 2048 bytes") }
            guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f }) else {
                throw Invalid(field: field, reason: "contains whitespace or control characters")
            }
            let lower = url.lowercased()
            let rest: Substring
            if lower.hasPrefix("https://") { rest = url.dropFirst(8) } else if lower.hasPrefix("http://") { rest = url.dropFirst(7) } else {
                throw Invalid(field: field, reason: "must be an http:// or https:// URL")
            }
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
            guard !host.isEmpty, !host.hasPrefix(":") else { throw Invalid(field: field, reason: "has no host") }
        }
        if let secret = hmacSecret {
            guard (16...256).contains(secret.utf8.count) else { throw Invalid(field: "hmac_secret", reason: "must be 16 to 256 bytes") }
            guard secret.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
                throw Invalid(field: "hmac_secret", reason: "must be printable ASCII without spaces")
            }
        }
    }
}

/// The kind of receiver a row goes to (the outbox's `destination` column).
public enum DestinationKind: String, Sendable, Hashable, CaseIterable {
    case webhook
    case slack
}

/// The transactional outbox: notifications are inserted in the caller's transaction, the one
/// that stores the alert state change, so both commit or neither does. A notification becomes
/// one row per destination the project has, with its body rendered now (retries send the same
/// bytes). Enqueueing is idempotent: the unique key is (project, fingerprint, kind, incident
/// start, sequence, destination), and the row id is derived from it, so enqueueing the same
/// notification again — an evaluator retrying a round — adds nothing.
public struct AlertOutbox: Sendable {
    public var payloads: PayloadConfiguration

    public init(payloads: PayloadConfiguration) {
        self.payloads = payloads
    }

    public struct NotInTransaction: Error, CustomStringConvertible {
        public var description: String { "AlertOutbox.enqueue must run inside the transaction that stores the alert state" }
    }

    /// Inserts `notifications` for every destination of their projects, in `transaction` (a
    /// connection inside `transaction { }`). `now` is the evaluation time: rows are due at once.
    /// Returns the rows inserted (0 for a re-enqueue). Projects without destinations get none.
    @discardableResult
    public func enqueue(_ notifications: [AlertNotification], in transaction: PostgresConnection, now: Date) throws -> Int {
        guard transaction.isInTransaction else { throw NotInTransaction() }
        var targets: [Int64: (name: String?, destinations: [(DestinationKind, String)])] = [:]
        var inserted = 0
        for notification in notifications {
            let project = notification.alert.key.scope.project
            if targets[project.rawValue] == nil {
                targets[project.rawValue] = try Self.targets(of: project, on: transaction)
            }
            guard let target = targets[project.rawValue] else { continue }
            for (kind, url) in target.destinations {
                let key = OutboxKey(notification: notification, destination: kind)
                let body: [UInt8] = switch kind {
                case .webhook: AlertmanagerPayload(configuration: payloads).render(notification, id: key.id, projectName: target.name)
                case .slack: SlackPayload(configuration: payloads).render(notification, projectName: target.name)
                }
                let result = try transaction.query("""
                    INSERT INTO alert_outbox (id, project_id, fingerprint, kind, incident_start, sequence_at, destination,
                                              url, payload, next_attempt_at, created_at)
                    VALUES (\(key.id)::uuid, \(project.rawValue), \(key.fingerprint), \(key.kind.rawValue), \(key.incidentStart),
                            \(key.sequence), \(kind.rawValue), \(url), \(String(decoding: body, as: UTF8.self))::json, \(now), \(now))
                    ON CONFLICT DO NOTHING
                    """)
                inserted += result.affectedRows
            }
        }
        return inserted
    }

    /// The project's name and destinations, read in the enqueueing transaction.
    static func targets(of project: ProjectID, on connection: PostgresConnection) throws -> (name: String?, destinations: [(DestinationKind, String)]) {
        let rows = try connection.query("""
            SELECT p.name, d.webhook_url, d.slack_url
            FROM alert_destinations d JOIN projects p ON p.id = d.project_id
            WHERE d.project_id = \(project.rawValue)
            """).rows
        guard let row = rows.first else { return (nil, []) }
        var destinations: [(DestinationKind, String)] = []
        if let url = try row.decode(String?.self, column: "webhook_url"), !url.isEmpty { destinations.append((.webhook, url)) }
        if let url = try row.decode(String?.self, column: "slack_url"), !url.isEmpty { destinations.append((.slack, url)) }
        return (try row.decode(String.self, column: "name"), destinations)
    }

    /// Sets (replaces) a project's destinations. Notifications already queued keep their URL.
    public static func setDestinations(_ destinations: AlertDestinations, project: ProjectID, on connection: PostgresConnection, now: Date = Date()) throws {
        try connection.query("""
            INSERT INTO alert_destinations (project_id, webhook_url, slack_url, hmac_secret, updated_at)
            VALUES (\(project.rawValue), \(destinations.webhookURL), \(destinations.slackURL), \(destinations.hmacSecret), \(now))
            ON CONFLICT (project_id) DO UPDATE SET webhook_url = EXCLUDED.webhook_url, slack_url = EXCLUDED.slack_url,
                hmac_secret = EXCLUDED.hmac_secret, updated_at = EXCLUDED.updated_at
            """)
    }
}

/// The idempotency key of one outbox row, and the notification id derived from it.
struct OutboxKey: Sendable, Hashable {
    var project: ProjectID
    var fingerprint: String
    var kind: NotificationKind
    /// The incident's first breach: the same for its firing, repeats, escalations and resolution.
    var incidentStart: Date
    /// When a repeat or escalation was sent (the state machine's `lastNotifiedAt`); the epoch for
    /// firing and resolved, which happen once per incident.
    var sequence: Date
    var destination: DestinationKind

    init(notification: AlertNotification, destination: DestinationKind) {
        let alert = notification.alert
        project = alert.key.scope.project
        fingerprint = alert.fingerprint
        kind = notification.kind
        incidentStart = Self.milliseconds(alert.pendingSince)
        switch notification.kind {
        case .firing, .resolved: sequence = Date(timeIntervalSince1970: 0)
        case .repeat, .escalated: sequence = Self.milliseconds(alert.lastNotifiedAt ?? alert.lastEvaluated)
        }
        self.destination = destination
    }

    /// A UUID-shaped id: the first 128 bits of SHA-256 over the key, so the same notification
    /// always gets the same id (and row), on any instance.
    var id: String {
        let canonical = [project.description, fingerprint, kind.rawValue, String(Int64(incidentStart.timeIntervalSince1970 * 1000)),
                         String(Int64(sequence.timeIntervalSince1970 * 1000)), destination.rawValue].joined(separator: "\u{1F}")
        let hex = Array(SHA256.hex(Array(canonical.utf8)).prefix(32))
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
    }

    /// Postgres keeps microseconds; keys are compared at millisecond precision so a re-enqueue
    /// with a Date that went through the database matches.
    static func milliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
