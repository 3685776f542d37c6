import Foundation
import JSON
import TokenmeterCore

/// Turns a native ingest body into validated events. Each event is judged on its own: a bad event is
/// rejected with the field that made it bad, and never spoils the good events beside it.
public struct EventDecoder: Sendable {
    public var limits: IngestLimits

    public init(limits: IngestLimits = IngestLimits()) {
        self.limits = limits
    }

    public struct Batch: Sendable {
        public var events: [Event]
        /// Index in the request of each accepted event (parallel to `events`).
        public var indexes: [Int]
        public var rejections: [Rejection]
        public var total: Int { events.count + rejections.count }
    }

    /// Decodes a whole body: one event object, an array, `{"events": [...]}`, or NDJSON
    /// (chosen by Content-Type `application/x-ndjson` / `application/jsonl`).
    public func decodeBody(_ body: [UInt8], contentType: String?, receivedAt: Date) throws(BodyError) -> Batch {
        let mediaType = contentType.map { $0.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let isNDJSON = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"].contains(mediaType)
        let isJSON = mediaType.isEmpty || mediaType == "application/json" || mediaType == "text/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
        guard isNDJSON || isJSON else { throw .unsupportedContentType(mediaType) }

        var values: [Result<JSONValue, Rejection>] = []
        if isNDJSON {
            let lines = JSONParser.parseLines(body)
            if !lines.isEmpty, lines.allSatisfy({ if case .failure = $0 { return true } else { return false } }) {
                if case .failure(let first) = lines[0] { throw .invalidJSON(first.description) }
            }
            for (i, line) in lines.enumerated() {
                switch line {
                case .success(let value): values.append(.success(value))
                case .failure(let error): values.append(.failure(Rejection(index: i, field: nil, error: "invalid JSON: \(error.description)")))
                }
            }
        } else {
            let document: JSONValue
            do { document = try JSONParser.parse(body) } catch { throw .invalidJSON(String(describing: error)) }
            switch document {
            case .array(let items):
                values = items.map { .success($0) }
            case .object(let object):
                if let wrapped = object["events"] {
                    guard case .array(let items) = wrapped else { throw .invalidShape("\"events\" must be an array") }
                    values = items.map { .success($0) }
                } else {
                    values = [.success(document)]
                }
            default:
                throw .invalidShape("the body must be an event object, an array of events or {\"events\": [...]}")
            }
        }
        guard values.count <= limits.maxEventsPerRequest else { throw .tooManyEvents(values.count) }

        var batch = Batch(events: [], indexes: [], rejections: [])
        batch.events.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            switch value {
            case .failure(let rejection):
                batch.rejections.append(rejection)
            case .success(let json):
                switch decode(json, index: index, receivedAt: receivedAt) {
                case .success(let event):
                    batch.events.append(event)
                    batch.indexes.append(index)
                case .failure(let rejection):
                    batch.rejections.append(rejection)
                }
            }
        }
        return batch
    }

    /// Field names the native format knows; everything else goes into `metadata`.
    static let knownFields: Set<String> = [
        "event_id", "timestamp", "request_id", "parent_request_id", "trace_id", "session_id", "user_id", "feature",
        "environment", "metadata", "tags", "provider", "model", "tokens_in", "tokens_out", "cached_tokens",
        "cache_write_tokens", "cost_usd", "latency_ms", "ttft_ms", "status", "error_type", "http_status", "retries",
        "fallback_triggered", "cache_hit", "prompt", "response", "step_index", "step_type", "tool_name", "tool_input",
        "tool_output", "intermediate_output", "total_cost_usd", "terminated_early", "loop_count",
    ]

