import Foundation
import Ingest
import JSON
import TokenmeterCore

/// How spans become events: the ingest limits native events obey, plus the OTLP-only settings.
public struct OTLPMappingOptions: Sendable {
    public var limits: IngestLimits
    /// An attribute (span, ancestor span or resource) that names the feature; it outranks every
    /// name of the table, e.g. "app.feature".
    public var featureAttribute: String?

    public init(limits: IngestLimits = IngestLimits(), featureAttribute: String? = nil) {
        self.limits = limits
        self.featureAttribute = featureAttribute
    }
}

/// One span as an event, with the cost its library reported (used only when the price table cannot
/// price the model).
public struct MappedSpan: Sendable {
    public var event: Event
    public var reportedCost: Money?
}

/// A span that was not accepted, and why.
public struct SpanRejection: Sendable, Hashable {
    /// Position of the span in the request (resource, scope and span order).
    public var index: Int
    public var spanID: String?
    public var reason: String
}

public struct TraceMapping: Sendable {
    public var spans: [MappedSpan]
    public var rejections: [SpanRejection]

    /// The `partial_success.error_message`: how many were rejected and the first reasons.
    public var rejectionMessage: String {
        guard !rejections.isEmpty else { return "" }
        let reasons = rejections.prefix(3).map { "span \($0.spanID ?? "#\($0.index)"): \($0.reason)" }
        return "\(rejections.count) of \(spans.count + rejections.count) spans rejected; " + reasons.joined(separator: "; ")
    }
}

/// Maps OTLP spans to Tokenmeter events with the table in ``AttributeTable``.
///
/// - Ids: every span is its own request node, `request_id = "<trace id>-<span id>"`, whose
///   `parent_request_id` is `"<trace id>-<parent span id>"`, or the bare trace id for a root span
///   (no parent, or a parent in another process). The trace id itself is a node without events, so
///   `GET /v1/requests/{trace id}` answers the whole span tree, whichever batch each span came in.
///   `event_id` is derived from the request id, so a re-sent span is recognised as stored.
/// - A span is a step (`step_type` from its kind attributes); only provider calls (`llm_call`,
///   `embedding`, `rerank`) carry model, tokens and cost. Wrapper spans (agent, chain, workflow)
///   that repeat their children's usage as a total are not counted twice.
/// - User, session and feature set on an ancestor span of the same request apply to its
///   descendants; resource `service.name` and `deployment.environment(.name)` fill feature and
///   environment last.
public struct SpanMapper: Sendable {
    public var options: OTLPMappingOptions

    public init(options: OTLPMappingOptions = OTLPMappingOptions()) {
        self.options = options
    }

    struct Problem: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    private struct SpanKey: Hashable {
        let trace: TraceID
        let span: SpanID
    }

    /// A span with what its attributes say, before attribution is inherited.
    private struct Candidate {
        let index: Int
        let span: OTLPSpan
        let scope: OTLPScope
        let resource: Int
        let facts: AttributeFacts
    }

    /// The resource attributes that fill in for spans.
    private struct ResourceFacts {
        let facts: AttributeFacts
        let serviceName: String?
    }

