import Foundation
import TokenmeterCore

/// One priced request (an LLM call or a whole request tree), as ingest sees it.
public struct RequestCost: Sendable, Hashable {
    public var scope: Scope
    public var requestID: String
    public var cost: Money
    public var at: Date

    public init(scope: Scope, requestID: String, cost: Money, at: Date) {
        self.scope = scope
        self.requestID = requestID
        self.cost = cost
        self.at = at
    }
}

public struct ExpensiveRequestParameters: Sendable, Hashable {
    /// A single request costing more than this is an alert (the default $0.50).
    public var threshold = Money(picodollars: 500_000_000_000)
    /// Requests considered: those in the last `window` seconds before `now`. Longer than
    /// `groupWait`, so a request stays breaching for the whole wait.
    public var window: TimeInterval = 600
    /// How long the alert waits (pending) before it is told: big requests usually come with a
    /// spend spike of the same project, which then inhibits this alert (one incident, one
    /// message; bench/anomaly saw both told for every ×5 and ×10 spike). 5 min covers the
    /// spike's own delay (median 5.6 min from onset, the first request rarely at the onset).
    public var groupWait: TimeInterval = 300
    public var criticalMultiple: Int64 = 10

    public init() {}
}

/// Requests above a cost cap, **one alert per scope**, not per request: LiteLLM's "budget
/// alert sent on each request" (#3738) is the spam this avoids. The finding names the worst
/// request and counts the others; the scope stays breaching while any request in the window
/// is over the cap. `scopes` are the scopes to answer for even without recent requests.
public enum ExpensiveRequest {
    public static func evaluate(_ requests: [RequestCost], scopes: [Scope],
                                parameters p: ExpensiveRequestParameters = .init(), now: Date) -> [Evaluation] {
        let recent = requests.filter { $0.at <= now && now.timeIntervalSince($0.at) < p.window }
        let overByScope = Dictionary(grouping: recent.filter { $0.cost > p.threshold }, by: \.scope)
        // Every scope with a recent request gets an answer: a cheap request is evidence of clear.
        let allScopes = Set(scopes).union(recent.map(\.scope))
        return allScopes.sorted { $0.description < $1.description }.map { scope in
            let key = AlertKey(rule: .expensiveRequest, scope: scope)
            guard let over = overByScope[scope], let worst = over.max(by: { $0.cost < $1.cost }) else {
                return Evaluation(key: key, condition: .clear)
            }
            let critical = worst.cost.picodollars >= p.threshold.picodollars * p.criticalMultiple
            let finding = Finding(
                key: key, severity: critical ? .critical : .warning, unit: .usd,
                value: worst.cost.usd, baseline: nil, threshold: p.threshold.usd,
                summary: "Request \(worst.requestID) cost \(Format.usd(worst.cost.usd)) (cap \(Format.usd(p.threshold.usd)))"
                    + (over.count > 1 ? ", \(over.count) requests over the cap in \(Int(p.window / 60)) min" : "")
                    + " in \(scope)",
                annotations: ["request_id": worst.requestID, "requests_over_cap": String(over.count)],
                pendingFor: p.groupWait)
            return Evaluation(key: key, condition: .breaching(finding))
        }
    }
}
