import Detection
import Foundation
import JSON
import Postgres
import TokenmeterCore

/// Rules, budgets and incidents behind the alert routes (migration 0009). Budget spend comes from
/// ``PostgresUsageReader``, which stitches rollups and raw events, so it equals a sum over events.
public final class PostgresAlertStore: AlertRepository {
    private let pool: PostgresPool
    private let usageReader: PostgresUsageReader

    public init(pool: PostgresPool, usageReader: PostgresUsageReader) {
        self.pool = pool
        self.usageReader = usageReader
    }

    public func project(named name: String) throws -> ProjectID? {
        try storage {
            try pool.withConnection { connection in
                try connection.query("SELECT id FROM projects WHERE name = \(name)").rows.first
                    .map { ProjectID(try $0.decode(Int64.self, column: "id")) }
            }
        }
    }

    // MARK: rules

    public func ruleOverrides(project: ProjectID) throws -> [Rule: RuleOverride] {
        try storage { try pool.withConnection { try Self.ruleOverrides(project: project, on: $0) } }
    }

    /// Also used by the evaluator inside its transaction.
    public static func ruleOverrides(project: ProjectID, on connection: PostgresConnection) throws -> [Rule: RuleOverride] {
        var overrides: [Rule: RuleOverride] = [:]
        for row in try connection.query("""
            SELECT rule, enabled, settings::text AS settings FROM alert_rules WHERE project_id = \(project.rawValue)
            """).rows {
            guard let rule = Rule(rawValue: try row.decode(String.self, column: "rule")) else { continue }
            let settings = try JSONParser.parse(Array(try row.decode(String.self, column: "settings").utf8))
            overrides[rule] = RuleOverride(
                enabled: try row.decode(Bool.self, column: "enabled") ? nil : false,
                threshold: settings["threshold"]?.doubleValue,
                minimumCalls: settings["min_calls"]?.int64Value.map { Int($0) },
                pendingSeconds: settings["pending_seconds"]?.doubleValue)
        }
        return overrides
    }

    public func setRuleOverride(_ override: RuleOverride, rule: Rule, project: ProjectID) throws {
        var writer = JSONWriter()
        writer.beginObject()
        if let v = override.threshold { writer.key("threshold"); writer.double(v) }
        if let v = override.minimumCalls { writer.key("min_calls"); writer.int(v) }
        if let v = override.pendingSeconds { writer.key("pending_seconds"); writer.double(v) }
        writer.endObject()
        let settings = String(decoding: writer.bytes, as: UTF8.self)
        try storage {
            try pool.withConnection { connection in
                if override.isEmpty {
                    try connection.query("DELETE FROM alert_rules WHERE project_id = \(project.rawValue) AND rule = \(rule.rawValue)")
                } else {
                    try connection.query("""
                        INSERT INTO alert_rules (project_id, rule, enabled, settings, updated_at)
                        VALUES (\(project.rawValue), \(rule.rawValue), \(override.enabled ?? true), \(settings)::jsonb, now())
                        ON CONFLICT (project_id, rule) DO UPDATE
                        SET enabled = EXCLUDED.enabled, settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at
                        """)
                }
            }
        }
    }

    // MARK: budgets

    public func budgets(project: ProjectID) throws -> [Budget] {
        try storage { try pool.withConnection { try Self.budgets(project: project, id: nil, on: $0) } }
    }

    public func budget(id: String, project: ProjectID) throws -> Budget? {
        try storage { try pool.withConnection { try Self.budgets(project: project, id: id, on: $0).first } }
    }

    /// Budgets of a project (all, or the one with `id`), by id.
    public static func budgets(project: ProjectID, id: String?, on connection: PostgresConnection) throws -> [Budget] {
        try connection.query("""
            SELECT id, scope_kind, scope_value, period, unit, limit_amount, time_zone FROM budgets
            WHERE project_id = \(project.rawValue) AND (\(id)::text IS NULL OR id = \(id)) ORDER BY id
            """).rows.compactMap { row in
            guard let period = BudgetPeriod(rawValue: try row.decode(String.self, column: "period")),
                  let unit = BudgetUnit(rawValue: try row.decode(String.self, column: "unit")),
                  let zone = TimeZone(identifier: try row.decode(String.self, column: "time_zone")) else { return nil }
            var scope = Scope(project: project)
            let value = try row.decode(String?.self, column: "scope_value")
            switch try row.decode(String.self, column: "scope_kind") {
            case "feature": scope.labels["feature"] = value
            case "user": scope.labels["user_id"] = value
            default: break
            }
            return Budget(id: try row.decode(column: "id"), scope: scope, period: period, unit: unit,
                          limit: try row.decode(column: "limit_amount"), timeZone: zone)
        }
    }