    public func map(_ request: OTLPTraceRequest, receivedAt: Date) -> TraceMapping {
        var candidates: [Candidate] = []
        var resources: [ResourceFacts] = []
        var index = 0
        for resourceSpans in request.resourceSpans {
            let service = resourceSpans.resource.first { $0.key == "service.name" }?.value.scalarText
            resources.append(ResourceFacts(facts: AttributeFacts(resourceSpans.resource, featureAttribute: options.featureAttribute),
                                           serviceName: service.flatMap { $0.hasPrefix("unknown_service") ? nil : $0 }))
            for scopeSpans in resourceSpans.scopeSpans {
                for span in scopeSpans.spans {
                    candidates.append(Candidate(index: index, span: span, scope: scopeSpans.scope, resource: resources.count - 1,
                                                facts: AttributeFacts(span.attributes, featureAttribute: options.featureAttribute)))
                    index += 1
                }
            }
        }
        var byKey: [SpanKey: Int] = [:]
        byKey.reserveCapacity(candidates.count)
        for (position, candidate) in candidates.enumerated() {
            if let trace = candidate.span.traceID, let span = candidate.span.spanID { byKey[SpanKey(trace: trace, span: span)] = position }
        }

        var mapping = TraceMapping(spans: [], rejections: [])
        mapping.spans.reserveCapacity(candidates.count)
        for candidate in candidates {
            do {
                let ancestors = ancestorFacts(of: candidate, in: candidates, byKey: byKey)
                mapping.spans.append(try map(candidate, ancestors: ancestors, resource: resources[candidate.resource], receivedAt: receivedAt))
            } catch {
                mapping.rejections.append(SpanRejection(index: candidate.index, spanID: candidate.span.spanID?.hex, reason: error.message))
            }
        }
        return mapping
    }

    /// The facts of the span's ancestors in this request, nearest first (bounded: cycles end it).
    private func ancestorFacts(of candidate: Candidate, in candidates: [Candidate], byKey: [SpanKey: Int]) -> [AttributeFacts] {
        guard let trace = candidate.span.traceID else { return [] }
        var result: [AttributeFacts] = []
        var parent = candidate.span.parentSpanID
        while let id = parent, result.count < 32, let position = byKey[SpanKey(trace: trace, span: id)] {
            result.append(candidates[position].facts)
            parent = candidates[position].span.parentSpanID
        }
        return result
    }

