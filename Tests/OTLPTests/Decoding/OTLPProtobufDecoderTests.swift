import Testing
@testable import OTLP

struct OTLPProtobufDecoderTests {
    let decoder = OTLPProtobufDecoder()

    @Test func decodesThePythonSDKTraceFixture() throws {
        let request = try decoder.decodeTraces(try Fixtures.bytes("python-sdk-traces-1.pb"))
        #expect(request.spanCount == 5)
        let resource = try #require(request.resourceSpans.first)
        #expect(resource.resource.contains(OTLPAttribute("service.name", .string("support-bot"))))
        #expect(resource.scopeSpans.map(\.scope.name) == ["opentelemetry.instrumentation.openai_v2", "opentelemetry.instrumentation.anthropic"])
        let chat = try #require(resource.scopeSpans[0].spans.first)
        #expect(chat.traceID == Fixtures.traceID)
        #expect(chat.spanID == SpanID(0x1002))
        #expect(chat.parentSpanID == SpanID(0x1001))
        #expect(chat.name == "chat gpt-4o-mini")
        #expect(chat.spanKind == .client)
        #expect(chat.startTimeUnixNano == 1_764_000_000_010_000_000)
        #expect(chat.endTimeUnixNano == 1_764_000_000_850_000_000)
        #expect(chat.attributes.contains(OTLPAttribute("gen_ai.usage.input_tokens", .int(1200))))
        #expect(chat.attributes.contains(OTLPAttribute("gen_ai.response.finish_reasons", .array([.string("stop")]))))
        #expect(chat.events == [OTLPSpanEvent(timeUnixNano: 1_764_000_000_260_000_000, name: "gen_ai.first_token")])
        #expect(chat.invalid == nil)
        let failed = try #require(resource.scopeSpans[0].spans.first { $0.spanID == SpanID(0x1005) })
        #expect(failed.status == .error)
        #expect(failed.statusMessage == "Error code: 429")
        let root = try #require(resource.scopeSpans[0].spans.first { $0.spanID == SpanID(0x1001) })
        #expect(root.parentSpanID == nil)
    }

    @Test func decodesThePythonSDKLogsFixture() throws {
        let request = try decoder.decodeLogs(try Fixtures.bytes("python-sdk-logs-1.pb"))
        #expect(request.recordCount == 2)
        let records = request.resourceLogs.flatMap(\.scopeLogs).flatMap(\.logRecords)
        #expect(records.map(\.eventName) == ["gen_ai.user.message", "gen_ai.choice"])
        #expect(records[0].traceID == Fixtures.traceID)
        #expect(records[0].spanID == SpanID(0x1002))
        #expect(records[0].body == .kvlist([OTLPAttribute("content", .string("Where is my order 42?"))]))
    }

    @Test func encodingThenDecodingGivesTheSameRequest() throws {
        let original = try decoder.decodeTraces(try Fixtures.bytes("python-sdk-traces-1.pb"))
        #expect(try decoder.decodeTraces(OTLPProtobufEncoder.encode(original)) == original)
        let logs = try decoder.decodeLogs(try Fixtures.bytes("python-sdk-logs-1.pb"))
        #expect(try decoder.decodeLogs(OTLPProtobufEncoder.encode(logs)) == logs)
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        var span = SpanBuilder.span(7, name: "with extras", ["k": .string("v")])
        span.events = [OTLPSpanEvent(timeUnixNano: 5, name: "e")]
        let plain = OTLPProtobufEncoder.encode(SpanBuilder.request([span]))
        func extras(_ w: inout ProtobufWriter) {
            w.varint(900, 1)
            w.fixed64(901, 2)
            w.fixed32(902, 3)
            w.string(903, "future")
            w.message(904) { $0.varint(1, 4) }
        }
        // The same request with unknown fields added at the request, resource-spans and span level.
        var writer = ProtobufWriter()
        extras(&writer)
        writer.message(1) { rs in
            extras(&rs)
            rs.message(2) { ss in
                ss.message(2) { s in
                    extras(&s)
                    s.data(1, Fixtures.traceID.bytes)
                    s.data(2, SpanID(7).bytes)
                    s.string(5, "with extras")
                    s.int(6, OTLPSpan.Kind.internal.rawValue)
                    s.fixed64(7, span.startTimeUnixNano)
                    s.fixed64(8, span.endTimeUnixNano)
                    s.message(9) { kv in kv.string(1, "k"); kv.message(2) { $0.string(1, "v"); extras(&$0) }; extras(&kv) }
                    s.message(11) { e in e.fixed64(1, 5); e.string(2, "e"); extras(&e) }
                    extras(&s)
                }
            }
        }
        let withExtras = try decoder.decodeTraces(writer.bytes)
        #expect(withExtras == (try decoder.decodeTraces(plain)))
        #expect(withExtras.spanCount == 1)
    }

