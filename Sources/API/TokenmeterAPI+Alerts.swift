import Detection
import Foundation
import HTTP
import JSON
import TokenmeterCore

/// What the alert routes need, injected by the composition root; nil answers them 404.
public struct AlertDependencies: Sendable {
    public var alerts: any AlertRepository
    public var destinations: any AlertDestinationRepository
    /// Base of dashboard links in `GET /v1/alerts` (nil: `links.dashboard` is null).
    public var dashboardBaseURL: String?
    /// Runs one evaluation round at the given time (`POST /v1/admin/evaluate`, admin token).
    public var evaluate: (@Sendable (Date) throws -> EvaluationSummary)?

    public init(alerts: any AlertRepository, destinations: any AlertDestinationRepository, dashboardBaseURL: String?,
                evaluate: (@Sendable (Date) throws -> EvaluationSummary)?) {
        self.alerts = alerts
        self.destinations = destinations
        self.dashboardBaseURL = dashboardBaseURL
        self.evaluate = evaluate
    }
}

/// What one evaluation round did, as `POST /v1/admin/evaluate` reports it.
public struct EvaluationSummary: Sendable, Hashable {
    public var ran: Bool
    public var projects: Int
    public var evaluations: Int
    public var notifications: Int
    public var watermark: Date

    public init(ran: Bool, projects: Int, evaluations: Int, notifications: Int, watermark: Date) {
        self.ran = ran
        self.projects = projects
        self.evaluations = evaluations
        self.notifications = notifications
        self.watermark = watermark
    }
}

extension TokenmeterAPI {
    /// `/v1/alert-rules[/{rule}]`, `/v1/budgets[/{id}[/status]]`, `/v1/alerts`, `/v1/alert-destinations`,
    /// `/v1/alert-deliveries`, `/v1/admin/evaluate`.
    static func alertRoute(for path: String) -> (Route, allowed: [String], parameter: String?)? {
        switch path {
        case "/v1/alert-rules": return (.alertRules, ["GET", "HEAD"], nil)
        case "/v1/budgets": return (.budgets, ["GET", "HEAD"], nil)
        case "/v1/alerts": return (.alerts, ["GET", "HEAD"], nil)
        case "/v1/alert-destinations": return (.alertDestinations, ["GET", "HEAD", "PUT"], nil)
        case "/v1/alert-deliveries": return (.alertDeliveries, ["GET", "HEAD"], nil)
        case "/v1/admin/evaluate": return (.adminEvaluate, ["POST"], nil)
        default:
            if let rule = segment(of: path, after: "/v1/alert-rules/") { return (.alertRule, ["PUT"], rule) }
            if path.hasPrefix("/v1/budgets/"), path.hasSuffix("/status"),
               let id = segment(of: String(path.dropLast("/status".count)), after: "/v1/budgets/") {
                return (.budgetStatus, ["GET", "HEAD"], id)
            }
            if let id = segment(of: path, after: "/v1/budgets/") { return (.budget, ["PUT", "DELETE"], id) }
            return nil
        }
    }

    /// One percent-decoded path segment after `prefix`; nil when empty or containing a slash.
    private static func segment(of path: String, after prefix: String) -> String? {
        guard path.hasPrefix(prefix) else { return nil }
        let rest = String(path.dropFirst(prefix.count))
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        return rest.removingPercentEncoding ?? rest
    }

    func alertsRoute(_ route: Route, parameter: String?, request: HTTPRequest) throws -> HTTPResponse {
        guard let deps = self.deps.alerts else { throw APIError.notFound("no route for \(request.path.prefix(200))") }
        switch (route, request.method) {
        case (.alertRules, _): return try listRules(request, deps)
        case (.alertRule, _): return try putRule(request, rule: parameter ?? "", deps)
        case (.budgets, _): return try listBudgets(request, deps)
        case (.budget, "DELETE"): return try deleteBudget(request, id: parameter ?? "", deps)
        case (.budget, _): return try putBudget(request, id: parameter ?? "", deps)
        case (.budgetStatus, _): return try budgetStatus(request, id: parameter ?? "", deps)
        case (.alerts, _): return try listAlerts(request, deps)
        case (.alertDestinations, "PUT"): return try putDestinations(request, deps)
        case (.alertDestinations, _): return try getDestinations(request, deps)
        case (.alertDeliveries, _): return try listDeliveries(request, deps)
        default: return try evaluateNow(request, deps)
        }
    }