    private func map(_ candidate: Candidate, ancestors: [AttributeFacts], resource: ResourceFacts, receivedAt: Date) throws(Problem) -> MappedSpan {
        let span = candidate.span
        let facts = candidate.facts
        let limits = options.limits
        if let invalid = span.invalid { throw Problem(invalid) }
        guard let trace = span.traceID, trace.isValid else { throw Problem("trace_id must not be all zeros") }
        guard let spanID = span.spanID, spanID.isValid else { throw Problem("span_id must not be all zeros") }
        guard span.startTimeUnixNano > 0 else { throw Problem("start_time_unix_nano is missing") }
        guard span.endTimeUnixNano >= span.startTimeUnixNano else { throw Problem("end_time_unix_nano is before start_time_unix_nano") }
        let start = Date(timeIntervalSince1970: Double(span.startTimeUnixNano / 1_000) / 1_000_000)
        if let problem = limits.timestampProblem(start, receivedAt: receivedAt) { throw Problem("start time " + problem) }
        let latencyMs = Double(span.endTimeUnixNano - span.startTimeUnixNano) / 1_000_000
        guard latencyMs <= limits.maxLatencyMs else { throw Problem("the span lasts longer than \(Int(limits.maxLatencyMs / 1000)) s") }

        let requestID = "\(trace.hex)-\(spanID.hex)"
        var event = Event(eventID: EventDecoder.derivedEventID(requestID: requestID, stepIndex: nil), timestamp: start, requestID: requestID)
        event.traceID = trace.hex
        if let parent = span.parentSpanID, span.parentIsRemote != true {
            event.parentRequestID = "\(trace.hex)-\(parent.hex)"
        } else {
            event.parentRequestID = trace.hex
        }
        event.latencyMs = latencyMs

        // Attribution: the span, then its ancestors, then the resource.
        func inherited(_ field: Field) throws(Problem) -> String? {
            if let own = try identifier(facts[field]) { return own }
            for ancestor in ancestors { if let value = try? identifier(ancestor[field]) { return value } }
            return nil
        }
        event.userID = try inherited(.userID)
        event.sessionID = try inherited(.sessionID)
        event.feature = try inherited(.feature) ?? (try? identifier(resource.facts[.feature])) ?? resource.serviceName.flatMap { try? identifier($0, "service.name") }
        event.environment = try identifier(facts[.environment]) ?? (try? identifier(resource.facts[.environment]))
        event.tags = tags(facts[.tags])

        // The call.
        let stepType = Self.stepType(facts, name: span.name)
        event.stepType = stepType
        var model = try identifier(facts[.model])
        if model == nil, let requested = facts[.invocationParameters]?.value.embeddedJSON?["model"]?.stringValue {
            model = try identifier(requested, "llm.invocation_parameters.model")
        }
        let provider = try identifier(facts[.provider]).map(Self.normalizedProvider) ?? model.flatMap(Self.provider(ofModel:))
        var reportedCost: Money?
        if AttributeTable.callStepTypes.contains(stepType) {
            event.provider = provider
            event.model = model
            let counts: TokenSemantics.Counts
            do {
                counts = try TokenSemantics.counts(facts, provider: provider, model: model, maxTokens: limits.maxTokens)
            } catch {
                throw Problem("\(error.attribute) \(error.message)")
            }
            event.usage = TokenUsage(input: counts.input, output: counts.output, cachedInput: counts.cacheRead, cacheWrite: counts.cacheWrite)
            reportedCost = self.reportedCost(facts)
        }
        event.toolName = try identifier(facts[.toolName])
        event.errorType = try identifier(facts[.errorType])
        if let status = facts[.httpStatus].flatMap({ try? $0.value.integer.get() }), (100...999).contains(status) {
            event.httpStatus = Int(status)
        }
        let level = facts[.langfuseLevel]?.value.scalarText?.uppercased()
        if span.status == .error || event.errorType != nil || level == "ERROR" {
            event.status = .error
            if event.errorType == nil {
                let exception = span.events.first { $0.name == "exception" }?.attributes.first { $0.key == "exception.type" }?.value.scalarText
                event.errorType = exception.flatMap { try? identifier($0, "exception.type") }
            }
            let description = facts[.statusMessage]?.value.scalarText ?? span.statusMessage
            if let code = Self.providerStatusCode(description) {
                if event.httpStatus == nil { event.httpStatus = code }
                if event.errorType == nil { event.errorType = "http_\(code)" }
            }
            if event.errorType == nil, level == "ERROR" { event.errorType = "error" }
        }
        event.ttftMs = ttft(facts, span: span, start: start).flatMap { $0 >= 0 && $0 <= latencyMs ? $0 : nil }

        event.text = text(facts, stepType: stepType)
        event.metadata = metadata(candidate)
        return MappedSpan(event: event, reportedCost: reportedCost)
    }

    // MARK: - Fields

    /// Ids and dimension values obey the native rules: trimmed, bounded, no control characters.
    private func identifier(_ pick: Pick?) throws(Problem) -> String? {
        guard let pick, let raw = pick.value.scalarText else { return nil }
        return try identifier(raw, pick.key)
    }

