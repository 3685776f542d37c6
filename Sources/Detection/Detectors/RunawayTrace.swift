import Foundation
import TokenmeterCore

public struct RunawayTraceParameters: Sendable, Hashable {
    /// Hard cap on steps: 2× LangGraph's default recursion limit (25), 5× the OpenAI Agents
    /// SDK's default max_turns (10). Legitimate agents rarely get here; loops always do.
    public var stepCap = 50
    /// Also: steps ≥ max(`minimumStepsVsNorm`, `normStepsMultiple` × the feature's p99).
    public var normStepsMultiple = 3.0
    public var minimumStepsVsNorm = 20
    /// The same tool with the same input this many times is a loop, whatever the step count.
    public var repeatedToolCalls = 5
    /// Cost ≥ max(`minimumCost`, `normCostMultiple` × the feature's p95 trace cost).
    public var normCostMultiple = 10.0
    public var minimumCost = Money(picodollars: 1_000_000_000_000)   // $1
    /// Still going after this long and adding ≥ `growingStepsPerMinute` in the last minute.
    public var growingAfter: TimeInterval = 15 * 60
    public var growingStepsPerMinute = 10
    /// No step for this long: the trace is over, the alert clears.
    public var idleAfter: TimeInterval = 5 * 60
    /// Severity critical from this many steps or this multiple of the cost limit.
    public var criticalStepMultiple = 4

    public init() {}
}

/// Runaway agent loop, per trace, evaluated at ingest. Fires at once (the point is to stop
/// the loop before step 60); once breached, a trace stays breaching until it goes idle or the
/// app reports terminating it, so one trace is one incident, keyed by its trace id.
public enum RunawayTrace {
    public static func evaluate(_ trace: TraceView, norm: TraceNorm = .init(),
                                parameters p: RunawayTraceParameters = .init(), now: Date) -> Evaluation {
        let key = AlertKey(rule: .runawayTrace, scope: trace.scope.adding("trace_id", trace.traceID),
                           instance: trace.traceID)
        guard let first = trace.firstSeen, let last = trace.lastSeen else {
            return Evaluation(key: key, condition: .noData)
        }
        if trace.terminatedEarly || now.timeIntervalSince(last) >= p.idleAfter {
            return Evaluation(key: key, condition: .clear)
        }
        let steps = trace.steps.count
        let cost = trace.cost
        var reasons: [String] = []
        var threshold = Double(p.stepCap)

        let normSteps = norm.p99Steps.map { max(Double(p.minimumStepsVsNorm), p.normStepsMultiple * $0) }
        threshold = min(threshold, normSteps ?? threshold)
        if steps >= p.stepCap { reasons.append("\(steps) steps (cap \(p.stepCap))") }
        else if let normSteps, Double(steps) >= normSteps {
            reasons.append("\(steps) steps (\(Format.number(p.normStepsMultiple))× the feature's p99)")
        }
        if let repeated = trace.mostRepeatedToolCall, repeated.count >= p.repeatedToolCalls {
            reasons.append("\(repeated.tool) called \(repeated.count)× with the same input")
        }
        let costLimit = max(p.minimumCost.usd, p.normCostMultiple * (norm.p95Cost?.usd ?? 0))
        if cost.usd >= costLimit { reasons.append("cost \(Format.usd(cost.usd)) (limit \(Format.usd(costLimit)))") }
        let recentSteps = trace.steps.filter { now.timeIntervalSince($0.at) < 60 }.count
        if now.timeIntervalSince(first) >= p.growingAfter && recentSteps >= p.growingStepsPerMinute {
            reasons.append("still adding \(recentSteps) steps/min after \(Int(now.timeIntervalSince(first) / 60)) min")
        }
        guard !reasons.isEmpty else { return Evaluation(key: key, condition: .clear) }

        let critical = steps >= p.stepCap * p.criticalStepMultiple || cost.usd >= costLimit * Double(p.criticalStepMultiple)
        let finding = Finding(
            key: key, severity: critical ? .critical : .warning, unit: .count,
            value: Double(steps), baseline: norm.p99Steps, threshold: threshold,
            summary: "Trace \(trace.traceID) looks runaway: " + reasons.joined(separator: "; ")
                + " in \(trace.scope)",
            annotations: ["steps": String(steps), "cost_usd": cost.usdString, "trace_id": trace.traceID,
                          "first_seen": Format.date(first), "last_seen": Format.date(last)],
            pendingFor: 0)
        return Evaluation(key: key, condition: .breaching(finding))
    }
}
