import Foundation
import Testing
@testable import OTLP

struct LogTextMapperTests {
    let mapper = LogTextMapper()
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    private func record(_ name: String, body: OTLPValue = .empty, attributes: [OTLPAttribute] = [], span: UInt64? = 0x1002) -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.eventName = name
        record.body = body
        record.attributes = attributes
        record.traceID = span == nil ? nil : Fixtures.traceID
        record.spanID = span.map(SpanID.init)
        record.observedTimeUnixNano = 1_764_000_000_000_000_000
        return record
    }

    private func map(_ records: [OTLPLogRecord]) -> LogMapping {
        mapper.map(OTLPLogsRequest(resourceLogs: [OTLPResourceLogs(scopeLogs: [OTLPScopeLogs(logRecords: records)])]), receivedAt: now)
    }

    @Test func theFixtureRecordsAttachToTheirSpansEvent() throws {
        let request = try OTLPProtobufDecoder().decodeLogs(try Fixtures.bytes("python-sdk-logs-1.pb"))
        let mapping = mapper.map(request, receivedAt: now)
        let spanEvent = SpanMapper().map(try Fixtures.traces("python-sdk-traces-1.pb"), receivedAt: now).spans
            .first { $0.event.requestID.hasSuffix("0000000000001002") }?.event.eventID
        #expect(mapping.texts.map(\.eventID) == [spanEvent, spanEvent])
        #expect(mapping.texts.map(\.role) == [.prompt, .response])
        #expect(mapping.texts[0].body == #"{"role":"user","content":"Where is my order 42?"}"#)
    }

    @Test func roleComesFromTheEventNameAndBodyKeepsItsShape() {
        let mapping = map([
            record("gen_ai.system.message", body: .kvlist([OTLPAttribute("content", .string("be brief"))])),
            record("gen_ai.tool.message", body: .string("42")),
            record("", body: .kvlist([]), attributes: [OTLPAttribute("event.name", .string("gen_ai.assistant.message"))]),
        ])
        #expect(mapping.texts.map(\.body) == [#"{"role":"system","content":"be brief"}"#, #"{"role":"tool","content":"42"}"#, #"{"role":"assistant"}"#])
    }

    @Test func operationDetailsCarryBothSides() {
        let mapping = map([record("gen_ai.client.inference.operation.details", attributes: [
            OTLPAttribute("gen_ai.input.messages", .string(#"[{"role":"user","parts":[]},{"role":"user","parts":[1]}]"#)),
            OTLPAttribute("gen_ai.output.messages", .string(#"[{"role":"assistant"}]"#)),
        ])])
        #expect(mapping.texts.map(\.role) == [.prompt, .prompt, .response])
    }

    @Test func aResentRecordHasTheSameKeyAndOthersAreIgnoredOrRejected() {
        let first = map([record("gen_ai.choice", body: .string("a"))])
        let again = map([record("gen_ai.choice", body: .string("a"))])
        #expect(first.texts[0].recordKey == again.texts[0].recordKey)
        #expect(first.texts[0].recordKey != map([record("gen_ai.choice", body: .string("b"))]).texts[0].recordKey)
        let mixed = map([record("app.log", body: .string("hello")), record("gen_ai.choice", body: .string("x"), span: nil)])
        #expect(mixed.ignored == 1)
        #expect(mixed.rejections.count == 1)
        #expect(mixed.rejectionMessage == "1 log records rejected; log record #1: gen_ai.choice has no trace and span id to attach it to")
    }

    @Test func longMessagesAreCappedToOneJSONString() {
        var limits = mapper.limits
        limits.textCapBytes = 10
        let mapping = LogTextMapper(limits: limits).map(
            OTLPLogsRequest(resourceLogs: [OTLPResourceLogs(scopeLogs: [OTLPScopeLogs(logRecords: [record("gen_ai.choice", body: .string(String(repeating: "é", count: 50)))])])]),
            receivedAt: now)
        // The message is the JSON string "éé…" (quotes included); its first 10 bytes are a quote and
        // four é, kept as one JSON string so the stored prompt stays valid JSON.
        #expect(mapping.texts[0].body == #""\"éééé""#)
    }
}