    /// Changing alert configuration (rules, budgets, destinations) needs the admin token and
    /// `?project=NAME`: read keys are read-only, and ingest keys sit inside applications.
    /// A valid API key gets 403 (it is known, but not allowed), anything else 401.
    func configurationProject(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> ProjectID {
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: ["project"])
        if let admin = deps.admin, let presented = Authenticator.bearerToken(request),
           Authenticator.constantTimeEqual(presented, admin.token) {
            guard let name = try params.string("project", maxBytes: 128) else {
                throw APIError.badRequest("project is required: the name of the project to configure", field: "project")
            }
            guard let project = try alerts.alerts.project(named: name) else { throw APIError.notFound("no project named \(name.prefix(128))") }
            return project
        }
        if Authenticator.bearerToken(request).map(APIKey.isWellFormed) == true {
            do { _ = try deps.authenticator.authenticate(request, requiring: .read) } catch let error as APIError where error.status == 403 {}
            throw APIError.forbidden("changing alert configuration needs the admin token (TOKENMETER_ADMIN_TOKEN) and ?project=NAME; API keys cannot")
        }
        // Counted against the address like any failed authentication.
        if let admin = deps.admin { try deps.authenticator.authenticateAdmin(request, token: admin.token) }
        throw APIError.unauthorized
    }

    // MARK: rules

    private func listRules(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        try QueryParameters(request: request).rejectUnknown(allowed: [])
        let overrides = try alerts.alerts.ruleOverrides(project: principal.project)
        return json(200) { w in
            w.key("rules"); w.beginArray()
            for rule in Rule.allCases { TokenmeterAPI.writeRule(rule, override: overrides[rule], into: &w) }
            w.endArray()
        }
    }

    private func putRule(_ request: HTTPRequest, rule name: String, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let project = try configurationProject(request, alerts)
        guard let rule = Rule(rawValue: name), let defaults = RuleDefaults.all[rule] else {
            throw APIError.notFound("no rule named \(name.prefix(64)); rules: \(Rule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let body = try AlertBody(request, known: ["enabled", "threshold", "min_calls", "pending_seconds"])
        var override = RuleOverride()
        override.enabled = try body.bool("enabled").flatMap { $0 ? nil : false }
        if let threshold = try body.number("threshold") {
            guard defaults.thresholdRange.contains(threshold) else {
                throw APIError.badRequest("threshold of \(rule.rawValue) is \(defaults.thresholdMeaning), in \(defaults.thresholdRange.lowerBound)...\(defaults.thresholdRange.upperBound)", field: "threshold")
            }
            override.threshold = threshold
        }
        if let calls = try body.number("min_calls") {
            guard defaults.minimumCalls != nil else { throw APIError.badRequest("\(rule.rawValue) has no minimum volume", field: "min_calls") }
            guard calls == calls.rounded(), (1...1_000_000).contains(calls) else {
                throw APIError.badRequest("min_calls must be an integer in 1...1000000", field: "min_calls")
            }
            override.minimumCalls = Int(calls)
        }
        if let seconds = try body.number("pending_seconds") {
            guard defaults.pendingSeconds != nil else { throw APIError.badRequest("\(rule.rawValue) fires at once; it has no pending period", field: "pending_seconds") }
            guard (0...86_400).contains(seconds) else { throw APIError.badRequest("pending_seconds must be in 0...86400", field: "pending_seconds") }
            override.pendingSeconds = seconds
        }
        try alerts.alerts.setRuleOverride(override, rule: rule, project: project)
        return json(200) { w in
            w.key("rule")
            TokenmeterAPI.writeRule(rule, override: override.isEmpty ? nil : override, into: &w)
        }
    }

    static func writeRule(_ rule: Rule, override: RuleOverride?, into w: inout JSONWriter) {
        guard let defaults = RuleDefaults.all[rule] else { return }
        w.beginObject()
        w.key("rule"); w.string(rule.rawValue)
        w.key("enabled"); w.bool(override?.enabled ?? true)
        w.key("threshold"); w.double(override?.threshold ?? defaults.threshold)
        w.key("threshold_meaning"); w.string(defaults.thresholdMeaning)
        w.key("min_calls"); if let v = override?.minimumCalls ?? defaults.minimumCalls { w.int(v) } else { w.null() }
        w.key("pending_seconds"); if let v = override?.pendingSeconds ?? defaults.pendingSeconds { w.double(v) } else { w.null() }
        w.key("customized"); w.bool(override.map { !$0.isEmpty } ?? false)
        w.key("description"); w.string(defaults.description)
        w.key("defaults"); w.beginObject()
        w.key("threshold"); w.double(defaults.threshold)
        w.key("min_calls"); if let v = defaults.minimumCalls { w.int(v) } else { w.null() }
        w.key("pending_seconds"); if let v = defaults.pendingSeconds { w.double(v) } else { w.null() }
        w.endObject()
        w.endObject()
    }

    // MARK: incidents

    private func listAlerts(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: ["state", "from", "to", "limit"])
        var states: Set<AlertPhase> = [.pending, .firing, .resolved]
        if let text = try params.string("state", maxBytes: 64) {
            states = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let phase = AlertPhase(rawValue: String(part)) else {
                    throw APIError.badRequest("state takes pending, firing or resolved (comma-separated)", field: "state")
                }
                states.insert(phase)
            }
        }
        let now = deps.clock()
        let from = try params.time("from", now: now), to = try params.time("to", now: now)
        if let from, let to, from >= to { throw APIError.badRequest("from must be earlier than to", field: "from") }
        let range = (from != nil || to != nil) ? TimeRange(from: from ?? .distantPast, to: to ?? .distantFuture) : nil
        let limit = try params.integer("limit", default: 100, in: 1...1000)
        let rows = try alerts.alerts.alerts(AlertListQuery(project: principal.project, states: states, range: range, limit: limit))
        return json(200) { w in
            w.key("alerts"); w.beginArray()
            for row in rows { TokenmeterAPI.writeAlert(row, dashboardBaseURL: alerts.dashboardBaseURL, into: &w) }
            w.endArray()
        }
    }

