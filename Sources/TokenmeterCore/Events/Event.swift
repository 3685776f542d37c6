import Foundation

/// One validated, normalized, priced event: an LLM call or one step of a multi-step run.
/// This is what the write path stores; every field has already passed validation.
public struct Event: Sendable, Hashable {
    public var eventID: UUID
    public var timestamp: Date
    public var requestID: String
    public var parentRequestID: String?
    public var traceID: String?
    public var sessionID: String?
    public var userID: String?
    public var feature: String?
    public var environment: String?
    public var metadata: String?          // serialized JSON object, nil when empty
    public var tags: [String]

    public var provider: String?
    public var model: String?
    /// Canonical model name the price table resolved `model` to (nil when unpriced or priced by the client).
    public var pricedModel: String?
    public var usage: TokenUsage
    public var cost: Money?               // nil = unpriced
    public var costSource: CostSource?
    /// What the cached input tokens saved against the uncached input price (nil when unpriced).
    public var cacheSavings: Money?
    public var latencyMs: Double?
    public var ttftMs: Double?
    public var status: EventStatus
    public var errorType: String?
    public var httpStatus: Int?
    public var retries: Int
    public var fallbackTriggered: Bool
    public var cacheHit: Bool

    public var stepIndex: Int?
    public var stepType: String?
    public var toolName: String?
    public var totalCost: Money?
    public var terminatedEarly: Bool?
    public var loopCount: Int?

    public var text: EventText?

    public init(eventID: UUID, timestamp: Date, requestID: String) {
        self.eventID = eventID
        self.timestamp = timestamp
        self.requestID = requestID
        self.tags = []
        self.usage = TokenUsage(input: 0, output: 0, cachedInput: 0, cacheWrite: 0)
        self.status = .ok
        self.retries = 0
        self.fallbackTriggered = false
        self.cacheHit = false
    }
}

public enum EventStatus: String, Sendable, Hashable, CaseIterable {
    case ok
    case error
}

public enum CostSource: String, Sendable, Hashable {
    /// The client sent `cost_usd`; it wins over the price table.
    case client
    /// Computed from the price table (shipped or a project override).
    case priceTable = "price_table"
}

/// Free text that belongs to an event. Kept apart from the analytics row (it is 5× the size).
public struct EventText: Sendable, Hashable {
    public var prompt: String?
    public var response: String?
    public var toolInput: String?
    public var toolOutput: String?
    public var intermediateOutput: String?
    /// True when any field was cut at the configured cap.
    public var truncated: Bool

    public init(prompt: String? = nil, response: String? = nil, toolInput: String? = nil,
                toolOutput: String? = nil, intermediateOutput: String? = nil, truncated: Bool = false) {
        self.prompt = prompt
        self.response = response
        self.toolInput = toolInput
        self.toolOutput = toolOutput
        self.intermediateOutput = intermediateOutput
        self.truncated = truncated
    }

    public var isEmpty: Bool {
        prompt == nil && response == nil && toolInput == nil && toolOutput == nil && intermediateOutput == nil
    }
}