    @Test func everyTruncationOfTheFixtureIsAnErrorOrAShorterRequest() throws {
        let bytes = try Fixtures.bytes("python-sdk-traces-1.pb")
        var errors = 0
        for length in 0..<bytes.count {
            do {
                let request = try decoder.decodeTraces(Array(bytes.prefix(length)))
                #expect(request.spanCount <= 5)
            } catch {
                errors += 1
            }
        }
        // A cut inside the one top-level message is always caught (its length prefix overruns).
        #expect(errors >= bytes.count - 2)
    }

    @Test(arguments: ["python-sdk-traces-1.json", "python-sdk-logs-1.json", "python-sdk-traces-gzip-1.pb.gz", "capture.py"])
    func otherBytesAreAnErrorOrNothingNeverACrash(name: String) throws {
        let bytes = try Fixtures.bytes(name)
        _ = try? decoder.decodeTraces(bytes)
        _ = try? decoder.decodeLogs(bytes)
    }

    @Test(arguments: ["python-sdk-traces-1.pb", "python-sdk-logs-1.pb"])
    func everyCorruptedByteOfTheFixturesIsSurvived(name: String) throws {
        for bytes in corruptions(of: try Fixtures.bytes(name)) {
            _ = try? decoder.decodeTraces(bytes)
            _ = try? decoder.decodeLogs(bytes)
        }
    }

    @Test func wrongWireTypeForAKnownFieldIsMalformed() {
        var writer = ProtobufWriter()
        writer.varint(1, 5)   // resource_spans must be length-delimited
        #expect(throws: OTLPDecodingError.self) { try decoder.decodeTraces(writer.bytes) }
    }

    @Test func idsOfTheWrongLengthMarkOnlyTheirSpan() throws {
        var writer = ProtobufWriter()
        writer.message(1) { rs in
            rs.message(2) { ss in
                ss.message(2) { s in s.data(1, [1, 2, 3, 4]); s.data(2, SpanID(1).bytes) }
                ss.message(2) { s in s.data(1, Fixtures.traceID.bytes); s.data(2, [1, 2]) }
                ss.message(2) { s in s.data(1, Fixtures.traceID.bytes); s.data(2, SpanID(3).bytes); s.data(4, [9]) }
                ss.message(2) { s in s.data(1, Fixtures.traceID.bytes) }
                ss.message(2) { s in s.data(1, Fixtures.traceID.bytes); s.data(2, SpanID(5).bytes); s.data(4, []) }
            }
        }
        let spans = try decoder.decodeTraces(writer.bytes).resourceSpans[0].scopeSpans[0].spans
        #expect(spans.map(\.invalid) == [
            "trace_id must be 16 bytes, got 4", "span_id must be 8 bytes, got 2",
            "parent_span_id must be empty or 8 bytes, got 1", "span_id is missing", nil,
        ])
    }

    @Test func tooManySpansIsRefusedAndTooManyAttributesDropped() throws {
        var limits = OTLPDecodingLimits()
        limits.maxItems = 3
        limits.maxAttributesPerItem = 2
        let spans = (1...4).map { SpanBuilder.span(UInt64($0), ["a": .int(1), "b": .int(2), "c": .int(3)]) }
        #expect(throws: OTLPDecodingError.tooManyItems(4, limit: 3)) {
            try OTLPProtobufDecoder(limits: limits).decodeTraces(OTLPProtobufEncoder.encode(SpanBuilder.request(spans)))
        }
        let decoded = try OTLPProtobufDecoder(limits: limits).decodeTraces(OTLPProtobufEncoder.encode(SpanBuilder.request(Array(spans.prefix(1)))))
        let span = decoded.resourceSpans[0].scopeSpans[0].spans[0]
        #expect(span.attributes.map(\.key) == ["a", "b"])
        #expect(span.droppedAttributes == 1)
    }

    @Test func deeplyNestedValuesAreRefused() {
        var value = OTLPValue.string("leaf")
        for _ in 0..<40 { value = .array([value]) }
        let bytes = OTLPProtobufEncoder.encode(SpanBuilder.request([SpanBuilder.span(1, ["deep": value])]))
        #expect(throws: OTLPDecodingError.self) { try decoder.decodeTraces(bytes) }
    }
}
