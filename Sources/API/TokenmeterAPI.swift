import Foundation
import HTTP
import Ingest
import JSON
import OTLP
import TokenmeterCore

/// Everything the routes need, injected by the composition root.
public struct APIDependencies: Sendable {
    public var decoder: EventDecoder
    public var committer: GroupCommitter
    public var usage: any UsageReader
    public var authenticator: Authenticator
    public var priceBooks: ProjectPriceBooks
    public var priceOverrides: any PriceOverrideRepository
    public var executor: BlockingExecutor
    public var metrics: Metrics
    public var logger: Logger
    public var version: String
    /// Blocking readiness probe (can the database be reached right now).
    public var isReady: @Sendable () -> Bool
    public var clock: @Sendable () -> Date
    /// Per-project text storage and redaction; nil applies `TextPolicy.standard` to every project.
    public var textPolicies: ProjectTextPolicies?
    /// The admin API; nil (no admin token configured) answers its routes 404.
    public var admin: AdminDependencies?
    /// The OTLP/HTTP receiver (`/v1/traces`, `/v1/logs`); nil answers them 404.
    public var otlp: OTLPDependencies?
    /// The dashboard files served at `/` and `/ui/…`; nil serves none (`/` answers the JSON route list).
    public var dashboards: DashboardAssets?
    /// Alert rules, budgets, incidents and destinations; nil answers their routes 404.
    public var alerts: AlertDependencies?

    public init(decoder: EventDecoder, committer: GroupCommitter, usage: any UsageReader, authenticator: Authenticator,
                priceBooks: ProjectPriceBooks, priceOverrides: any PriceOverrideRepository, executor: BlockingExecutor,
                metrics: Metrics, logger: Logger, version: String, isReady: @escaping @Sendable () -> Bool,
                clock: @escaping @Sendable () -> Date = { Date() }, textPolicies: ProjectTextPolicies? = nil) {
        self.textPolicies = textPolicies
        self.decoder = decoder
        self.committer = committer
        self.usage = usage
        self.authenticator = authenticator
        self.priceBooks = priceBooks
        self.priceOverrides = priceOverrides
        self.executor = executor
        self.metrics = metrics
        self.logger = logger
        self.version = version
        self.isReady = isReady
        self.clock = clock
    }
}

/// The HTTP face of Tokenmeter: routes requests to handlers. Cheap routes answer on the event loop;
/// anything that may block runs on the blocking executor.
public final class TokenmeterAPI: HTTPResponder {
    let deps: APIDependencies

    public init(_ dependencies: APIDependencies) {
        self.deps = dependencies
    }

    enum Route: String, CaseIterable {
        case root, healthz, readyz, metrics, version, events, usage, requestTree, prices, price
        case latency, top, cache, requests, session, user
        case adminKeys = "admin_keys", adminKeyRotation = "admin_key_rotation", adminKey = "admin_key", adminProjectSettings = "admin_project_settings"
        case otlpTraces = "otlp_traces", otlpLogs = "otlp_logs"
        case dashboardAsset = "dashboard_asset"
        case alertRules = "alert_rules", alertRule = "alert_rule", budgets, budget, budgetStatus = "budget_status", alerts
        case alertDestinations = "alert_destinations", alertDeliveries = "alert_deliveries", adminEvaluate = "admin_evaluate"
    }