    public func putBudget(_ budget: Budget) throws -> Bool {
        let (kind, value): (String, String?) = if let feature = budget.scope.labels["feature"] { ("feature", feature) }
            else if let user = budget.scope.labels["user_id"] { ("user", user) } else { ("project", nil) }
        return try storage {
            try pool.withConnection { connection in
                try connection.query("""
                    INSERT INTO budgets (project_id, id, scope_kind, scope_value, period, unit, limit_amount, time_zone)
                    VALUES (\(budget.scope.project.rawValue), \(budget.id), \(kind), \(value), \(budget.period.rawValue),
                            \(budget.unit.rawValue), \(budget.limit), \(budget.timeZone.identifier))
                    ON CONFLICT (project_id, id) DO UPDATE SET scope_kind = EXCLUDED.scope_kind, scope_value = EXCLUDED.scope_value,
                        period = EXCLUDED.period, unit = EXCLUDED.unit, limit_amount = EXCLUDED.limit_amount,
                        time_zone = EXCLUDED.time_zone, updated_at = now()
                    RETURNING (xmax = 0) AS created
                    """).rows[0].decode(Bool.self, column: "created")
            }
        }
    }

    public func deleteBudget(id: String, project: ProjectID) throws -> Bool {
        try storage {
            try pool.withConnection { connection in
                try connection.query("DELETE FROM budgets WHERE project_id = \(project.rawValue) AND id = \(id)").affectedRows == 1
            }
        }
    }

    public func usage(of budget: Budget, now: Date) throws -> BudgetUsage {
        let period = budget.period(containing: now)
        func spent(since start: Date) throws -> Int64 {
            let from = max(start, period.start)
            guard from < now else { return 0 }
            var filters: [UsageDimension: String] = [:]
            if let feature = budget.scope.labels["feature"] { filters[.feature] = feature }
            if let user = budget.scope.labels["user_id"] { filters[.userID] = user }
            let rows = try usageReader.usage(UsageQuery(project: budget.scope.project, range: TimeRange(from: from, to: now),
                                                        interval: .none, groupBy: [], filters: filters))
            return try rows.reduce(Int64(0)) { total, row in
                switch budget.unit {
                case .tokens: return total + row.tokensIn + row.tokensOut
                case .usd:
                    guard let cost = Money(decimalString: row.costUSD) else { throw StorageError.failed("unreadable cost \(row.costUSD)") }
                    return total + cost.picodollars
                }
            }
        }
        // Burn-rate windows count spend within the current period only: a new period starts clean.
        return BudgetUsage(spentInPeriod: try spent(since: period.start),
                           spentLast5Minutes: try spent(since: now.addingTimeInterval(-300)),
                           spentLast30Minutes: try spent(since: now.addingTimeInterval(-1800)),
                           spentLastHour: try spent(since: now.addingTimeInterval(-3600)),
                           spentLast6Hours: try spent(since: now.addingTimeInterval(-6 * 3600)))
    }

    // MARK: incidents

    public func alerts(_ query: AlertListQuery) throws -> [StoredAlert] {
        let states = query.states.map(\.rawValue).sorted()
        let from = query.range?.from, to = query.range?.to
        return try storage {
            try pool.withConnection { connection in
                try connection.query("""
                    SELECT \(unsafeRaw: AlertInstanceStore.columns) FROM alert_instances
                    WHERE project_id = \(query.project.rawValue) AND state = ANY(\(states)::text[])
                      AND (\(to)::timestamptz IS NULL OR pending_since < \(to))
                      AND (\(from)::timestamptz IS NULL OR resolved_at IS NULL OR resolved_at >= \(from))
                    ORDER BY pending_since DESC, id DESC LIMIT \(query.limit)
                    """).rows.map { StoredAlert(id: try $0.decode(Int64.self, column: "id"), alert: try AlertInstanceStore.decode($0)) }
            }
        }
    }
}
