import Foundation
import Testing
import TokenmeterCore
@testable import OTLP

/// Step types, the request tree, errors, TTFT and attribution inheritance.
struct SpanMapperTests {
    let trace = Fixtures.traceID.hex

    @Test(arguments: [
        (["gen_ai.operation.name": OTLPValue.string("chat")], "llm_call"),
        (["gen_ai.operation.name": .string("execute_tool")], "tool_call"),
        (["gen_ai.operation.name": .string("invoke_agent")], "agent"),
        (["gen_ai.operation.name": .string("embeddings")], "embedding"),
        (["openinference.span.kind": .string("RETRIEVER")], "retrieval"),
        (["openinference.span.kind": .string("chain")], "chain"),
        (["openinference.span.kind": .string("TOOL")], "tool_call"),
        (["openinference.span.kind": .string("AGENT")], "agent"),
        (["traceloop.span.kind": .string("workflow")], "chain"),
        (["traceloop.span.kind": .string("tool")], "tool_call"),
        (["llm.request.type": .string("chat")], "llm_call"),
        (["langfuse.observation.type": .string("retriever")], "retrieval"),
        (["langfuse.observation.type": .string("generation")], "llm_call"),
        (["ai.operationId": .string("ai.toolCall")], "tool_call"),
        (["ai.operationId": .string("ai.generateText")], "chain"),
        (["gen_ai.usage.input_tokens": .int(5)], "llm_call"),
        (["http.method": .string("POST")], "span"),
    ])
    func spanKindAttributesDecideTheStepType(attributes: [String: OTLPValue], stepType: String) throws {
        #expect(try SpanBuilder.event(attributes).event.stepType == stepType)
    }

    @Test func wrapperSpansThatRepeatUsageAreNotCalls() throws {
        // An agent span carrying its children's total, and a Vercel outer span repeating its doGenerate child.
        for attributes: [String: OTLPValue] in [
            ["gen_ai.operation.name": .string("invoke_agent"), "gen_ai.request.model": .string("gpt-4o"), "gen_ai.usage.input_tokens": .int(900)],
            ["ai.operationId": .string("ai.generateText"), "ai.model.id": .string("gpt-4o"), "ai.usage.promptTokens": .int(900)],
        ] {
            let event = try SpanBuilder.event(attributes).event
            #expect(event.usage == TokenUsage(input: 0, output: 0, cachedInput: 0, cacheWrite: 0))
            #expect(event.model == nil)
        }
    }

    @Test func traceAndParentIdsBuildTheRequestTree() throws {
        var remote = SpanBuilder.span(4, parent: 99)
        remote.flags = 0x300   // parent known to be in another process
        let mapping = SpanBuilder.map([SpanBuilder.span(1), SpanBuilder.span(2, parent: 1), SpanBuilder.span(3, parent: 2), remote])
        let events = mapping.spans.map(\.event)
        #expect(events.map(\.requestID) == (1...4).map { "\(trace)-\(SpanID(UInt64($0)).hex)" })
        #expect(events.map(\.parentRequestID) == [trace, "\(trace)-0000000000000001", "\(trace)-0000000000000002", trace])
        #expect(events.allSatisfy { $0.traceID == trace })
        // The event id is derived from the span, so a re-sent span is the same event.
        #expect(SpanBuilder.map([SpanBuilder.span(2, parent: 1)]).spans[0].event.eventID == events[1].eventID)
    }

    @Test func latencyAndTimestampComeFromTheSpanTimes() throws {
        let event = try SpanBuilder.event([:], durationMs: 840).event
        #expect(event.latencyMs == 840)
        #expect(event.timestamp == Date(timeIntervalSince1970: 1_795_000_000))
    }

