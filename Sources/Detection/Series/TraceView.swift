import Foundation
import TokenmeterCore

/// One step of an agent trace: an LLM call or a tool call.
public struct TraceStep: Sendable, Hashable {
    public var at: Date
    /// The tool called, nil for an LLM call.
    public var toolName: String?
    /// A hash of the tool's input (any stable hash ingest computes), nil for an LLM call.
    public var inputHash: String?
    public var cost: Money

    public init(at: Date, toolName: String? = nil, inputHash: String? = nil, cost: Money = .zero) {
        self.at = at
        self.toolName = toolName
        self.inputHash = inputHash
        self.cost = cost
    }
}

/// A trace so far, as ingest has seen it.
public struct TraceView: Sendable, Hashable {
    /// Project and `feature` (and whatever else scopes the trace's norms); no `trace_id`.
    public var scope: Scope
    public var traceID: String
    public var steps: [TraceStep]
    /// The app reported it stopped the agent itself (`terminated_early`).
    public var terminatedEarly: Bool

    public init(scope: Scope, traceID: String, steps: [TraceStep], terminatedEarly: Bool = false) {
        self.scope = scope
        self.traceID = traceID
        self.steps = steps
        self.terminatedEarly = terminatedEarly
    }

    public var firstSeen: Date? { steps.map(\.at).min() }
    public var lastSeen: Date? { steps.map(\.at).max() }
    public var cost: Money { steps.reduce(.zero) { $0 + $1.cost } }

    /// The most repeated (tool, input) pair and its count; nil when no tool was called.
    public var mostRepeatedToolCall: (tool: String, count: Int)? {
        var counts: [String: (tool: String, count: Int)] = [:]
        for step in steps {
            guard let tool = step.toolName else { continue }
            let pair = tool + "\u{1F}" + (step.inputHash ?? "")
            counts[pair, default: (tool, 0)].count += 1
        }
        return counts.values.max { ($0.count, $1.tool) < ($1.count, $0.tool) }
    }
}

/// What is normal for traces of one feature over the past week; nil fields are unknown.
public struct TraceNorm: Sendable, Hashable {
    public var p99Steps: Double?
    public var p95Cost: Money?

    public init(p99Steps: Double? = nil, p95Cost: Money? = nil) {
        self.p99Steps = p99Steps
        self.p95Cost = p95Cost
    }
}
