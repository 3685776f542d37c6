import Foundation
@testable import Ingest
import JSON
import Testing
import TokenmeterCore

struct EventDecoderTests {
    let now = Date(timeIntervalSince1970: 1_764_000_000)

    func decode(_ json: String, limits: IngestLimits = IngestLimits()) throws -> Result<Event, Rejection> {
        EventDecoder(limits: limits).decode(try JSONParser.parse(Array(json.utf8)), index: 0, receivedAt: now)
    }

    @Test func derivedIDsAreStableAndDistinct() {
        let a = EventDecoder.derivedEventID(requestID: "r", stepIndex: nil)
        #expect(a == EventDecoder.derivedEventID(requestID: "r", stepIndex: nil))
        #expect(a != EventDecoder.derivedEventID(requestID: "r", stepIndex: 0))
        #expect(EventDecoder.derivedEventID(requestID: "r", stepIndex: 1) != EventDecoder.derivedEventID(requestID: "r", stepIndex: 2))
    }

    @Test func fullEventDecodes() throws {
        let event = try decode("""
            {"request_id":"r1","timestamp":1764000000123,"user_id":"u","feature":"f","provider":"OpenAI","model":"gpt-4o",
             "tokens_in":100,"tokens_out":20,"cached_tokens":50,"cache_write_tokens":10,"latency_ms":120.5,"ttft_ms":30,
             "http_status":429,"retries":3,"fallback_triggered":true,"tags":["a","b"],"step_index":2,"step_type":"llm_call",
             "custom":{"x":1},"metadata":{"team":"core"}}
            """).get()
        #expect(event.timestamp == Date(timeIntervalSince1970: 1_764_000_000.123))
        #expect(event.provider == "openai")
        #expect(event.usage == TokenUsage(input: 100, output: 20, cachedInput: 50, cacheWrite: 10))
        #expect(event.status == .error)  // inferred from http_status 429
        #expect(event.retries == 3)
        #expect(event.fallbackTriggered)
        #expect(event.tags == ["a", "b"])
        #expect(event.metadata == #"{"team":"core","custom":{"x":1}}"#)
        #expect(event.eventID == EventDecoder.derivedEventID(requestID: "r1", stepIndex: 2))
    }

    @Test(arguments: [
        (#"{"request_id":"r","tokens_in":1.5}"#, "tokens_in"),
        (#"{"request_id":"r","tokens_in":"3"}"#, "tokens_in"),
        (#"{"request_id":"r","event_id":"nope"}"#, "event_id"),
        (#"{"request_id":"r","ttft_ms":50,"latency_ms":10}"#, "ttft_ms"),
        (#"{"request_id":"r","fallback_triggered":"yes"}"#, "fallback_triggered"),
        (#"{"request_id":"r","user_id":"a\u0001b"}"#, "user_id"),
        (#"{"request_id":"r","timestamp":"1999-12-31T23:59:59Z"}"#, "timestamp"),
        (#"{"request_id":"r","tags":[1]}"#, "tags"),
        (#"{"request_id":7}"#, "request_id"),
    ])
    func invalidFieldsAreNamed(json: String, field: String) throws {
        guard case .failure(let rejection) = try decode(json) else { Issue.record("accepted \(json)"); return }
        #expect(rejection.field == field)
    }

    @Test func textIsCutAtTheCapOnACharacterBoundary() throws {
        var limits = IngestLimits()
        limits.textCapBytes = 5
        let event = try decode(#"{"request_id":"r","prompt":"aé€bcd","response":[{"role":"assistant"}]}"#, limits: limits).get()
        #expect(event.text?.prompt == "aé")        // 1 + 2 bytes; the 3-byte € would pass the cap
        #expect(event.text?.truncated == true)
        #expect(event.text?.response == "[{\"ro")
    }

    @Test func nulNeverReachesStorage() throws {
        let event = try decode(#"{"request_id":"r","prompt":"a\u0000b","metadata":{"k\u0000":"v\u0000"}}"#).get()
        #expect(event.text?.prompt == "a\u{FFFD}b")
        #expect(event.metadata?.contains("\\u0000") == false)
    }

    @Test func bodyShapes() throws {
        let decoder = EventDecoder()
        let one = try decoder.decodeBody(Array(#"{"request_id":"a"}"#.utf8), contentType: "application/json", receivedAt: now)
        let array = try decoder.decodeBody(Array(#"[{"request_id":"a"},{"request_id":"b"}]"#.utf8), contentType: nil, receivedAt: now)
        let wrapped = try decoder.decodeBody(Array(#"{"events":[{"request_id":"a"}]}"#.utf8), contentType: "application/json; charset=utf-8", receivedAt: now)
        let lines = try decoder.decodeBody(Array("{\"request_id\":\"a\"}\n\n{bad\n{\"request_id\":\"c\"}\n".utf8), contentType: "application/x-ndjson", receivedAt: now)
        #expect(one.events.count == 1)
        #expect(array.events.count == 2)
        #expect(wrapped.events.count == 1)
        #expect(lines.events.count == 2)
        #expect(lines.rejections.count == 1)
        #expect(throws: BodyError.self) { try decoder.decodeBody(Array("42".utf8), contentType: nil, receivedAt: now) }
        #expect(throws: BodyError.self) { try decoder.decodeBody(Array("{}".utf8), contentType: "text/plain", receivedAt: now) }
    }
}

struct FieldTrimmingTests {
    @Test(arguments: [
        (" a ", "a"), ("a", "a"), ("\ta b\t", "a b"), ("\u{00A0}x\u{3000}", "x"), ("   ", ""), ("a\n", "a\n"), ("é ", "é"),
    ])
    func spacesAreTrimmedLikeFoundation(input: String, expected: String) {
        #expect(FieldReader.trimmingSpaces(input) == expected)
        #expect(FieldReader.trimmingSpaces(input) == input.trimmingCharacters(in: .whitespaces))
    }
}
