import Delivery
@testable import Detection
import Foundation
import Postgres
import Store
import Synchronization
import TokenmeterCore

/// A time that moves only when a test says so.
final class ManualClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    func now() -> Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A fresh migrated database on the Postgres that ./scripts/test started, with one project.
struct DeliveryDatabase {
    let connectionString: String

    static func migrated() throws -> DeliveryDatabase {
        guard let base = ProcessInfo.processInfo.environment["TOKENMETER_TEST_DATABASE_URL"], !base.isEmpty else {
            throw ReceiverError("TOKENMETER_TEST_DATABASE_URL is not set: run the tests through ./scripts/test")
        }
        let name = "tm_delivery_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        let admin = try PostgresConnection(connectionString: base, applicationName: "tokenmeter-test")
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(name)")
        let database = DeliveryDatabase(connectionString: base + " dbname=\(name)")
        let migrations = ProcessInfo.processInfo.environment["TOKENMETER_MIGRATIONS_DIR"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("migrations").path
        _ = try database.withConnection { try Migrator(directory: URL(fileURLWithPath: migrations)).migrate($0) }
        return database
    }

    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try PostgresConnection(connectionString: connectionString, applicationName: "tokenmeter-test")
        defer { connection.close() }
        return try body(connection)
    }

    func pool(size: Int = 2) -> PostgresPool {
        PostgresPool(connectionString: connectionString, size: size, applicationName: "tokenmeter-test")
    }

    /// A project with the given destinations.
    func project(_ name: String, _ destinations: AlertDestinations) throws -> ProjectID {
        try withConnection { connection in
            let id = try connection.query("INSERT INTO projects (name) VALUES (\(name)) RETURNING id").rows[0].decode(Int64.self, column: "id")
            try AlertOutbox.setDestinations(destinations, project: ProjectID(id), on: connection)
            return ProjectID(id)
        }
    }

    func enqueue(_ notifications: [AlertNotification], now: Date, payloads: PayloadConfiguration = PayloadConfiguration()) throws -> Int {
        try withConnection { connection in
            try connection.transaction { try AlertOutbox(payloads: payloads).enqueue(notifications, in: $0, now: now) }
        }
    }

    struct Row {
        var id: String, kind: String, destination: String, attempts: Int
        var nextAttemptAt: Date, delivered: Bool, dead: Bool, lastError: String?, lastStatus: Int?
    }

    func rows() throws -> [Row] {
        try withConnection { connection in
            try connection.query("""
                SELECT id::text, kind, destination, attempts, next_attempt_at, delivered_at IS NOT NULL AS delivered,
                       dead_at IS NOT NULL AS dead, last_error, last_status
                FROM alert_outbox ORDER BY id
                """).rows.map { row in
                Row(id: try row.decode(column: "id"), kind: try row.decode(column: "kind"), destination: try row.decode(column: "destination"),
                    attempts: try row.decode(column: "attempts"), nextAttemptAt: try row.decode(column: "next_attempt_at"),
                    delivered: try row.decode(column: "delivered"), dead: try row.decode(column: "dead"),
                    lastError: try row.decode(column: "last_error"), lastStatus: try row.decode(column: "last_status"))
            }
        }
    }
}

/// Notifications as the alert state machine emits them.
enum Notifications {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30T00:53:20Z

    static func spendSpike(project: ProjectID, feature: String, kind: NotificationKind = .firing,
                           at firing: Date = start) -> AlertNotification {
        let key = AlertKey(rule: .spendSpike, scope: Scope(project: project, labels: ["feature": feature, "model": "gpt-4o"]))
        let finding = Finding(key: key, severity: .critical, unit: .usd, value: 4.2, baseline: 0.8, threshold: 1.6,
                              summary: "Spend $4.20 in 5 min vs $0.80 expected (×5.3) for feature=\(feature)",
                              annotations: ["z": "9.10", "window": "5m"], pendingFor: 180)
        var alert = AlertInstance(key: key, phase: kind == .resolved ? .resolved : .firing, finding: finding, peakValue: 5.1,
                                  pendingSince: firing.addingTimeInterval(-180), firingSince: firing,
                                  resolvedAt: kind == .resolved ? firing.addingTimeInterval(1200) : nil,
                                  lastEvaluated: firing, notifiedSeverity: .critical, notifiedValue: 4.2, lastNotifiedAt: firing)
        if kind == .repeat || kind == .escalated { alert.lastNotifiedAt = firing.addingTimeInterval(4 * 3600) }
        return AlertNotification(kind: kind, alert: alert, inhibits: [])
    }
}
