/// Decodes `ExportTraceServiceRequest` and `ExportLogsServiceRequest` from binary protobuf
/// (field numbers from opentelemetry-proto). Unknown fields are skipped; a field with the wrong
/// wire type, a truncated field or nesting beyond the limit makes the body malformed.
public struct OTLPProtobufDecoder: Sendable {
    public var limits: OTLPDecodingLimits

    public init(limits: OTLPDecodingLimits = OTLPDecodingLimits()) {
        self.limits = limits
    }

    public func decodeTraces(_ bytes: [UInt8]) throws(OTLPDecodingError) -> OTLPTraceRequest {
        var state = DecodingBudget(limits: limits)
        do {
            var reader = ProtobufReader(bytes, maxDepth: limits.maxDepth)
            var request = OTLPTraceRequest()
            while let (field, wire) = try reader.nextField() {
                if field == 1 {
                    var nested = try reader.message(wire, field: field)
                    request.resourceSpans.append(try resourceSpans(&nested, &state))
                } else {
                    try reader.skip(wire)
                }
            }
            return request
        } catch let error as ProtobufError {
            throw .malformed("not a valid ExportTraceServiceRequest: \(error)")
        } catch let error as OTLPDecodingError {
            throw error
        } catch {
            throw .malformed(String(describing: error))
        }
    }

    public func decodeLogs(_ bytes: [UInt8]) throws(OTLPDecodingError) -> OTLPLogsRequest {
        var state = DecodingBudget(limits: limits)
        do {
            var reader = ProtobufReader(bytes, maxDepth: limits.maxDepth)
            var request = OTLPLogsRequest()
            while let (field, wire) = try reader.nextField() {
                if field == 1 {
                    var nested = try reader.message(wire, field: field)
                    request.resourceLogs.append(try resourceLogs(&nested, &state))
                } else {
                    try reader.skip(wire)
                }
            }
            return request
        } catch let error as ProtobufError {
            throw .malformed("not a valid ExportLogsServiceRequest: \(error)")
        } catch let error as OTLPDecodingError {
            throw error
        } catch {
            throw .malformed(String(describing: error))
        }
    }

    // MARK: - Traces

