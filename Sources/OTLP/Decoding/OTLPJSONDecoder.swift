import Foundation
import JSON

/// Decodes the OTLP/JSON encoding of `ExportTraceServiceRequest` and `ExportLogsServiceRequest`:
/// lowerCamelCase names (the proto field names are accepted too), trace and span ids as hex
/// (base64 is tolerated, as some exporters send it), 64-bit integers as strings or numbers, enums
/// as integers (their names are tolerated). Unknown fields are ignored. A document of the wrong
/// shape is malformed; a span or record with bad ids or times is kept with `invalid` set, so it
/// alone is rejected.
public struct OTLPJSONDecoder: Sendable {
    public var limits: OTLPDecodingLimits

    public init(limits: OTLPDecodingLimits = OTLPDecodingLimits()) {
        self.limits = limits
    }

    public func decodeTraces(_ bytes: [UInt8]) throws(OTLPDecodingError) -> OTLPTraceRequest {
        var state = DecodingBudget(limits: limits)
        let root = try document(bytes)
        var request = OTLPTraceRequest()
        for item in try array(root, "resourceSpans", "resource_spans") {
            guard case .object(let resourceSpans) = item else { throw .malformed("resourceSpans must hold objects") }
            var result = OTLPResourceSpans()
            result.resource = try resourceAttributes(resourceSpans, &state)
            for scopeItem in try array(resourceSpans, "scopeSpans", "scope_spans") {
                guard case .object(let scopeSpans) = scopeItem else { throw .malformed("scopeSpans must hold objects") }
                var scoped = OTLPScopeSpans(scope: try scope(scopeSpans))
                for spanItem in try array(scopeSpans, "spans") {
                    try state.countItem()
                    guard case .object(let object) = spanItem else { throw .malformed("spans must hold objects") }
                    scoped.spans.append(try span(object, &state))
                }
                result.scopeSpans.append(scoped)
            }
            request.resourceSpans.append(result)
        }
        return request
    }

    public func decodeLogs(_ bytes: [UInt8]) throws(OTLPDecodingError) -> OTLPLogsRequest {
        var state = DecodingBudget(limits: limits)
        let root = try document(bytes)
        var request = OTLPLogsRequest()
        for item in try array(root, "resourceLogs", "resource_logs") {
            guard case .object(let resourceLogs) = item else { throw .malformed("resourceLogs must hold objects") }
            var result = OTLPResourceLogs()
            result.resource = try resourceAttributes(resourceLogs, &state)
            for scopeItem in try array(resourceLogs, "scopeLogs", "scope_logs") {
                guard case .object(let scopeLogs) = scopeItem else { throw .malformed("scopeLogs must hold objects") }
                var scoped = OTLPScopeLogs(scope: try scope(scopeLogs))
                for recordItem in try array(scopeLogs, "logRecords", "log_records") {
                    try state.countItem()
                    guard case .object(let object) = recordItem else { throw .malformed("logRecords must hold objects") }
                    scoped.logRecords.append(try logRecord(object, &state))
                }
                result.scopeLogs.append(scoped)
            }
            request.resourceLogs.append(result)
        }
        return request
    }

    // MARK: - Structure

