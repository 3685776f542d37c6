import Foundation
import Ingest
import JSON
import TokenmeterCore

/// One prompt or completion message that a log record carries for a span.
public struct SpanText: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        case prompt
        case response
    }

    /// The event id of the span the text belongs to (the span may arrive before or after it).
    public var eventID: UUID
    /// A hash of the record's content, so a re-sent record is stored once.
    public var recordKey: UUID
    public var time: Date
    /// Order within the request, for messages logged at the same instant.
    public var sequence: Int
    public var role: Role
    /// One JSON value (a message object, usually).
    public var body: String
}

/// Stores log texts and attaches them to their span's event text, whichever arrives first.
/// Returns once they are committed.
public protocol SpanTextStore: Sendable {
    func attach(_ texts: [SpanText], project: ProjectID) throws
}

public struct LogMapping: Sendable {
    public var texts: [SpanText]
    public var rejections: [SpanRejection]
    /// Records accepted but not used (application logs that are not GenAI message events).
    public var ignored: Int

    public var rejectionMessage: String {
        guard !rejections.isEmpty else { return "" }
        let reasons = rejections.prefix(3).map { "log record #\($0.index): \($0.reason)" }
        return "\(rejections.count) log records rejected; " + reasons.joined(separator: "; ")
    }
}

/// Picks the GenAI message events out of OTLP log records: `gen_ai.{system,user,assistant,tool}.message`
/// (prompt side), `gen_ai.choice` (response side), and `gen_ai.client.inference.operation.details`
/// (whose `gen_ai.input.messages`/`gen_ai.output.messages` attributes hold both). The event name is
/// the record's `event_name` or its `event.name` attribute. Other records are accepted and ignored.
public struct LogTextMapper: Sendable {
    public var limits: IngestLimits

    public init(limits: IngestLimits = IngestLimits()) {
        self.limits = limits
    }

    static let promptEvents: [String: String] = [
        "gen_ai.system.message": "system", "gen_ai.user.message": "user", "gen_ai.assistant.message": "assistant",
        "gen_ai.tool.message": "tool",
    ]

    public func map(_ request: OTLPLogsRequest, receivedAt: Date) -> LogMapping {
        var mapping = LogMapping(texts: [], rejections: [], ignored: 0)
        var index = 0
        for resourceLogs in request.resourceLogs {
            for scopeLogs in resourceLogs.scopeLogs {
                for record in scopeLogs.logRecords {
                    defer { index += 1 }
                    let name = record.eventName.isEmpty ? (record.attributes.first { $0.key == "event.name" }?.value.scalarText ?? "") : record.eventName
                    let messages = self.messages(name: name, record: record)
                    guard !messages.isEmpty else { mapping.ignored += 1; continue }
                    if let invalid = record.invalid {
                        mapping.rejections.append(SpanRejection(index: index, spanID: nil, reason: invalid))
                        continue
                    }
                    guard let trace = record.traceID, trace.isValid, let span = record.spanID, span.isValid else {
                        mapping.rejections.append(SpanRejection(index: index, spanID: nil, reason: "\(name) has no trace and span id to attach it to"))
                        continue
                    }
                    let nanos = record.timeUnixNano != 0 ? record.timeUnixNano : (record.observedTimeUnixNano != 0 ? record.observedTimeUnixNano : nil)
                    let time = nanos.map { Date(timeIntervalSince1970: Double($0 / 1_000) / 1_000_000) } ?? receivedAt
                    let eventID = EventDecoder.derivedEventID(requestID: "\(trace.hex)-\(span.hex)", stepIndex: nil)
                    for (position, (role, body)) in messages.enumerated() {
                        let text = capped(body)
                        // A content hash (same derivation as event ids): a re-sent record maps to the same key.
                        let key = EventDecoder.derivedEventID(requestID: "otlp.log \(eventID) \(nanos ?? 0) \(role.rawValue) \(text)", stepIndex: position)
                        mapping.texts.append(SpanText(eventID: eventID, recordKey: key, time: time, sequence: mapping.texts.count,
                                                      role: role, body: text))
                    }
                }
            }
        }
        return mapping
    }

    /// The messages a record carries, each one JSON value.
    private func messages(name: String, record: OTLPLogRecord) -> [(SpanText.Role, String)] {
        func serialized(_ json: JSONValue) -> String { String(decoding: JSONWriter.bytes(for: json), as: UTF8.self) }
        if let role = Self.promptEvents[name] {
            // The body is the message without its role (gen_ai events put the role in the name).
            var message: JSONValue
            switch record.body.json {
            case .object(var object):
                if object["role"] == nil { object = JSONObject([("role", .string(role))] + object.entries.map { ($0.key, $0.value) }) }
                message = .object(object)
            case .null: message = .object(JSONObject([("role", .string(role))]))
            case let other: message = .object(JSONObject([("role", .string(role)), ("content", other)]))
            }
            return [(.prompt, serialized(message))]
        }
        if name == "gen_ai.choice" {
            return [(.response, serialized(record.body.json))]
        }
        if name == "gen_ai.client.inference.operation.details" {
            var result: [(SpanText.Role, String)] = []
            for (key, role) in [("gen_ai.input.messages", SpanText.Role.prompt), ("gen_ai.output.messages", .response)] {
                guard let value = record.attributes.first(where: { $0.key == key })?.value else { continue }
                switch value.embeddedJSON ?? value.json {
                case .array(let items): result += items.map { (role, serialized($0)) }
                case .null: continue
                case let other: result.append((role, serialized(other)))
                }
            }
            return result
        }
        return []
    }

    /// Over the text cap, a message is replaced by a JSON string of its prefix (still one JSON value).
    private func capped(_ body: String) -> String {
        let body = replacingNUL(body)
        guard body.utf8.count > limits.textCapBytes else { return body }
        return String(decoding: JSONWriter.bytes(for: .string(utf8Prefix(body, maxBytes: limits.textCapBytes))), as: UTF8.self)
    }
}