    private func resourceSpans(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPResourceSpans {
        var result = OTLPResourceSpans()
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1:
                var nested = try reader.message(wire, field: field)
                result.resource = try resource(&nested, &state)
            case 2:
                var nested = try reader.message(wire, field: field)
                result.scopeSpans.append(try scopeSpans(&nested, &state))
            default:
                try reader.skip(wire)
            }
        }
        return result
    }

    private func resource(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> [OTLPAttribute] {
        var attributes: [OTLPAttribute] = []
        var dropped = 0
        while let (field, wire) = try reader.nextField() {
            if field == 1 {
                try reader.expect(.lengthDelimited, wire, field: field)
                try attribute(&reader, into: &attributes, dropped: &dropped, &state)
            } else {
                try reader.skip(wire)
            }
        }
        return attributes
    }

    private func scope(_ reader: inout ProtobufReader) throws -> OTLPScope {
        var scope = OTLPScope()
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1: try reader.expect(.lengthDelimited, wire, field: field); scope.name = try reader.string()
            case 2: try reader.expect(.lengthDelimited, wire, field: field); scope.version = try reader.string()
            default: try reader.skip(wire)
            }
        }
        return scope
    }

    private func scopeSpans(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPScopeSpans {
        var result = OTLPScopeSpans()
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1:
                var nested = try reader.message(wire, field: field)
                result.scope = try scope(&nested)
            case 2:
                var nested = try reader.message(wire, field: field)
                try state.countItem()
                result.spans.append(try span(&nested, &state))
            default:
                try reader.skip(wire)
            }
        }
        return result
    }

    private func span(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPSpan {
        var span = OTLPSpan()
        var sawTraceID = false
        var sawSpanID = false
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1:
                try reader.expect(.lengthDelimited, wire, field: field)
                let raw = try reader.data()
                sawTraceID = true
                span.traceID = TraceID(bytes: raw)
                if span.traceID == nil { span.invalid = span.invalid ?? "trace_id must be 16 bytes, got \(raw.count)" }
            case 2:
                try reader.expect(.lengthDelimited, wire, field: field)
                let raw = try reader.data()
                sawSpanID = true
                span.spanID = SpanID(bytes: raw)
                if span.spanID == nil { span.invalid = span.invalid ?? "span_id must be 8 bytes, got \(raw.count)" }
            case 4:
                try reader.expect(.lengthDelimited, wire, field: field)
                let raw = try reader.data()
                if !raw.isEmpty {
                    span.parentSpanID = SpanID(bytes: raw)
                    if span.parentSpanID == nil { span.invalid = span.invalid ?? "parent_span_id must be empty or 8 bytes, got \(raw.count)" }
                }
            case 5: try reader.expect(.lengthDelimited, wire, field: field); span.name = try reader.string()
            case 6: try reader.expect(.varint, wire, field: field); span.kind = Int64(bitPattern: try reader.varint())
            case 7: try reader.expect(.fixed64, wire, field: field); span.startTimeUnixNano = try reader.fixed64()
            case 8: try reader.expect(.fixed64, wire, field: field); span.endTimeUnixNano = try reader.fixed64()
            case 9:
                try reader.expect(.lengthDelimited, wire, field: field)
                try attribute(&reader, into: &span.attributes, dropped: &span.droppedAttributes, &state)
            case 10:
                try reader.expect(.varint, wire, field: field)
                span.droppedAttributes += Int(truncatingIfNeeded: min(try reader.varint(), UInt64(UInt32.max)))
            case 11:
                var nested = try reader.message(wire, field: field)
                let event = try self.event(&nested, &state)
                if span.events.count < limits.maxEventsPerSpan { span.events.append(event) }
            case 15:
                var nested = try reader.message(wire, field: field)
                while let (statusField, statusWire) = try nested.nextField() {
                    switch statusField {
                    case 2: try nested.expect(.lengthDelimited, statusWire, field: statusField); span.statusMessage = try nested.string()
                    case 3: try nested.expect(.varint, statusWire, field: statusField); span.statusCode = Int64(bitPattern: try nested.varint())
                    default: try nested.skip(statusWire)
                    }
                }
            case 16: try reader.expect(.fixed32, wire, field: field); span.flags = try reader.fixed32()
            default:
                try reader.skip(wire)
            }
        }
        if !sawTraceID { span.invalid = span.invalid ?? "trace_id is missing" }
        if !sawSpanID { span.invalid = span.invalid ?? "span_id is missing" }
        return span
    }

    private func event(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPSpanEvent {
        var event = OTLPSpanEvent()
        var dropped = 0
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1: try reader.expect(.fixed64, wire, field: field); event.timeUnixNano = try reader.fixed64()
            case 2: try reader.expect(.lengthDelimited, wire, field: field); event.name = try reader.string()
            case 3:
                try reader.expect(.lengthDelimited, wire, field: field)
                try attribute(&reader, into: &event.attributes, dropped: &dropped, &state)
            default: try reader.skip(wire)
            }
        }
        return event
    }

    // MARK: - Logs

    private func resourceLogs(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPResourceLogs {
        var result = OTLPResourceLogs()
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1:
                var nested = try reader.message(wire, field: field)
                result.resource = try resource(&nested, &state)
            case 2:
                var nested = try reader.message(wire, field: field)
                result.scopeLogs.append(try scopeLogs(&nested, &state))
            default:
                try reader.skip(wire)
            }
        }
        return result
    }

    private func scopeLogs(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPScopeLogs {
        var result = OTLPScopeLogs()
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1:
                var nested = try reader.message(wire, field: field)
                result.scope = try scope(&nested)
            case 2:
                var nested = try reader.message(wire, field: field)
                try state.countItem()
                result.logRecords.append(try logRecord(&nested, &state))
            default:
                try reader.skip(wire)
            }
        }
        return result
    }

    private func logRecord(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPLogRecord {
        var record = OTLPLogRecord()
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1: try reader.expect(.fixed64, wire, field: field); record.timeUnixNano = try reader.fixed64()
            case 11: try reader.expect(.fixed64, wire, field: field); record.observedTimeUnixNano = try reader.fixed64()
            case 2: try reader.expect(.varint, wire, field: field); record.severityNumber = Int64(bitPattern: try reader.varint())
            case 3: try reader.expect(.lengthDelimited, wire, field: field); record.severityText = try reader.string()
            case 5:
                var nested = try reader.message(wire, field: field)
                record.body = try anyValue(&nested, &state)
            case 6:
                try reader.expect(.lengthDelimited, wire, field: field)
                try attribute(&reader, into: &record.attributes, dropped: &record.droppedAttributes, &state)
            case 9:
                try reader.expect(.lengthDelimited, wire, field: field)
                let raw = try reader.data()
                if !raw.isEmpty {
                    record.traceID = TraceID(bytes: raw)
                    if record.traceID == nil { record.invalid = record.invalid ?? "trace_id must be empty or 16 bytes, got \(raw.count)" }
                }
            case 10:
                try reader.expect(.lengthDelimited, wire, field: field)
                let raw = try reader.data()
                if !raw.isEmpty {
                    record.spanID = SpanID(bytes: raw)
                    if record.spanID == nil { record.invalid = record.invalid ?? "span_id must be empty or 8 bytes, got \(raw.count)" }
                }
            case 12: try reader.expect(.lengthDelimited, wire, field: field); record.eventName = try reader.string()
            default: try reader.skip(wire)
            }
        }
        return record
    }

    // MARK: - Attributes

    /// Reads one `KeyValue` (the reader stands at its length prefix) and appends it when the key is
    /// not empty and the budgets allow; otherwise it only counts as dropped.
    private func attribute(_ reader: inout ProtobufReader, into attributes: inout [OTLPAttribute], dropped: inout Int,
                           _ state: inout DecodingBudget) throws {
        var nested = try reader.message()
        guard attributes.count < limits.maxAttributesPerItem, state.attributes < limits.maxAttributesPerRequest else {
            dropped += 1
            return
        }
        var keyRange: Range<Int>?
        var value = OTLPValue.empty
        while let (field, wire) = try nested.nextField() {
            switch field {
            case 1: try nested.expect(.lengthDelimited, wire, field: field); keyRange = try nested.lengthDelimited()
            case 2:
                var valueReader = try nested.message(wire, field: field)
                value = try anyValue(&valueReader, &state)
            default: try nested.skip(wire)
            }
        }
        guard let keyRange, !keyRange.isEmpty else { return }
        state.attributes += 1
        attributes.append(OTLPAttribute(ProtobufReader.text(nested.bytes[keyRange]), value))
    }

    private func anyValue(_ reader: inout ProtobufReader, _ state: inout DecodingBudget) throws -> OTLPValue {
        var value = OTLPValue.empty
        while let (field, wire) = try reader.nextField() {
            switch field {
            case 1: try reader.expect(.lengthDelimited, wire, field: field); value = .string(try reader.string())
            case 2: try reader.expect(.varint, wire, field: field); value = .bool(try reader.varint() != 0)
            case 3: try reader.expect(.varint, wire, field: field); value = .int(Int64(bitPattern: try reader.varint()))
            case 4: try reader.expect(.fixed64, wire, field: field); value = .double(Double(bitPattern: try reader.fixed64()))
            case 5:
                var array = try reader.message(wire, field: field)
                var items: [OTLPValue] = []
                while let (itemField, itemWire) = try array.nextField() {
                    guard itemField == 1 else { try array.skip(itemWire); continue }
                    var item = try array.message(itemWire, field: itemField)
                    let decoded = try anyValue(&item, &state)
                    if state.attributes < limits.maxAttributesPerRequest {
                        state.attributes += 1
                        items.append(decoded)
                    }
                }
                value = .array(items)
            case 6:
                var list = try reader.message(wire, field: field)
                var entries: [OTLPAttribute] = []
                var dropped = 0
                while let (entryField, entryWire) = try list.nextField() {
                    guard entryField == 1 else { try list.skip(entryWire); continue }
                    try list.expect(.lengthDelimited, entryWire, field: entryField)
                    try attribute(&list, into: &entries, dropped: &dropped, &state)
                }
                value = .kvlist(entries)
            case 7: try reader.expect(.lengthDelimited, wire, field: field); value = .bytes(Array(try reader.data()))
            default: try reader.skip(wire)
            }
        }
        return value
    }
}