    static func writeAlert(_ row: StoredAlert, dashboardBaseURL: String?, into w: inout JSONWriter) {
        let alert = row.alert, finding = alert.finding
        w.beginObject()
        w.key("id"); w.string(String(row.id))
        w.key("fingerprint"); w.string(alert.fingerprint)
        w.key("rule"); w.string(alert.key.rule.rawValue)
        w.key("state"); w.string(alert.phase.rawValue)
        w.key("severity"); w.string(finding.severity.description)
        w.key("labels"); w.beginObject()
        for (name, value) in alert.key.scope.sortedLabels { w.key(name); w.string(value) }
        w.endObject()
        w.key("value"); w.double(finding.value)
        w.key("baseline"); if let b = finding.baseline { w.double(b) } else { w.null() }
        w.key("threshold"); w.double(finding.threshold)
        w.key("unit"); w.string(finding.unit.rawValue)
        w.key("summary"); w.string(finding.summary)
        w.key("started_at"); w.string(Timestamp.rfc3339(alert.firingSince ?? alert.pendingSince))
        w.key("resolved_at"); if let r = alert.resolvedAt { w.string(Timestamp.rfc3339(r)) } else { w.null() }
        w.key("inhibited_by"); if let i = alert.inhibitedBy { w.string(i) } else { w.null() }
        w.key("links"); w.beginObject()
        w.key("dashboard")
        if var base = dashboardBaseURL, !base.isEmpty {
            while base.hasSuffix("/") { base.removeLast() }
            w.string("\(base)/alerts/\(alert.fingerprint)?project=\(alert.key.scope.project)")
        } else { w.null() }
        w.endObject()
        w.endObject()
    }

    // MARK: destinations and dead letters

    private func getDestinations(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        try QueryParameters(request: request).rejectUnknown(allowed: [])
        return TokenmeterAPI.destinationsResponse(try alerts.destinations.destinations(project: principal.project))
    }

    private func putDestinations(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let project = try configurationProject(request, alerts)
        let body = try AlertBody(request, known: ["webhook_url", "slack_url", "hmac_secret"])
        do {
            try alerts.destinations.setDestinations(webhookURL: try body.string("webhook_url"), slackURL: try body.string("slack_url"),
                                                    hmacSecret: try body.string("hmac_secret"), project: project)
        } catch let invalid as InvalidAlertSetting {
            throw APIError.badRequest(invalid.description, field: invalid.field)
        }
        return TokenmeterAPI.destinationsResponse(try alerts.destinations.destinations(project: project))
    }

    /// URLs shown as origin + the last 4 characters (Slack webhook URLs are credentials, and
    /// webhook URLs often carry tokens); the HMAC secret never, only whether one is set.
    static func destinationsResponse(_ settings: DestinationSettings?) -> HTTPResponse {
        json(200) { w in
            w.key("webhook_url"); if let url = settings?.webhookURL { w.string(maskURL(url)) } else { w.null() }
            w.key("slack_url"); if let url = settings?.slackURL { w.string(maskURL(url)) } else { w.null() }
            w.key("hmac_secret"); if settings?.hasHMACSecret == true { w.string("********") } else { w.null() }
            w.key("hmac_secret_set"); w.bool(settings?.hasHMACSecret ?? false)
            w.key("updated_at"); if let at = settings?.updatedAt { w.string(Timestamp.rfc3339(at)) } else { w.null() }
        }
    }