    @Test(arguments: [
        ([String: OTLPValue](), [OTLPSpanEvent(timeUnixNano: SpanBuilder.start + 250_000_000, name: "gen_ai.first_token")], 250.0),
        ([:], [OTLPSpanEvent(timeUnixNano: SpanBuilder.start + 300_000_000, name: "llm.content.completion.chunk"),
               OTLPSpanEvent(timeUnixNano: SpanBuilder.start + 120_000_000, name: "llm.content.completion.chunk")], 120.0),
        (["gen_ai.server.time_to_first_token": .double(0.25)], [], 250.0),
        (["gen_ai.response.time_to_first_chunk": .double(0.5)], [], 500.0),
        (["ai.response.msToFirstChunk": .double(75)], [], 75.0),
        (["langfuse.observation.completion_start_time": .string("\"2026-11-18T11:06:40.400Z\"")], [], 400.0),
    ])
    func timeToFirstToken(attributes: [String: OTLPValue], events: [OTLPSpanEvent], ttft: Double) throws {
        var span = SpanBuilder.span(1, attributes)
        span.events = events
        let event = try #require(SpanBuilder.map([span]).spans.first).event
        #expect(abs((event.ttftMs ?? -1) - ttft) < 0.001)
    }

    @Test func ttftLongerThanTheSpanIsDropped() throws {
        #expect(try SpanBuilder.event(["gen_ai.server.time_to_first_token": .double(5)], durationMs: 1000).event.ttftMs == nil)
    }

    @Test func errorsFromStatusErrorTypeExceptionOrLangfuseLevel() throws {
        var failed = SpanBuilder.span(1)
        failed.statusCode = OTLPSpan.StatusCode.error.rawValue
        failed.events = [OTLPSpanEvent(timeUnixNano: SpanBuilder.start, name: "exception",
                                       attributes: [OTLPAttribute("exception.type", .string("openai.RateLimitError"))])]
        let fromStatus = try #require(SpanBuilder.map([failed]).spans.first).event
        #expect(fromStatus.status == .error)
        #expect(fromStatus.errorType == "openai.RateLimitError")
        let fromType = try SpanBuilder.event(["error.type": .string("timeout"), "http.response.status_code": .int(504)]).event
        #expect(fromType.status == .error)
        #expect(fromType.errorType == "timeout")
        #expect(fromType.httpStatus == 504)
        #expect(try SpanBuilder.event(["langfuse.observation.level": .string("ERROR")]).event.status == .error)
        #expect(try SpanBuilder.event(["gen_ai.operation.name": .string("chat")]).event.status == .ok)
    }

    @Test func attributionIsInheritedFromAncestorsThenTheResource() throws {
        let root = SpanBuilder.span(1, ["user.id": .string("u-1"), "session.id": .string("s-1"), "traceloop.workflow.name": .string("support")])
        let middle = SpanBuilder.span(2, parent: 1, ["user.id": .string("u-2")])
        let leaf = SpanBuilder.span(3, parent: 2, ["gen_ai.operation.name": .string("chat")])
        let orphan = SpanBuilder.span(4, parent: 77)
        let events = SpanBuilder.map([leaf, middle, root, orphan], resource: ["service.name": .string("bot"), "deployment.environment": .string("staging")])
            .spans.map(\.event)
        #expect(events[0].userID == "u-2", "the nearest ancestor wins")
        #expect(events[0].sessionID == "s-1")
        #expect(events[0].feature == "support")
        #expect(events[0].environment == "staging")
        #expect(events[3].feature == "bot", "service.name fills in when no span names a feature")
        #expect(events[3].userID == nil)
    }

    @Test func unknownServiceIsNotAFeatureAndAConfiguredAttributeWins() throws {
        let unknown = SpanBuilder.map([SpanBuilder.span(1)], resource: ["service.name": .string("unknown_service:python")])
        #expect(unknown.spans[0].event.feature == nil)
        let configured = SpanBuilder.map([SpanBuilder.span(1, ["app.feature": .string("search"), "gen_ai.agent.name": .string("agent")])],
                                         options: OTLPMappingOptions(featureAttribute: "app.feature"))
        #expect(configured.spans[0].event.feature == "search")
    }

