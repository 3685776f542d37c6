import Detection
import Foundation
import JSON
import Postgres
import TokenmeterCore

/// `alert_instances` (migration 0009): the alert state machine's instances, loaded before a round
/// and written after it on the caller's connection — inside the evaluator's transaction, the same
/// one that enqueues the round's notifications, so state and outbox commit together.
public enum AlertInstanceStore {
    /// Live (pending and firing) instances of `projects`, by fingerprint.
    public static func live(projects: [ProjectID], on connection: PostgresConnection) throws -> [String: AlertInstance] {
        guard !projects.isEmpty else { return [:] }
        let ids = projects.map { String($0.rawValue) }
        let rows = try connection.query("""
            SELECT \(unsafeRaw: columns) FROM alert_instances
            WHERE project_id = ANY(\(ids)::bigint[]) AND state <> 'resolved'
            """).rows
        var alerts: [String: AlertInstance] = [:]
        for row in rows {
            let alert = try decode(row)
            alerts[alert.fingerprint] = alert
        }
        return alerts
    }

    /// Writes one round's outcome: upserts live instances, marks the ones resolved in this step,
    /// and deletes pending instances that dropped back to inactive (they never fired, so they are
    /// not history). `previous` is what ``live(projects:on:)`` returned for the round.
    public static func persist(_ step: AlertStateMachine.Step, previous: [String: AlertInstance],
                               on connection: PostgresConnection) throws {
        for (fingerprint, alert) in step.alerts.sorted(by: { $0.key < $1.key }) {
            if alert.phase == .resolved {
                try connection.query("""
                    UPDATE alert_instances SET state = 'resolved', resolved_at = \(alert.resolvedAt),
                        last_evaluated = \(alert.lastEvaluated), clear_since = \(alert.clearSince), inhibited_by = \(alert.inhibitedBy)
                    WHERE project_id = \(alert.key.scope.project.rawValue) AND fingerprint = \(fingerprint) AND state <> 'resolved'
                    """)
            } else {
                try upsert(alert, on: connection)
            }
        }
        for (fingerprint, alert) in previous where step.alerts[fingerprint] == nil {
            try connection.query("""
                DELETE FROM alert_instances
                WHERE project_id = \(alert.key.scope.project.rawValue) AND fingerprint = \(fingerprint) AND state = 'pending'
                """)
        }
    }

    static func upsert(_ alert: AlertInstance, on connection: PostgresConnection) throws {
        let f = alert.finding
        let labels = json(alert.key.scope.labels)
        let annotations = json(f.annotations)
        try connection.query("""
            INSERT INTO alert_instances (project_id, fingerprint, rule, state, severity, labels, instance, unit, value, baseline,
                threshold, peak_value, summary, annotations, pending_for, pending_since, started_at, last_evaluated, resolved_at,
                clear_since, notified_severity, notified_value, last_notified_at, inhibited_by)
            VALUES (\(alert.key.scope.project.rawValue), \(alert.fingerprint), \(alert.key.rule.rawValue), \(alert.phase.rawValue),
                \(f.severity.description), \(labels)::jsonb, \(alert.key.instance), \(f.unit.rawValue), \(f.value), \(f.baseline),
                \(f.threshold), \(alert.peakValue), \(f.summary), \(annotations)::jsonb, \(f.pendingFor), \(alert.pendingSince),
                \(alert.firingSince), \(alert.lastEvaluated), \(alert.resolvedAt), \(alert.clearSince),
                \(alert.notifiedSeverity?.description), \(alert.notifiedValue), \(alert.lastNotifiedAt), \(alert.inhibitedBy))
            ON CONFLICT (project_id, fingerprint) WHERE state <> 'resolved' DO UPDATE SET
                state = EXCLUDED.state, severity = EXCLUDED.severity, labels = EXCLUDED.labels, unit = EXCLUDED.unit,
                value = EXCLUDED.value, baseline = EXCLUDED.baseline, threshold = EXCLUDED.threshold,
                peak_value = EXCLUDED.peak_value, summary = EXCLUDED.summary, annotations = EXCLUDED.annotations,
                pending_for = EXCLUDED.pending_for, started_at = EXCLUDED.started_at, last_evaluated = EXCLUDED.last_evaluated,
                clear_since = EXCLUDED.clear_since, notified_severity = EXCLUDED.notified_severity,
                notified_value = EXCLUDED.notified_value, last_notified_at = EXCLUDED.last_notified_at,
                inhibited_by = EXCLUDED.inhibited_by
            """)
    }

    static let columns = """
        id, project_id, fingerprint, rule, state, severity, labels::text AS labels, instance, unit, value, baseline, threshold,
        peak_value, summary, annotations::text AS annotations, pending_for, pending_since, started_at, last_evaluated,
        resolved_at, clear_since, notified_severity, notified_value, last_notified_at, inhibited_by
        """

    struct CorruptRow: Error, CustomStringConvertible {
        let column: String
        var description: String { "alert_instances: unreadable \(column)" }
    }

    static func decode(_ row: PostgresRow) throws -> AlertInstance {
        guard let rule = Rule(rawValue: try row.decode(String.self, column: "rule")) else { throw CorruptRow(column: "rule") }
        guard let phase = AlertPhase(rawValue: try row.decode(String.self, column: "state")) else { throw CorruptRow(column: "state") }
        guard let unit = MeasureUnit(rawValue: try row.decode(String.self, column: "unit")) else { throw CorruptRow(column: "unit") }
        let scope = Scope(project: ProjectID(try row.decode(Int64.self, column: "project_id")),
                          labels: try strings(row.decode(String.self, column: "labels"), column: "labels"))
        let key = AlertKey(rule: rule, scope: scope, instance: try row.decode(String?.self, column: "instance"))
        let finding = Finding(
            key: key, severity: severity(try row.decode(String.self, column: "severity")) ?? .warning, unit: unit,
            value: try row.decode(column: "value"), baseline: try row.decode(column: "baseline"),
            threshold: try row.decode(column: "threshold"), summary: try row.decode(column: "summary"),
            annotations: try strings(row.decode(String.self, column: "annotations"), column: "annotations"),
            pendingFor: try row.decode(column: "pending_for"))
        return AlertInstance(
            key: key, phase: phase, finding: finding, peakValue: try row.decode(column: "peak_value"),
            pendingSince: try row.decode(column: "pending_since"), firingSince: try row.decode(column: "started_at"),
            resolvedAt: try row.decode(column: "resolved_at"), clearSince: try row.decode(column: "clear_since"),
            lastEvaluated: try row.decode(column: "last_evaluated"),
            notifiedSeverity: try row.decode(String?.self, column: "notified_severity").flatMap(severity),
            notifiedValue: try row.decode(column: "notified_value"), lastNotifiedAt: try row.decode(column: "last_notified_at"),
            inhibitedBy: try row.decode(column: "inhibited_by"))
    }

    static func severity(_ text: String) -> Severity? {
        switch text {
        case "warning": .warning
        case "critical": .critical
        default: nil
        }
    }

    static func json(_ map: [String: String]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for (name, value) in map.sorted(by: { $0.key < $1.key }) {
            writer.key(name)
            writer.string(value)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func strings(_ text: String, column: String) throws -> [String: String] {
        guard case .object(let object) = try JSONParser.parse(Array(text.utf8)) else { throw CorruptRow(column: column) }
        var map: [String: String] = [:]
        for (name, value) in object {
            guard let string = value.stringValue else { throw CorruptRow(column: column) }
            map[name] = string
        }
        return map
    }
}
