/// Encodes requests as OTLP protobuf, the inverse of ``OTLPProtobufDecoder``. The server never
/// sends requests; this exists so tests and the benchmark build payloads from the model instead of
/// by hand, and so decode(encode(x)) == x can be checked.
public enum OTLPProtobufEncoder {
    public static func encode(_ request: OTLPTraceRequest) -> [UInt8] {
        export(request.resourceSpans.map { ($0.resource, $0.scopeSpans.map { ($0.scope, $0.spans) }) }, item: encode)
    }

    public static func encode(_ request: OTLPLogsRequest) -> [UInt8] {
        export(request.resourceLogs.map { ($0.resource, $0.scopeLogs.map { ($0.scope, $0.logRecords) }) }, item: encode)
    }

    /// Traces and logs share the resource → scope → item nesting and its field numbers.
    private static func export<Item>(_ resources: [([OTLPAttribute], [(OTLPScope, [Item])])],
                                      item: (Item, inout ProtobufWriter) -> Void) -> [UInt8] {
        var writer = ProtobufWriter()
        for (resource, scopes) in resources {
            writer.message(1) { w in
                w.message(1) { attributes(resource, field: 1, into: &$0) }
                for (scopeInfo, items) in scopes {
                    w.message(2) { w in
                        w.message(1) { scope(scopeInfo, into: &$0) }
                        for element in items { w.message(2) { item(element, &$0) } }
                    }
                }
            }
        }
        return writer.bytes
    }

    private static func scope(_ scope: OTLPScope, into w: inout ProtobufWriter) {
        if !scope.name.isEmpty { w.string(1, scope.name) }
        if !scope.version.isEmpty { w.string(2, scope.version) }
    }

    private static func encode(_ span: OTLPSpan, into w: inout ProtobufWriter) {
        if let trace = span.traceID { w.data(1, trace.bytes) }
        if let id = span.spanID { w.data(2, id.bytes) }
        if let parent = span.parentSpanID { w.data(4, parent.bytes) }
        if !span.name.isEmpty { w.string(5, span.name) }
        if span.kind != 0 { w.int(6, span.kind) }
        w.fixed64(7, span.startTimeUnixNano)
        w.fixed64(8, span.endTimeUnixNano)
        attributes(span.attributes, field: 9, into: &w)
        for event in span.events {
            w.message(11) { e in
                e.fixed64(1, event.timeUnixNano)
                if !event.name.isEmpty { e.string(2, event.name) }
                attributes(event.attributes, field: 3, into: &e)
            }
        }
        if span.statusCode != 0 || !span.statusMessage.isEmpty {
            w.message(15) { status in
                if !span.statusMessage.isEmpty { status.string(2, span.statusMessage) }
                if span.statusCode != 0 { status.int(3, span.statusCode) }
            }
        }
        if span.flags != 0 { w.fixed32(16, span.flags) }
    }

    private static func encode(_ record: OTLPLogRecord, into w: inout ProtobufWriter) {
        if record.timeUnixNano != 0 { w.fixed64(1, record.timeUnixNano) }
        if record.severityNumber != 0 { w.int(2, record.severityNumber) }
        if !record.severityText.isEmpty { w.string(3, record.severityText) }
        if record.body != .empty { w.message(5) { value(record.body, into: &$0) } }
        attributes(record.attributes, field: 6, into: &w)
        if let trace = record.traceID { w.data(9, trace.bytes) }
        if let span = record.spanID { w.data(10, span.bytes) }
        if record.observedTimeUnixNano != 0 { w.fixed64(11, record.observedTimeUnixNano) }
        if !record.eventName.isEmpty { w.string(12, record.eventName) }
    }

    private static func attributes(_ attributes: [OTLPAttribute], field: UInt32, into w: inout ProtobufWriter) {
        for attribute in attributes {
            w.message(field) { kv in
                kv.string(1, attribute.key)
                kv.message(2) { value(attribute.value, into: &$0) }
            }
        }
    }

    private static func value(_ value: OTLPValue, into w: inout ProtobufWriter) {
        switch value {
        case .empty: break
        case .string(let s): w.string(1, s)
        case .bool(let b): w.bool(2, b)
        case .int(let i): w.int(3, i)
        case .double(let d): w.double(4, d)
        case .array(let items): w.message(5) { array in for item in items { array.message(1) { self.value(item, into: &$0) } } }
        case .kvlist(let entries): w.message(6) { attributes(entries, field: 1, into: &$0) }
        case .bytes(let b): w.data(7, b)
        }
    }
}
