import Testing
@testable import OTLP

struct OTLPJSONDecoderTests {
    let decoder = OTLPJSONDecoder()

    private func spans(_ json: String) throws -> [OTLPSpan] {
        try decoder.decodeTraces(Array(json.utf8)).resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans)
    }

    private func span(_ fields: String, attributes: String = "[]") throws -> OTLPSpan {
        let spans = try spans(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{\#(fields), "attributes": \#(attributes)}]}]}]}"#)
        return try #require(spans.first)
    }

    static let ids = #""traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"0000000000001002""#

    @Test func theJSONFixtureDecodesToTheSameRequestAsItsProtobuf() throws {
        let json = try decoder.decodeTraces(try Fixtures.bytes("python-sdk-traces-1.json"))
        let protobuf = try OTLPProtobufDecoder().decodeTraces(try Fixtures.bytes("python-sdk-traces-1.pb"))
        #expect(json == protobuf)
        let jsonLogs = try decoder.decodeLogs(try Fixtures.bytes("python-sdk-logs-1.json"))
        #expect(jsonLogs == (try OTLPProtobufDecoder().decodeLogs(try Fixtures.bytes("python-sdk-logs-1.pb"))))
    }

    @Test(arguments: [
        (#"{"intValue":"1200"}"#, OTLPValue.int(1200)), (#"{"intValue":1200}"#, .int(1200)),
        (#"{"intValue":"-9223372036854775808"}"#, .int(.min)), (#"{"doubleValue":0.5}"#, .double(0.5)),
        (#"{"doubleValue":"NaN"}"#, .double(.nan)), (#"{"boolValue":true}"#, .bool(true)),
        (#"{"stringValue":"a\u0000b"}"#, .string("a\u{FFFD}b")), (#"{"bytesValue":"AAE="}"#, .bytes([0, 1])),
        (#"{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"x"}]}}"#, .array([.int(1), .string("x")])),
        (#"{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}"#, .kvlist([OTLPAttribute("k", .bool(false))])),
        (#"{}"#, .empty), (#"{"futureValue":1}"#, .empty), (#"{"int_value":"7"}"#, .int(7)),
    ])
    func readsEveryValueForm(json: String, expected: OTLPValue) throws {
        let value = try span(Self.ids, attributes: #"[{"key":"a","value":\#(json)}]"#).attributes.first?.value ?? .empty
        if case .double(let d) = expected, d.isNaN {
            guard case .double(let got) = value else { Issue.record("\(value)"); return }
            #expect(got.isNaN)
        } else {
            #expect(value == expected)
        }
    }

    @Test(arguments: [#"{"intValue":"12x"}"#, #"{"intValue":1.5}"#, #"{"intValue":"9223372036854775808"}"#,
                      #"{"stringValue":5}"#, #"{"boolValue":"true"}"#, #"{"bytesValue":"%%%"}"#, #""plain""#])
    func refusesValuesOfTheWrongType(json: String) {
        #expect(throws: OTLPDecodingError.self) { try span(Self.ids, attributes: #"[{"key":"a","value":\#(json)}]"#) }
    }

    @Test func timesAsStringsOrNumbersEnumsAsIntsOrNames() throws {
        let a = try span(Self.ids + #","kind":3,"startTimeUnixNano":"1764000000010000000","endTimeUnixNano":1764000000850000000,"status":{"code":2,"message":"boom"}"#)
        let b = try span(Self.ids + #","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":1764000000010000000,"endTimeUnixNano":"1764000000850000000","status":{"code":"STATUS_CODE_ERROR","message":"boom"}"#)
        #expect(a == b)
        #expect(a.spanKind == .client)
        #expect(a.status == .error)
        #expect(a.startTimeUnixNano == 1_764_000_000_010_000_000)
        #expect(a.endTimeUnixNano == 1_764_000_000_850_000_000)
    }

    @Test func idsInUpperCaseHexOrBase64() throws {
        let upper = try span(#""traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"0000000000001002""#)
        let base64 = try span(#""traceId":"CvdlGRbNQ92ESOshHIAxnA==","spanId":"AAAAAAAAEAI=""#)
        #expect(upper.traceID == Fixtures.traceID)
        #expect(base64.traceID == Fixtures.traceID)
        #expect(base64.spanID == SpanID(0x1002))
    }

    @Test(arguments: [
        (#""traceId":"abc","spanId":"0000000000001002""#, "traceId must be 32 hex digits"),
        (#""traceId":"0af7651916cd43dd8448eb211c80319c""#, "spanId is missing"),
        (#""traceId":7,"spanId":"0000000000001002""#, "traceId must be a string of 32 hex digits"),
        (ids + #","parentSpanId":"zz""#, "parentSpanId must be empty or 16 hex digits"),
        (ids + #","startTimeUnixNano":"-1""#, "startTimeUnixNano must be an unsigned integer"),
    ])
    func badIdsAndTimesMarkOnlyTheSpan(fields: String, problem: String) throws {
        #expect(try span(fields).invalid == problem)
    }

    @Test func unknownFieldsAndNullsAreIgnoredProtoNamesAccepted() throws {
        let spans = try spans("""
            {"resource_spans":[{"resource":null,"futureField":{"x":[1,2]},"scope_spans":[{"scope":{"name":"s","extra":1},
              "spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"0000000000001002","parent_span_id":"",
                        "start_time_unix_nano":"1","end_time_unix_nano":"2","links":[{"traceId":"x"}],"attributes":null,"newThing":true}]}]}]}
            """)
        #expect(spans.count == 1)
        #expect(spans[0].invalid == nil)
        #expect(spans[0].parentSpanID == nil)
        #expect(spans[0].endTimeUnixNano == 2)
    }

    @Test(arguments: ["", "{", "[]", "null", #"{"resourceSpans":5}"#, #"{"resourceSpans":[1]}"#,
                      #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"events":{}}]}]}]}"#])
    func malformedDocumentsThrow(json: String) {
        #expect(throws: OTLPDecodingError.self) { try decoder.decodeTraces(Array(json.utf8)) }
    }

    @Test func invalidUTF8IsMalformed() {
        #expect(throws: OTLPDecodingError.self) { try decoder.decodeTraces(Array(#"{"a":""#.utf8) + [0xff] + Array(#""}"#.utf8)) }
    }

    @Test func everyTruncationAndCorruptedByteIsSurvived() throws {
        let original = try Fixtures.bytes("python-sdk-traces-1.json")
        for length in 0..<original.count {
            #expect(throws: OTLPDecodingError.self) { try decoder.decodeTraces(Array(original.prefix(length))) }
        }
        for bytes in corruptions(of: original, replacements: [{ _ in 0x22 }, { _ in 0x7d }, { $0 ^ 0x80 }]) {
            _ = try? decoder.decodeTraces(bytes)
            _ = try? decoder.decodeLogs(bytes)
        }
    }

    @Test func protobufBodiesAreMalformedJSON() throws {
        #expect(throws: OTLPDecodingError.self) { try decoder.decodeTraces(try Fixtures.bytes("python-sdk-traces-1.pb")) }
        #expect(throws: OTLPDecodingError.self) { try decoder.decodeLogs(try Fixtures.bytes("python-sdk-logs-1.pb")) }
    }

    @Test func logRecordsKeepObservedTimeAndMayLackIds() throws {
        let request = try decoder.decodeLogs(Array("""
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[
              {"timeUnixNano":"0","observedTimeUnixNano":"1764000000850000000","eventName":"gen_ai.choice","body":{"stringValue":"hi"}},
              {"traceId":"","spanId":"","body":{"kvlistValue":{"values":[]}}},
              {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"12"}
            ]}]}]}
            """.utf8))
        let records = request.resourceLogs[0].scopeLogs[0].logRecords
        #expect(records[0].observedTimeUnixNano == 1_764_000_000_850_000_000)
        #expect(records[0].timeUnixNano == 0)
        #expect(records[1].traceID == nil && records[1].invalid == nil)
        #expect(records[2].invalid == "spanId must be 16 hex digits")
    }
}