    private func identifier(_ raw: String, _ attribute: String) throws(Problem) -> String? {
        // Langfuse sends metadata values JSON-encoded ("\"weather-assistant\"").
        var s = raw.trimmingCharacters(in: .whitespaces)
        if s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\""), case .string(let decoded)? = try? JSONParser.parse(Array(s.utf8)) {
            s = decoded.trimmingCharacters(in: .whitespaces)
        }
        if s.isEmpty { return nil }
        guard s.utf8.count <= options.limits.maxStringBytes else {
            throw Problem("attribute \(attribute) is too long (at most \(options.limits.maxStringBytes) bytes)")
        }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw Problem("attribute \(attribute) must not contain control characters")
        }
        return s
    }

    /// Tags from an array or a JSON array in a string; entries that break the native rules are dropped.
    private func tags(_ pick: Pick?) -> [String] {
        guard let pick else { return [] }
        let values: [String]
        switch pick.value {
        case .array(let items): values = items.compactMap(\.scalarText)
        case .string(let s):
            if case .array(let items)? = pick.value.embeddedJSON { values = items.compactMap(\.stringValue) } else { values = [s] }
        default: values = []
        }
        return Array(values.filter { !$0.isEmpty && $0.utf8.count <= options.limits.maxStringBytes && !$0.unicodeScalars.contains { $0.value < 0x20 } }
            .prefix(options.limits.maxTags))
    }

    /// "anthropic.messages" (Vercel) → "anthropic"; others lower-cased.
    static func normalizedProvider(_ provider: String) -> String {
        let lower = provider.lowercased()
        for family in ["openai.", "anthropic.", "google.", "mistral.", "xai.", "groq.", "bedrock.", "azure.", "cohere.", "deepseek."]
        where lower.hasPrefix(family) && lower != "azure.ai.openai" && lower != "azure.ai.inference" {
            return String(family.dropLast())
        }
        return lower
    }

    /// The provider a well-known model name belongs to, for spans that name only the model (the
    /// Langfuse SDK's generations). Unknown families stay nil rather than guessed.
    static func provider(ofModel model: String) -> String? {
        let lower = model.lowercased()
        for (prefixes, provider) in AttributeTable.providerByModelPrefix where prefixes.contains(where: lower.hasPrefix) { return provider }
        return nil
    }

    /// The HTTP status in the description of a failed call, as the OpenAI and Anthropic SDKs word
    /// their status errors: "Error code: 429 - {…}".
    static func providerStatusCode(_ description: String) -> Int? {
        let prefix = "Error code: "
        guard description.hasPrefix(prefix) else { return nil }
        let digits = description.utf8.dropFirst(prefix.utf8.count).prefix { $0 >= 48 && $0 <= 57 }
        guard digits.count == 3, let code = Int(String(decoding: digits, as: UTF8.self)), (400...599).contains(code) else { return nil }
        return code
    }

    static func stepType(_ facts: AttributeFacts, name: String) -> String {
        if let kind = facts[.openInferenceKind]?.value.scalarText?.uppercased(), let type = AttributeTable.stepTypeByOpenInferenceKind[kind] { return type }
        if let operation = facts[.operationName]?.value.scalarText?.lowercased(), let type = AttributeTable.stepTypeByOperation[operation] { return type }
        if let kind = facts[.langfuseType]?.value.scalarText?.lowercased(), let type = AttributeTable.stepTypeByLangfuseType[kind] { return type }
        if let kind = facts[.traceloopKind]?.value.scalarText?.lowercased(), let type = AttributeTable.stepTypeByTraceloopKind[kind] { return type }
        if let operation = facts[.vercelOperation]?.value.scalarText ?? (name.hasPrefix("ai.") ? name : nil),
           let type = AttributeTable.stepType(vercelOperation: operation) { return type }
        if let kind = facts[.llmRequestType]?.value.scalarText?.lowercased(), let type = AttributeTable.stepTypeByRequestType[kind] { return type }
        let hasUsage = facts[.inputTokens] != nil || facts[.outputTokens] != nil || facts[.langfuseUsage] != nil
        return hasUsage ? "llm_call" : "span"
    }

    private func reportedCost(_ facts: AttributeFacts) -> Money? {
        var usd = facts[.reportedCostUSD]?.value.number
        if usd == nil, case .object(let details)? = facts[.langfuseCost]?.value.embeddedJSON {
            usd = details["total"]?.doubleValue ?? details.entries.compactMap { $0.value.doubleValue }.reduce(0, +)
        }
        guard let usd, usd >= 0, usd <= options.limits.maxCostUSD else { return nil }
        return Money(usd: usd)
    }

    /// Time to first token in ms: an explicit attribute, else the earliest first-token event.
    private func ttft(_ facts: AttributeFacts, span: OTLPSpan, start: Date) -> Double? {
        if let seconds = facts[.ttftSeconds]?.value.number { return seconds * 1000 }
        if let ms = facts[.ttftMilliseconds]?.value.number { return ms }
        if let pick = facts[.completionStartTime], let raw = pick.value.scalarText {
            let text = (try? JSONParser.parse(Array(raw.utf8)))?.stringValue ?? raw
            if let date = Timestamp.parseRFC3339(text) { return date.timeIntervalSince(start) * 1000 }
        }
        let first = span.events.filter { AttributeTable.firstTokenEvents.contains($0.name) && $0.timeUnixNano >= span.startTimeUnixNano }
            .map(\.timeUnixNano).min()
        return first.map { Double($0 - span.startTimeUnixNano) / 1_000_000 }
    }

    // MARK: - Text and metadata

    private func text(_ facts: AttributeFacts, stepType: String) -> EventText? {
        var text = EventText()
        func value(_ field: Field) -> String? {
            if let pick = facts[field] { return capped(pick.value.text, truncated: &text.truncated) }
            guard let list = facts.messageLists[field] else { return nil }
            let messages = list.keys.sorted().map { index in
                JSONValue.object(JSONObject(list[index, default: []].map { ($0.0, $0.1.json) }))
            }
            return capped(String(decoding: JSONWriter.bytes(for: .array(messages)), as: UTF8.self), truncated: &text.truncated)
        }
        text.prompt = value(.prompt)
        text.response = value(.response)
        text.toolInput = value(.toolInput)
        text.toolOutput = value(.toolOutput)
        if stepType == "tool_call" {
            // Tool spans of OpenInference and Langfuse carry their arguments and result as input/output.
            if text.toolInput == nil { text.toolInput = text.prompt; text.prompt = nil }
            if text.toolOutput == nil { text.toolOutput = text.response; text.response = nil }
        }
        return text.isEmpty ? nil : text
    }

    /// Cut at the text cap on a character boundary.
    private func capped(_ s: String?, truncated: inout Bool) -> String? {
        guard let s = s.map(replacingNUL), !s.isEmpty else { return nil }
        guard s.utf8.count > options.limits.textCapBytes else { return s }
        truncated = true
        return utf8Prefix(s, maxBytes: options.limits.textCapBytes)
    }

    /// Where the span came from (`otel.*`) plus the application metadata its attributes carry.
    private func metadata(_ candidate: Candidate) -> String? {
        let span = candidate.span
        var entries: [(String, JSONValue)] = [
            ("otel.span_name", .string(span.name)),
            ("otel.span_kind", .string(Self.kindNames[span.spanKind] ?? "unspecified")),
        ]
        if let id = span.spanID { entries.append(("otel.span_id", .string(id.hex))) }
        if let parent = span.parentSpanID { entries.append(("otel.parent_span_id", .string(parent.hex))) }
        if !candidate.scope.name.isEmpty {
            entries.append(("otel.scope", .string(candidate.scope.version.isEmpty ? candidate.scope.name : "\(candidate.scope.name) \(candidate.scope.version)")))
        }
        if !span.statusMessage.isEmpty { entries.append(("otel.status_message", .string(span.statusMessage))) }
        let base = entries.count
        var seen = Set(entries.map(\.0))
        for (key, value) in candidate.facts.metadata where seen.insert(key).inserted {
            // Langfuse serializes metadata values as JSON inside strings.
            if case .string = value, let parsed = value.embeddedJSON { entries.append((key, parsed)) } else { entries.append((key, value.json)) }
        }
        var bytes = JSONWriter.bytes(for: Self.sanitized(.object(JSONObject(entries))))
        if bytes.count > options.limits.maxMetadataBytes {
            bytes = JSONWriter.bytes(for: Self.sanitized(.object(JSONObject(Array(entries.prefix(base))))))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let kindNames: [OTLPSpan.Kind: String] = [
        .unspecified: "unspecified", .internal: "internal", .server: "server", .client: "client", .producer: "producer", .consumer: "consumer",
    ]

    /// jsonb refuses U+0000 anywhere, keys included.
    private static func sanitized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(replacingNUL(s))
        case .array(let items): return .array(items.map(sanitized))
        case .object(let object): return .object(JSONObject(object.entries.map { (replacingNUL($0.key), sanitized($0.value)) }))
        default: return value
        }
    }
}
