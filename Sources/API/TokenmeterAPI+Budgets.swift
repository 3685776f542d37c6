import Detection
import Foundation
import HTTP
import JSON
import TokenmeterCore

extension TokenmeterAPI {
    /// `PUT /v1/budgets/{id}?project=` (admin token): creates or replaces a budget.
    func putBudget(_ request: HTTPRequest, id: String, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let project = try configurationProject(request, alerts)
        try TokenmeterAPI.validateBudgetID(id)
        let body = try AlertBody(request, known: ["scope", "period", "unit", "limit", "timezone"])
        var scope = Scope(project: project)
        if let object = try body.objectValue("scope") {
            let known: Set<String> = ["type", "feature", "user_id"]
            if let unknown = object.keys.first(where: { !known.contains($0) }) {
                throw APIError.badRequest("unknown field scope.\(unknown.prefix(64))", field: "scope.\(unknown.prefix(64))")
            }
            func value(_ name: String) throws -> String {
                guard let text = object[name]?.stringValue, !text.isEmpty, text.utf8.count <= 256 else {
                    throw APIError.badRequest("scope.\(name) must be a string of 1-256 bytes", field: "scope.\(name)")
                }
                return text
            }
            switch object["type"]?.stringValue {
            case "project"?: break
            case "feature"?: scope.labels["feature"] = try value("feature")
            case "user"?: scope.labels["user_id"] = try value("user_id")
            default: throw APIError.badRequest("scope.type must be project, feature or user", field: "scope.type")
            }
        }
        guard let periodText = try body.string("period"), let period = BudgetPeriod(rawValue: periodText) else {
            throw APIError.badRequest("period is required: daily or monthly", field: "period")
        }
        let unitText = try body.string("unit") ?? "usd"
        guard let unit = BudgetUnit(rawValue: unitText) else { throw APIError.badRequest("unit must be usd or tokens", field: "unit") }
        let limit = try TokenmeterAPI.budgetLimit(body.object["limit"], unit: unit)
        var zone = TimeZone(identifier: "UTC")!
        if let name = try body.string("timezone", maxBytes: 64) {
            guard let parsed = TimeZone(identifier: name) else {
                throw APIError.badRequest("timezone must be an IANA time zone such as Europe/Paris", field: "timezone")
            }
            zone = parsed
        }
        let budget = Budget(id: id, scope: scope, period: period, unit: unit, limit: limit, timeZone: zone)
        let created = try alerts.alerts.putBudget(budget)
        return try budgetStatusResponse(budget, status: created ? 201 : 200, alerts)
    }

    /// `limit` in USD (a decimal number or string, exact to the picodollar) or whole tokens.
    static func budgetLimit(_ value: JSONValue?, unit: BudgetUnit) throws -> Int64 {
        guard let value, value != .null else { throw APIError.badRequest("limit is required", field: "limit") }
        let text: String? = switch value {
        case .number(let n): n.text
        case .string(let s): s
        default: nil
        }
        switch unit {
        case .usd:
            guard let text, let money = Money(decimalString: text), money.picodollars > 0,
                  money <= Money(picodollars: 1_000_000 * Money.picodollarsPerDollar) else {
                throw APIError.badRequest("limit must be a positive USD amount (at most 1000000)", field: "limit")
            }
            return money.picodollars
        case .tokens:
            guard let text, let tokens = Int64(text), tokens > 0 else {
                throw APIError.badRequest("limit must be a positive whole number of tokens", field: "limit")
            }
            return tokens
        }
    }

    static func validateBudgetID(_ id: String) throws {
        guard (1...128).contains(id.utf8.count),
              id.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.:".unicodeScalars.contains($0) })
        else { throw APIError.badRequest("a budget id is 1-128 characters of A-Z, a-z, 0-9, - _ . :", field: "id") }
    }

    func deleteBudget(_ request: HTTPRequest, id: String, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let project = try configurationProject(request, alerts)
        try TokenmeterAPI.validateBudgetID(id)
        guard try alerts.alerts.deleteBudget(id: id, project: project) else { throw APIError.notFound("no budget \(id)") }
        return json(200) { w in w.key("deleted"); w.string(id) }
    }