    @Test func conventionsForAttribution() throws {
        let cases: [([String: OTLPValue], user: String?, session: String?, feature: String?)] = [
            (["traceloop.association.properties.user_id": .string("u"), "traceloop.association.properties.session_id": .string("s")], "u", "s", nil),
            (["langfuse.user.id": .string("u"), "langfuse.session.id": .string("s"), "langfuse.trace.name": .string("f")], "u", "s", "f"),
            (["user.id": .string("\"u\""), "session.id": .string("s")], "u", "s", nil),   // Langfuse JSON-encodes values
            (["enduser.id": .string("u"), "gen_ai.conversation.id": .string("c"), "gen_ai.agent.name": .string("a")], "u", "c", "a"),
            (["ai.telemetry.metadata.userId": .string("u"), "ai.telemetry.metadata.sessionId": .string("s"), "ai.telemetry.functionId": .string("f")], "u", "s", "f"),
        ]
        for (attributes, user, session, feature) in cases {
            let event = try SpanBuilder.event(attributes).event
            #expect(event.userID == user, "\(attributes)")
            #expect(event.sessionID == session, "\(attributes)")
            #expect(event.feature == feature, "\(attributes)")
        }
    }

    @Test func tagsMetadataAndText() throws {
        let event = try SpanBuilder.event([
            "langfuse.trace.tags": .string(#"["beta","vip"]"#), "langfuse.trace.metadata.plan": .string("\"pro\""),
            "gen_ai.prompt.0.role": .string("user"), "gen_ai.prompt.0.content": .string("hi"),
            "gen_ai.completion.0.content": .string("hello"), "gen_ai.operation.name": .string("chat"),
        ]).event
        #expect(event.tags == ["beta", "vip"])
        #expect(event.text?.prompt == #"[{"content":"hi","role":"user"}]"#)
        #expect(event.text?.response == #"[{"content":"hello"}]"#)
        let metadata = try #require(event.metadata)
        #expect(metadata.contains(#""plan":"pro""#), "\(metadata)")
        #expect(metadata.contains(#""otel.span_name":"span""#), "\(metadata)")
    }

    @Test func toolSpansKeepArgumentsAndResults() throws {
        let event = try SpanBuilder.event(["openinference.span.kind": .string("TOOL"), "tool.name": .string("lookup"),
                                           "input.value": .string(#"{"id":1}"#), "output.value": .string("found")]).event
        #expect(event.toolName == "lookup")
        #expect(event.text?.toolInput == #"{"id":1}"#)
        #expect(event.text?.toolOutput == "found")
        #expect(event.text?.prompt == nil)
    }

    @Test(arguments: [
        (UInt64(0), UInt64(1), "start_time_unix_nano is missing"),
        (SpanBuilder.start, SpanBuilder.start - 1, "end_time_unix_nano is before start_time_unix_nano"),
        (UInt64(900_000_000_000_000_000), UInt64(900_000_000_000_000_001), "start time is out of range (2000-01-01 up to 24 hours ahead of the server clock)"),
        (SpanBuilder.start, SpanBuilder.start + 100_000_000_000_000, "the span lasts longer than 86400 s"),
    ])
    func impossibleTimesRejectTheSpan(start: UInt64, end: UInt64, reason: String) {
        var span = SpanBuilder.span(1)
        span.startTimeUnixNano = start
        span.endTimeUnixNano = end
        let mapping = SpanBuilder.map([span, SpanBuilder.span(2)])
        #expect(mapping.rejections.map(\.reason) == [reason])
        #expect(mapping.spans.count == 1, "the good span beside it is kept")
        #expect(mapping.rejectionMessage.hasPrefix("1 of 2 spans rejected; span 0000000000000001: "))
    }

    @Test func controlCharactersInIdsRejectTheSpan() {
        let mapping = SpanBuilder.map([SpanBuilder.span(1, ["user.id": .string("a\u{1}b")])])
        #expect(mapping.rejections.first?.reason == "attribute user.id must not contain control characters")
    }

    @Test func theFixtureTraceMapsToFiveSteps() throws {
        let mapping = SpanMapper().map(try Fixtures.traces("python-sdk-traces-1.pb"), receivedAt: SpanBuilder.now)
        #expect(mapping.rejections.isEmpty)
        #expect(mapping.spans.compactMap(\.event.stepType).sorted() == ["agent", "llm_call", "llm_call", "llm_call", "tool_call"])
        #expect(mapping.spans.allSatisfy { $0.event.feature == "triage" && $0.event.environment == "prod" })
    }
}