    static func maskURL(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "…" }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        let tail = rest.dropFirst(authority.count)
        let origin = url[..<schemeEnd.upperBound] + host
        return tail.count > 8 ? origin + "/…" + tail.suffix(4) : origin + (tail.isEmpty ? "" : "/…")
    }

    private func listDeliveries(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: ["state", "limit"])
        if let state = try params.string("state", maxBytes: 16), state != "dead" {
            throw APIError.badRequest("state must be dead (only dead letters are listed)", field: "state")
        }
        let limit = try params.integer("limit", default: 100, in: 1...1000)
        let letters = try alerts.destinations.deadLetters(project: principal.project, limit: limit)
        return json(200) { w in
            w.key("deliveries"); w.beginArray()
            for letter in letters {
                w.beginObject()
                w.key("id"); w.string(letter.id)
                w.key("state"); w.string("dead")
                w.key("fingerprint"); w.string(letter.fingerprint)
                w.key("kind"); w.string(letter.kind)
                w.key("destination"); w.string(letter.destination)
                w.key("attempts"); w.int(letter.attempts)
                w.key("last_status"); if let s = letter.lastStatus { w.int(s) } else { w.null() }
                w.key("last_error"); if let e = letter.lastError { w.string(e) } else { w.null() }
                w.key("created_at"); w.string(Timestamp.rfc3339(letter.createdAt))
                w.key("dead_at"); w.string(Timestamp.rfc3339(letter.deadAt))
                w.endObject()
            }
            w.endArray()
        }
    }

    /// `POST /v1/admin/evaluate?now=`: one round now or at a given instant (tests, replays).
    private func evaluateNow(_ request: HTTPRequest, _ alerts: AlertDependencies) throws -> HTTPResponse {
        guard let admin = deps.admin, let evaluate = alerts.evaluate else { throw APIError.notFound("no route for \(request.path.prefix(200))") }
        try deps.authenticator.authenticateAdmin(request, token: admin.token)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: ["now"])
        let now = try params.time("now", now: deps.clock()) ?? deps.clock()
        let summary = try evaluate(now)
        return json(200) { w in
            w.key("ran"); w.bool(summary.ran)
            w.key("evaluated_at"); w.string(Timestamp.rfc3339(now))
            w.key("watermark"); w.string(Timestamp.rfc3339(summary.watermark))
            w.key("projects"); w.int(summary.projects)
            w.key("evaluations"); w.int(summary.evaluations)
            w.key("notifications"); w.int(summary.notifications)
        }
    }
}

/// A JSON object body of the alert routes: unknown fields refused, every failure a 400 naming the field.
struct AlertBody {
    let object: JSONObject

    init(_ request: HTTPRequest, known: Set<String>) throws {
        let value: JSONValue
        do { value = try JSONParser.parse(request.body) } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)", field: "body", code: "invalid_json")
        }
        guard case .object(let object) = value else { throw APIError.badRequest("the body must be a JSON object", field: "body") }
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw APIError.badRequest("unknown field \"\(unknown.prefix(64))\"", field: String(unknown.prefix(64)))
        }
        self.object = object
    }

    func bool(_ field: String) throws -> Bool? {
        guard let value = object[field], value != .null else { return nil }
        guard let flag = value.boolValue else { throw APIError.badRequest("\(field) must be true or false", field: field) }
        return flag
    }

    func number(_ field: String) throws -> Double? {
        guard let value = object[field], value != .null else { return nil }
        guard let number = value.doubleValue, number.isFinite else { throw APIError.badRequest("\(field) must be a number", field: field) }
        return number
    }

    func string(_ field: String, maxBytes: Int = 4096) throws -> String? {
        guard let value = object[field], value != .null else { return nil }
        guard let text = value.stringValue else { throw APIError.badRequest("\(field) must be a string", field: field) }
        guard text.utf8.count <= maxBytes else { throw APIError.badRequest("\(field) is longer than \(maxBytes) bytes", field: field) }
        return text
    }

    func objectValue(_ field: String) throws -> JSONObject? {
        guard let value = object[field], value != .null else { return nil }
        guard case .object(let inner) = value else { throw APIError.badRequest("\(field) must be an object", field: field) }
        return inner
    }
}