    /// Validates and normalizes one event. Pricing is applied later, per project.
    public func decode(_ json: JSONValue, index: Int, receivedAt: Date) -> Result<Event, Rejection> {
        guard case .object(let object) = json else {
            return .failure(Rejection(index: index, field: nil, error: "an event must be a JSON object"))
        }
        let fields = FieldReader(object: object, index: index, limits: limits)
        do {
            guard let requestID = try fields.identifier("request_id") else {
                throw Rejection(index: index, field: "request_id", error: "is required")
            }
            let stepIndex = try fields.integer("step_index", max: 1_000_000).map(Int.init)
            let eventID: UUID
            if let given = try fields.string("event_id", maxBytes: 64) {
                guard let uuid = UUID(uuidString: given) else { throw Rejection(index: index, field: "event_id", error: "must be a UUID") }
                eventID = uuid
            } else {
                eventID = EventDecoder.derivedEventID(requestID: requestID, stepIndex: stepIndex)
            }
            let timestamp = try fields.timestamp("timestamp", receivedAt: receivedAt) ?? receivedAt

            var event = Event(eventID: eventID, timestamp: timestamp, requestID: requestID)
            event.stepIndex = stepIndex
            event.parentRequestID = try fields.identifier("parent_request_id")
            event.traceID = try fields.identifier("trace_id")
            event.sessionID = try fields.identifier("session_id")
            event.userID = try fields.identifier("user_id")
            event.feature = try fields.identifier("feature")
            event.environment = try fields.identifier("environment")
            event.provider = try fields.identifier("provider").map { $0.lowercased() }
            event.model = try fields.identifier("model")
            event.tags = try fields.tags("tags")

            let tokensIn = try fields.integer("tokens_in", max: limits.maxTokens) ?? 0
            let tokensOut = try fields.integer("tokens_out", max: limits.maxTokens) ?? 0
            let cached = try fields.integer("cached_tokens", max: limits.maxTokens) ?? 0
            let cacheWrite = try fields.integer("cache_write_tokens", max: limits.maxTokens) ?? 0
            if cached > tokensIn { throw Rejection(index: index, field: "cached_tokens", error: "must not exceed tokens_in (tokens_in counts all input tokens, cached ones included)") }
            if cached + cacheWrite > tokensIn { throw Rejection(index: index, field: "cache_write_tokens", error: "cached_tokens + cache_write_tokens must not exceed tokens_in") }
            event.usage = TokenUsage(input: tokensIn, output: tokensOut, cachedInput: cached, cacheWrite: cacheWrite)

            if let usd = try fields.number("cost_usd", max: limits.maxCostUSD) {
                guard let money = Money(usd: usd) else { throw Rejection(index: index, field: "cost_usd", error: "is not a representable amount") }
                event.cost = money
                event.costSource = .client
            }
            if let usd = try fields.number("total_cost_usd", max: limits.maxCostUSD) {
                event.totalCost = Money(usd: usd)
            }
            event.latencyMs = try fields.number("latency_ms", max: limits.maxLatencyMs)
            event.ttftMs = try fields.number("ttft_ms", max: limits.maxLatencyMs)
            if let ttft = event.ttftMs, let latency = event.latencyMs, ttft > latency {
                throw Rejection(index: index, field: "ttft_ms", error: "must not exceed latency_ms")
            }
            event.errorType = try fields.identifier("error_type")
            if let status = try fields.integer("http_status", max: 999) {
                guard status >= 100 else { throw Rejection(index: index, field: "http_status", error: "must be an HTTP status code (100-999)") }
                event.httpStatus = Int(status)
            }
            if let status = try fields.string("status", maxBytes: 16) {
                guard let parsed = EventStatus(rawValue: status.lowercased()) else {
                    throw Rejection(index: index, field: "status", error: "must be \"ok\" or \"error\"")
                }
                event.status = parsed
            } else if event.errorType != nil || (event.httpStatus ?? 0) >= 400 {
                event.status = .error
            }
            event.retries = Int(try fields.integer("retries", max: Int64(limits.maxRetries)) ?? 0)
            event.fallbackTriggered = try fields.bool("fallback_triggered") ?? false
            event.cacheHit = try fields.bool("cache_hit") ?? false
            event.stepType = try fields.identifier("step_type")
            event.toolName = try fields.identifier("tool_name")
            event.terminatedEarly = try fields.bool("terminated_early")
            event.loopCount = try fields.integer("loop_count", max: 10_000_000).map(Int.init)

            var text = EventText()
            text.prompt = fields.text("prompt", truncated: &text.truncated)
            text.response = fields.text("response", truncated: &text.truncated)
            text.toolInput = fields.text("tool_input", truncated: &text.truncated)
            text.toolOutput = fields.text("tool_output", truncated: &text.truncated)
            text.intermediateOutput = fields.text("intermediate_output", truncated: &text.truncated)
            event.text = text.isEmpty ? nil : text

            event.metadata = try fields.metadata(unknownFieldsFrom: object, known: EventDecoder.knownFields)
            return .success(event)
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch {
            return .failure(Rejection(index: index, field: nil, error: String(describing: error)))
        }
    }

    /// A stable id for events sent without `event_id`, so a re-send of the same request step is
    /// recognized as the same event.
    public static func derivedEventID(requestID: String, stepIndex: Int?) -> UUID {
        var bytes = SHA256.hash(Array("tokenmeter.event\u{0}\(requestID)\u{0}\(stepIndex.map(String.init) ?? "-")".utf8))
        bytes[6] = (bytes[6] & 0x0f) | 0x50   // version 5 layout (name-based)
        bytes[8] = (bytes[8] & 0x3f) | 0x80   // RFC 4122 variant
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