    /// Matches a path to a route and the methods it allows.
    static func route(for path: String) -> (Route, allowed: [String], parameter: String?)? {
        switch path {
        case "/": return (.root, ["GET", "HEAD"], nil)
        case "/healthz": return (.healthz, ["GET", "HEAD"], nil)
        case "/readyz": return (.readyz, ["GET", "HEAD"], nil)
        case "/metrics": return (.metrics, ["GET", "HEAD"], nil)
        case "/version": return (.version, ["GET", "HEAD"], nil)
        case "/v1/events": return (.events, ["POST"], nil)
        case "/v1/usage": return (.usage, ["GET", "HEAD"], nil)
        case "/v1/prices": return (.prices, ["GET", "HEAD"], nil)
        case "/v1/latency": return (.latency, ["GET", "HEAD"], nil)
        case "/v1/top": return (.top, ["GET", "HEAD"], nil)
        case "/v1/cache": return (.cache, ["GET", "HEAD"], nil)
        case "/v1/requests": return (.requests, ["GET", "HEAD"], nil)
        // The Langfuse SDK appends this fixed path to its base URL; the body is plain OTLP.
        case "/v1/traces", "/api/public/otel/v1/traces": return (.otlpTraces, ["POST"], nil)
        case "/v1/logs": return (.otlpLogs, ["POST"], nil)
        default:
            if let id = parameter(of: path, after: "/v1/requests/") { return (.requestTree, ["GET", "HEAD"], id) }
            if let model = parameter(of: path, after: "/v1/prices/") { return (.price, ["PUT"], model) }
            if let id = parameter(of: path, after: "/v1/sessions/") { return (.session, ["GET", "HEAD"], id) }
            if let id = parameter(of: path, after: "/v1/users/") { return (.user, ["GET", "HEAD"], id) }
            if let file = parameter(of: path, after: "/ui/") { return (.dashboardAsset, ["GET", "HEAD"], file) }
            return adminRoute(for: path) ?? alertRoute(for: path)
        }
    }