    func listBudgets(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        try QueryParameters(request: request).rejectUnknown(allowed: [])
        let now = deps.clock()
        let warning = try warningFraction(principal.project, alerts)
        let statuses = try alerts.alerts.budgets(project: principal.project).map { budget in
            (budget, try alerts.alerts.usage(of: budget, now: now))
        }
        return json(200) { w in
            w.key("budgets"); w.beginArray()
            for (budget, usage) in statuses {
                w.beginObject()
                TokenmeterAPI.writeBudgetStatus(budget, usage: usage, warningFraction: warning, now: now, into: &w)
                w.endObject()
            }
            w.endArray()
        }
    }

    /// `GET /v1/budgets/{id}/status` (read key): what an app checks before a call.
    func budgetStatus(_ request: HTTPRequest, id: String, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        try QueryParameters(request: request).rejectUnknown(allowed: [])
        try TokenmeterAPI.validateBudgetID(id)
        guard let budget = try alerts.alerts.budget(id: id, project: principal.project) else { throw APIError.notFound("no budget \(id)") }
        return try budgetStatusResponse(budget, status: 200, alerts)
    }

    private func budgetStatusResponse(_ budget: Budget, status: Int, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let now = deps.clock()
        let usage = try alerts.alerts.usage(of: budget, now: now)
        let warning = try warningFraction(budget.scope.project, alerts)
        return json(status) { w in TokenmeterAPI.writeBudgetStatus(budget, usage: usage, warningFraction: warning, now: now, into: &w) }
    }

    /// The project's warning fraction (the budget_threshold rule's threshold), so the status's
    /// `state` agrees with the alerts.
    private func warningFraction(_ project: ProjectID, _ alerts: AlertDependencies) throws -> Double {
        try alerts.alerts.ruleOverrides(project: project)[.budgetThreshold]?.threshold ?? BudgetParameters().warningFraction
    }

    static func writeBudgetStatus(_ budget: Budget, usage: BudgetUsage, warningFraction: Double, now: Date, into w: inout JSONWriter) {
        let period = budget.period(containing: now)
        func amount(_ value: Int64) {
            if budget.unit == .usd { w.rawNumber(Money(picodollars: value).usdString) } else { w.int(value) }
        }
        let fraction = Double(usage.spentInPeriod) / Double(budget.limit)
        w.key("id"); w.string(budget.id)
        w.key("scope"); w.beginObject()
        if let feature = budget.scope.labels["feature"] {
            w.key("type"); w.string("feature"); w.key("feature"); w.string(feature)
        } else if let user = budget.scope.labels["user_id"] {
            w.key("type"); w.string("user"); w.key("user_id"); w.string(user)
        } else {
            w.key("type"); w.string("project")
        }
        w.endObject()
        w.key("period"); w.string(budget.period.rawValue)
        w.key("timezone"); w.string(budget.timeZone.identifier)
        w.key("unit"); w.string(budget.unit.rawValue)
        w.key("limit"); amount(budget.limit)
        w.key("spent"); amount(usage.spentInPeriod)
        w.key("remaining"); amount(max(budget.limit - usage.spentInPeriod, 0))
        w.key("percent_used"); w.double((fraction * 10_000).rounded() / 100)
        w.key("burn_rate_per_hour"); amount(usage.spentLastHour)
        w.key("projected_exhaustion_at")
        // Past the period's end the budget renews first: no exhaustion to project.
        if let eta = BudgetAlerts.projectedExhaustion(budget, usage: usage, now: now), eta < period.end {
            w.string(Timestamp.rfc3339(eta))
        } else { w.null() }
        w.key("period_start"); w.string(Timestamp.rfc3339(period.start))
        w.key("period_end"); w.string(Timestamp.rfc3339(period.end))
        w.key("state"); w.string(fraction >= 1 ? "exceeded" : fraction >= warningFraction ? "warning" : "ok")
    }
}