    private func document(_ bytes: [UInt8]) throws(OTLPDecodingError) -> JSONObject {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, maxDepth: 2 * limits.maxDepth) } catch { throw .malformed("the body is not valid JSON: \(error)") }
        guard case .object(let object) = value else { throw .malformed("the body must be a JSON object") }
        return object
    }

    /// A member by its JSON name or proto name; JSON null reads as absent.
    private func member(_ object: JSONObject, _ names: String...) -> JSONValue? {
        for name in names {
            if let value = object[name], !value.isNull { return value }
        }
        return nil
    }

    private func array(_ object: JSONObject, _ names: String...) throws(OTLPDecodingError) -> [JSONValue] {
        var found: JSONValue?
        for name in names where found == nil {
            if let value = object[name], !value.isNull { found = value }
        }
        guard let found else { return [] }
        guard case .array(let items) = found else { throw .malformed("\(names[0]) must be an array") }
        return items
    }

    private func resourceAttributes(_ object: JSONObject, _ state: inout DecodingBudget) throws(OTLPDecodingError) -> [OTLPAttribute] {
        guard let resource = member(object, "resource") else { return [] }
        guard case .object(let body) = resource else { throw .malformed("resource must be an object") }
        var dropped = 0
        return try attributes(body, &state, dropped: &dropped)
    }

    private func scope(_ object: JSONObject) throws(OTLPDecodingError) -> OTLPScope {
        guard let value = member(object, "scope") else { return OTLPScope() }
        guard case .object(let scope) = value else { throw .malformed("scope must be an object") }
        return OTLPScope(name: member(scope, "name")?.stringValue ?? "", version: member(scope, "version")?.stringValue ?? "")
    }

    private func span(_ object: JSONObject, _ state: inout DecodingBudget) throws(OTLPDecodingError) -> OTLPSpan {
        var span = OTLPSpan()
        func problem(_ message: String) { span.invalid = span.invalid ?? message }
        switch member(object, "traceId", "trace_id") {
        case nil: problem("traceId is missing")
        case .string(let text)?:
            span.traceID = Self.traceID(text)
            if span.traceID == nil { problem("traceId must be 32 hex digits") }
        default: problem("traceId must be a string of 32 hex digits")
        }
        switch member(object, "spanId", "span_id") {
        case nil: problem("spanId is missing")
        case .string(let text)?:
            span.spanID = Self.spanID(text)
            if span.spanID == nil { problem("spanId must be 16 hex digits") }
        default: problem("spanId must be a string of 16 hex digits")
        }
        switch member(object, "parentSpanId", "parent_span_id") {
        case nil: break
        case .string(let text)? where text.isEmpty: break
        case .string(let text)?:
            span.parentSpanID = Self.spanID(text)
            if span.parentSpanID == nil { problem("parentSpanId must be empty or 16 hex digits") }
        default: problem("parentSpanId must be a string")
        }
        span.name = Self.sanitized(member(object, "name")?.stringValue ?? "")
        span.kind = Self.enumValue(member(object, "kind"), names: Self.spanKinds) ?? 0
        if let value = member(object, "startTimeUnixNano", "start_time_unix_nano") {
            if let time = Self.uint64(value) { span.startTimeUnixNano = time } else { problem("startTimeUnixNano must be an unsigned integer") }
        }
        if let value = member(object, "endTimeUnixNano", "end_time_unix_nano") {
            if let time = Self.uint64(value) { span.endTimeUnixNano = time } else { problem("endTimeUnixNano must be an unsigned integer") }
        }
        span.attributes = try attributes(object, &state, dropped: &span.droppedAttributes)
        if let count = member(object, "droppedAttributesCount", "dropped_attributes_count").flatMap(Self.uint64) {
            span.droppedAttributes += Int(min(count, UInt64(UInt32.max)))
        }
        if let events = member(object, "events") {
            guard case .array(let items) = events else { throw .malformed("events must be an array") }
            for item in items.prefix(limits.maxEventsPerSpan) {
                guard case .object(let event) = item else { throw .malformed("events must hold objects") }
                var dropped = 0
                span.events.append(OTLPSpanEvent(
                    timeUnixNano: member(event, "timeUnixNano", "time_unix_nano").flatMap(Self.uint64) ?? 0,
                    name: Self.sanitized(member(event, "name")?.stringValue ?? ""),
                    attributes: try attributes(event, &state, dropped: &dropped)))
            }
        }
        if let status = member(object, "status") {
            guard case .object(let body) = status else { throw .malformed("status must be an object") }
            span.statusCode = Self.enumValue(member(body, "code"), names: Self.statusCodes) ?? 0
            span.statusMessage = Self.sanitized(member(body, "message")?.stringValue ?? "")
        }
        if let flags = member(object, "flags").flatMap(Self.uint64) { span.flags = UInt32(truncatingIfNeeded: flags) }
        return span
    }

    private func logRecord(_ object: JSONObject, _ state: inout DecodingBudget) throws(OTLPDecodingError) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        func problem(_ message: String) { record.invalid = record.invalid ?? message }
        record.timeUnixNano = member(object, "timeUnixNano", "time_unix_nano").flatMap(Self.uint64) ?? 0
        record.observedTimeUnixNano = member(object, "observedTimeUnixNano", "observed_time_unix_nano").flatMap(Self.uint64) ?? 0
        record.severityNumber = Self.enumValue(member(object, "severityNumber", "severity_number"), names: [:]) ?? 0
        record.severityText = Self.sanitized(member(object, "severityText", "severity_text")?.stringValue ?? "")
        if let body = member(object, "body") { record.body = try anyValue(body, &state, depth: 0) }
        record.attributes = try attributes(object, &state, dropped: &record.droppedAttributes)
        if case .string(let text)? = member(object, "traceId", "trace_id"), !text.isEmpty {
            record.traceID = Self.traceID(text)
            if record.traceID == nil { problem("traceId must be 32 hex digits") }
        }
        if case .string(let text)? = member(object, "spanId", "span_id"), !text.isEmpty {
            record.spanID = Self.spanID(text)
            if record.spanID == nil { problem("spanId must be 16 hex digits") }
        }
        record.eventName = Self.sanitized(member(object, "eventName", "event_name")?.stringValue ?? "")
        return record
    }

    // MARK: - Attributes and values

    private func attributes(_ object: JSONObject, _ state: inout DecodingBudget, dropped: inout Int) throws(OTLPDecodingError) -> [OTLPAttribute] {
        var result: [OTLPAttribute] = []
        for item in try array(object, "attributes") {
            try keyValue(item, into: &result, &state, dropped: &dropped, depth: 0)
        }
        return result
    }

    private func keyValue(_ item: JSONValue, into result: inout [OTLPAttribute], _ state: inout DecodingBudget,
                          dropped: inout Int, depth: Int) throws(OTLPDecodingError) {
        guard case .object(let kv) = item else { throw .malformed("attributes must hold {\"key\", \"value\"} objects") }
        guard result.count < limits.maxAttributesPerItem, state.attributes < limits.maxAttributesPerRequest else {
            dropped += 1
            return
        }
        guard case .string(let key)? = member(kv, "key"), !key.isEmpty else { return }
        let value = try member(kv, "value").map { value throws(OTLPDecodingError) in try anyValue(value, &state, depth: depth + 1) } ?? .empty
        state.attributes += 1
        result.append(OTLPAttribute(Self.sanitized(key), value))
    }

    private func anyValue(_ json: JSONValue, _ state: inout DecodingBudget, depth: Int) throws(OTLPDecodingError) -> OTLPValue {
        guard depth <= limits.maxDepth else { throw .malformed("attribute values nested deeper than \(limits.maxDepth)") }
        guard case .object(let object) = json else { throw .malformed("an AnyValue must be an object such as {\"stringValue\": \"…\"}") }
        if let value = member(object, "stringValue", "string_value") {
            guard case .string(let s) = value else { throw .malformed("stringValue must be a string") }
            return .string(Self.sanitized(s))
        }
        if let value = member(object, "boolValue", "bool_value") {
            guard case .bool(let b) = value else { throw .malformed("boolValue must be true or false") }
            return .bool(b)
        }
        if let value = member(object, "intValue", "int_value") {
            guard let int = Self.int64(value) else { throw .malformed("intValue must be a 64-bit integer (a number or a decimal string)") }
            return .int(int)
        }
        if let value = member(object, "doubleValue", "double_value") {
            switch value {
            case .number(let n): if let d = n.double { return .double(d) }
            case .string(let s): if let d = Double(s) { return .double(d) }   // proto3 JSON: "NaN", "Infinity", "1.5"
            default: break
            }
            throw .malformed("doubleValue must be a number")
        }
        if let value = member(object, "arrayValue", "array_value") {
            guard case .object(let body) = value else { throw .malformed("arrayValue must be an object") }
            var items: [OTLPValue] = []
            for item in try array(body, "values") where state.attributes < limits.maxAttributesPerRequest {
                state.attributes += 1
                items.append(try anyValue(item, &state, depth: depth + 1))
            }
            return .array(items)
        }
        if let value = member(object, "kvlistValue", "kvlist_value") {
            guard case .object(let body) = value else { throw .malformed("kvlistValue must be an object") }
            var entries: [OTLPAttribute] = []
            var dropped = 0
            for item in try array(body, "values") {
                try keyValue(item, into: &entries, &state, dropped: &dropped, depth: depth + 1)
            }
            return .kvlist(entries)
        }
        if let value = member(object, "bytesValue", "bytes_value") {
            guard case .string(let s) = value, let data = Data(base64Encoded: s) else { throw .malformed("bytesValue must be base64") }
            return .bytes(Array(data))
        }
        return .empty
    }

    // MARK: - Scalars

    static let spanKinds: [String: Int64] = [
        "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
        "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
    ]
    static let statusCodes: [String: Int64] = ["STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2]

    static func enumValue(_ value: JSONValue?, names: [String: Int64]) -> Int64? {
        switch value {
        case .number(let n)?: return n.int64
        case .string(let s)?: return names[s] ?? Int64(s)
        default: return nil
        }
    }

    static func int64(_ value: JSONValue) -> Int64? {
        switch value {
        case .number(let n): return n.int64
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    static func uint64(_ value: JSONValue) -> UInt64? {
        switch value {
        case .number(let n):
            if let int = n.int64 { return int >= 0 ? UInt64(int) : nil }
            return UInt64(n.text)
        case .string(let s): return UInt64(s)
        default: return nil
        }
    }

    /// Hex (the OTLP/JSON rule) or, tolerated, base64 of 16 bytes.
    static func traceID(_ text: String) -> TraceID? {
        if let id = TraceID(hex: text) { return id }
        return Data(base64Encoded: text).flatMap { TraceID(bytes: Array($0)) }
    }

    static func spanID(_ text: String) -> SpanID? {
        if let id = SpanID(hex: text) { return id }
        return Data(base64Encoded: text).flatMap { SpanID(bytes: Array($0)) }
    }

    /// JSON strings may carry U+0000 (escaped); Postgres text cannot.
    static func sanitized(_ s: String) -> String { replacingNUL(s) }
}