    private static func parameter(of path: String, after prefix: String) -> String? {
        guard path.hasPrefix(prefix) else { return nil }
        let rest = String(path.dropFirst(prefix.count))
        return rest.isEmpty ? nil : rest
    }

    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let started = ContinuousClock.now
        guard let (route, allowed, parameter) = TokenmeterAPI.route(for: request.path) else {
            finish(APIError.notFound("no route for \(request.path.prefix(200))").response, route: "unknown", started: started, respond: respond)
            return
        }
        guard allowed.contains(request.method) else {
            var response = APIError(status: 405, code: "method_not_allowed", message: "\(request.method.prefix(16)) is not allowed here; use \(allowed.joined(separator: ", "))").response
            response.headers.add(name: "Allow", value: allowed.joined(separator: ", "))
            finish(response, route: route.rawValue, started: started, respond: respond)
            return
        }
        let done: @Sendable (HTTPResponse) -> Void = { [self] response in
            var response = response
            if request.method == "HEAD" { response.body = [] }
            finish(response, route: route.rawValue, started: started, respond: respond)
        }
        switch route {
        case .root: done(rootWantsJSON(request) ? rootResponse() : dashboardResponse(request, name: DashboardAssets.indexName))
        case .dashboardAsset: done(dashboardResponse(request, name: parameter ?? ""))
        case .healthz: done(json(200) { $0.key("status"); $0.string("ok") })
        case .version: done(json(200) { [deps] in $0.key("version"); $0.string(deps.version) })
        case .metrics:
            var response = HTTPResponse(status: 200, headers: HTTPHeaders(), body: Array(deps.metrics.render().utf8))
            response.headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            done(response)
        default:
            let accepted = deps.executor.submit { [self] in
                do {
                    try self.handleBlocking(route, parameter: parameter, request: request, respond: done)
                } catch {
                    done(self.errorResponse(error, route: route))
                }
            }
            if !accepted { done(APIError.overloaded().response) }
        }
    }

    private func handleBlocking(_ route: Route, parameter: String?, request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) throws {
        switch route {
        case .readyz:
            respond(deps.isReady() ? json(200) { $0.key("status"); $0.string("ready") }
                                   : APIError.unavailable("the database is not reachable", retryAfter: 5).response)
        case .events: try ingest(request, respond: respond)
        case .usage: respond(try usage(request))
        case .requestTree: respond(try requestTree(request, requestID: parameter ?? ""))
        case .prices: respond(try prices(request))
        case .price: respond(try putPrice(request, model: parameter ?? ""))
        case .latency: respond(try latency(request))
        case .top: respond(try top(request))
        case .cache: respond(try cache(request))
        case .requests: respond(try recentRequests(request))
        case .session: respond(try entity(request, dimension: nil, id: parameter ?? ""))
        case .user: respond(try entity(request, dimension: .userID, id: parameter ?? ""))
        case .adminKeys, .adminKeyRotation, .adminKey, .adminProjectSettings: respond(try admin(route, parameter: parameter, request: request))
        case .otlpTraces: otlpExport(.traces, request, respond: respond)
        case .otlpLogs: otlpExport(.logs, request, respond: respond)
        case .alertRules, .alertRule, .budgets, .budget, .budgetStatus, .alerts, .alertDestinations, .alertDeliveries, .adminEvaluate:
            respond(try alertsRoute(route, parameter: parameter, request: request))
        case .root, .healthz, .metrics, .version, .dashboardAsset: respond(APIError.notFound("no route").response)
        }
    }

    func errorResponse(_ error: any Error, route: Route) -> HTTPResponse {
        switch error {
        case let api as APIError:
            return api.response
        case StorageError.unavailable(let reason):
            deps.logger.warning("storage unavailable", ["route": route.rawValue, "error": reason])
            return APIError.unavailable("the database is unavailable; retry shortly").response
        default:
            deps.logger.error("request failed", ["route": route.rawValue, "error": String(describing: error)])
            return APIError(status: 500, code: "internal", message: "internal error").response
        }
    }

    private func finish(_ response: HTTPResponse, route: String, started: ContinuousClock.Instant, respond: @Sendable (HTTPResponse) -> Void) {
        let seconds = (ContinuousClock.now - started).seconds
        deps.metrics.increment("tokenmeter_http_requests_total", labels: [("route", route), ("status", String(response.status))], help: "HTTP requests answered.")
        deps.metrics.observe("tokenmeter_http_request_seconds", seconds, labels: [("route", route)], help: "Time to answer, by route.")
        respond(response)
    }

    private func rootResponse() -> HTTPResponse {
        json(200) { [deps] w in
            w.key("name"); w.string("tokenmeter")
            w.key("version"); w.string(deps.version)
            w.key("endpoints"); w.beginArray()
            for path in ["POST /v1/events", "POST /v1/traces", "POST /api/public/otel/v1/traces", "POST /v1/logs", "GET /v1/usage", "GET /v1/latency", "GET /v1/cache", "GET /v1/top",
                         "GET /v1/requests", "GET /v1/requests/{request_id}", "GET /v1/sessions/{session_id}", "GET /v1/users/{user_id}",
                         "GET /v1/prices", "PUT /v1/prices/{model}", "GET /healthz", "GET /readyz", "GET /metrics"] { w.string(path) }
            if deps.alerts != nil {
                for path in ["GET /v1/alerts", "GET /v1/alert-rules", "PUT /v1/alert-rules/{rule}", "GET /v1/budgets", "PUT, DELETE /v1/budgets/{id}",
                             "GET /v1/budgets/{id}/status", "GET, PUT /v1/alert-destinations", "GET /v1/alert-deliveries"] { w.string(path) }
            }
            w.endArray()
            w.key("openapi"); w.string("openapi.yaml in the repository")
            w.key("admin"); w.beginArray()
            if deps.admin != nil {
                for path in ["GET, POST /v1/admin/keys", "POST /v1/admin/keys/rotate", "DELETE /v1/admin/keys/{id}",
                             "GET, PUT /v1/admin/projects/{name}/settings"] { w.string(path) }
                if deps.alerts?.evaluate != nil { w.string("POST /v1/admin/evaluate") }
            }
            w.endArray()
        }
    }
}

/// Builds a JSON response with the streaming writer.
func json(_ status: Int, _ build: (inout JSONWriter) -> Void) -> HTTPResponse {
    var writer = JSONWriter()
    writer.beginObject()
    build(&writer)
    writer.endObject()
    return HTTPResponse.json(status: status, body: writer.bytes)
}
