import Foundation
import JSON
import OTLP
import Postgres
import Store
import Testing

/// OTLP/HTTP traces → `/v1/usage` and `/v1/requests/{trace id}` on a real server and Postgres.
///
/// The fixture trace (Tests/OTLPTests/Fixtures/capture.py, the real Python SDK and exporter) is an
/// agent run on 2025-11-24: an OpenAI chat, a tool call, an Anthropic chat (OpenLLMetry names) and
/// a failed OpenAI chat. Its bill, by hand (USD per 1M tokens from prices.json):
/// - gpt-4o-mini (0.15 in, 0.075 cached, 0.60 out): 1200 input of which 200 cached, 300 output:
///   1000×0.15 + 200×0.075 + 300×0.60 = 345 µ$ → 0.000345
/// - claude-3-5-sonnet (3.00 in, 0.30 cache read, 3.75 cache write, 15.00 out): input 4500 holds
///   3000 cache reads and 500 cache writes (OpenLLMetry adds them in), 200 output:
///   1000×3 + 3000×0.30 + 500×3.75 + 200×15 = 8775 µ$ → 0.008775
/// - the failed chat has no usage: 0. Total 0.00912.
@Suite(.serialized)
struct OTLPIngestTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    static let day = "from=2025-11-24T00:00:00Z&to=2025-11-25T00:00:00Z"

    private func expectFixtureTrace(_ label: String) throws {
        let models = try server.usageRows("\(Self.day)&group_by=model")
        let mini = try #require(models.first { $0.string("model") == "gpt-4o-mini-2024-07-18" }, "\(label): \(models)")
        #expect(mini.int("tokens_in") == 1200)
        #expect(mini.int("cached_tokens") == 200)
        #expect(mini.int("tokens_out") == 300)
        #expect(mini.decimal("cost_usd") == "0.000345")
        let claude = try #require(models.first { $0.string("model") == "claude-3-5-sonnet-20241022" }, "\(label)")
        #expect(claude.int("tokens_in") == 4500)
        #expect(claude.int("cached_tokens") == 3000)
        #expect(claude.int("cache_write_tokens") == 500)
        #expect(claude.int("tokens_out") == 200)
        #expect(claude.decimal("cost_usd") == "0.008775")

        let steps = try server.usageRows("\(Self.day)&group_by=step_type,feature,environment,provider")
        let calls = steps.filter { $0.string("step_type") == "llm_call" }
        #expect(calls.reduce(0) { $0 + ($1.int("calls") ?? 0) } == 3, "\(label)")
        #expect(calls.reduce(0) { $0 + ($1.int("errors") ?? 0) } == 1)
        #expect(Set(steps.compactMap { $0.string("feature") }) == ["triage"], "attribution comes from the agent span")
        #expect(Set(steps.compactMap { $0.string("environment") }) == ["prod"], "environment comes from the resource")
        #expect(Set(calls.compactMap { $0.string("provider") }) == ["openai", "anthropic"])
        #expect(steps.first { $0.string("step_type") == "tool_call" }?.int("calls") == 1)
        #expect(steps.first { $0.string("step_type") == "agent" }?.decimal("cost_usd") == "0")

        let tree = try server.requestTree(OTLPFixture.traceID)
        let totals = try #require(tree.object("totals"))
        #expect(totals.int("events") == 5, "\(label)")
        #expect(totals.int("tokens_in") == 5700)
        #expect(totals.int("tokens_out") == 500)
        #expect(totals.int("cached_tokens") == 3200)
        #expect(totals.int("errors") == 1)
        #expect(totals.decimal("cost_usd") == "0.00912")
        #expect(totals.int("unpriced_events") == 0)
        let top = try #require(tree.object("root"))
        #expect(top.string("request_id") == OTLPFixture.traceID)
        #expect(top.objects("steps").isEmpty, "the trace id is a node without events of its own")
        let root = try #require(top.objects("children").first)
        #expect(root.string("request_id") == "\(OTLPFixture.traceID)-0000000000001001")
        #expect(root.objects("steps").first?.string("step_type") == "agent")
        #expect(root.objects("children").count == 4, "the four spans under the agent are its children")
        let chat = try #require(allSteps(top).first { $0.string("request_id") == "\(OTLPFixture.traceID)-0000000000001002" })
        #expect(chat.int("ttft_ms") == 250)
        #expect(chat.int("latency_ms") == 840)
        #expect(chat.string("user_id") == "u-42")
        #expect(chat.string("session_id") == "conv-7")
        let failed = try #require(allSteps(top).first { $0.string("request_id") == "\(OTLPFixture.traceID)-0000000000001005" })
        #expect(failed.string("status") == "error")
        #expect(failed.string("error_type") == "<class 'openai.RateLimitError'>")
    }

    @Test func protobufTraceLandsWithExactNumbers() throws {
        let response = try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.pb"))
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/x-protobuf")
        #expect(response.body.isEmpty, "full success is an empty ExportTraceServiceResponse")
        try expectFixtureTrace("protobuf")
    }

    @Test func jsonTraceLandsWithExactNumbers() throws {
        let response = try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.json"), contentType: "application/json")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.json == .object(JSONObject()))
        try expectFixtureTrace("json")
    }

    @Test func gzipProtobufTraceLandsWithExactNumbers() throws {
        let response = try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-gzip-1.pb.gz"), encoding: "gzip")
        #expect(response.status == 200, "\(response.text)")
        try expectFixtureTrace("gzip")
    }

    @Test func gzipJSONTraceLandsWithExactNumbers() throws {
        let body = try Gzip.compress(try OTLPFixture.bytes("python-sdk-traces-1.json"))
        let response = try server.otlp("/v1/traces", body, contentType: "application/json; charset=utf-8", encoding: "gzip")
        #expect(response.status == 200, "\(response.text)")
        try expectFixtureTrace("gzip json")
    }

    @Test func resentExportCountsOnce() throws {
        let protobuf = try OTLPFixture.bytes("python-sdk-traces-1.pb")
        for _ in 0..<3 { #expect(try server.otlp("/v1/traces", protobuf).status == 200) }
        // The same spans in the other encoding are the same spans.
        let json = try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.json"), contentType: "application/json")
        #expect(json.status == 200)
        try expectFixtureTrace("re-sent")
        let stored = try server.sql("SELECT count(*) AS n FROM events")
        #expect(try stored.rows[0].decode(Int.self, column: "n") == 5)
    }
}

/// Partial success, refusals and their encodings.
@Suite(.serialized)
struct OTLPRefusalTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    static let trace = TraceID(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888)
    static let start: UInt64 = 1_795_000_000_000_000_000   // 2026-11-18T11:06:40Z

    static func span(_ id: UInt64, start: UInt64 = start, end: UInt64 = start + 500_000_000, trace: TraceID = trace,
                     tokens: Int64 = 100) -> OTLPSpan {
        var span = OTLPSpan()
        span.traceID = trace
        span.spanID = SpanID(id)
        span.name = "chat"
        span.startTimeUnixNano = start
        span.endTimeUnixNano = end
        span.attributes = [
            OTLPAttribute("gen_ai.operation.name", .string("chat")), OTLPAttribute("gen_ai.provider.name", .string("openai")),
            OTLPAttribute("gen_ai.request.model", .string("gpt-4o-mini")), OTLPAttribute("gen_ai.usage.input_tokens", .int(tokens)),
            OTLPAttribute("gen_ai.usage.output_tokens", .int(tokens)),
        ]
        return span
    }

    static func request(_ spans: [OTLPSpan]) -> [UInt8] {
        OTLPProtobufEncoder.encode(OTLPTraceRequest(resourceSpans: [OTLPResourceSpans(scopeSpans: [OTLPScopeSpans(spans: spans)])]))
    }

    @Test func badSpansAreRejectedAndGoodOnesBesideThemStored() throws {
        let body = Self.request([
            Self.span(1),
            Self.span(2, end: Self.start - 1),                               // ends before it starts
            Self.span(3, trace: TraceID(high: 0, low: 0)),                  // all-zero trace id
            Self.span(4, tokens: -5),                                       // negative tokens
        ])
        let response = try server.otlp("/v1/traces", body)
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/x-protobuf")
        let partial = try #require(try protobufFields(response.body)[1]?.first?.bytes)
        let fields = try protobufFields(partial)
        #expect(fields[1] == [.varint(3)], "rejected_spans")
        let message = try #require(fields[2]?.first?.text)
        #expect(message.contains("3 of 4 spans rejected"), "\(message)")
        #expect(message.contains("end_time_unix_nano is before start_time_unix_nano"), "\(message)")
        #expect(message.contains("gen_ai.usage.input_tokens must not be negative"), "\(message)")

        let rows = try server.usageRows("from=2026-11-18T00:00:00Z&to=2026-11-19T00:00:00Z")
        #expect(rows.first?.int("calls") == 1)
        #expect(rows.first?.int("tokens_in") == 100)
        // (100×0.15 + 100×0.60) / 1e6
        #expect(rows.first?.decimal("cost_usd") == "0.000075")
    }

    @Test func jsonPartialSuccessIsJSON() throws {
        let body = """
            {"resourceSpans":[{"scopeSpans":[{"spans":[
              {"traceId":"11112222333344445555666677778888","spanId":"0000000000000001","name":"chat","kind":3,
               "startTimeUnixNano":"1795000000000000000","endTimeUnixNano":1795000000500000000,
               "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
                             {"key":"gen_ai.usage.input_tokens","value":{"intValue":"100"}},
                             {"key":"gen_ai.usage.output_tokens","value":{"intValue":100}}]},
              {"traceId":"not-hex","spanId":"0000000000000002","startTimeUnixNano":"1795000000000000000","endTimeUnixNano":"1795000000000000000"}
            ]}]}]}
            """
        let response = try server.otlp("/v1/traces", Array(body.utf8), contentType: "application/json")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("Content-Type") == "application/json")
        let partial = try #require(response.json?["partialSuccess"])
        #expect(partial["rejectedSpans"] == .string("1"), "int64 is a string in proto3 JSON")
        #expect(partial["errorMessage"]?.stringValue?.contains("traceId must be 32 hex digits") == true, "\(response.text)")
        let rows = try server.usageRows("from=2026-11-18T00:00:00Z&to=2026-11-19T00:00:00Z")
        #expect(rows.first?.int("tokens_in") == 100)
        #expect(rows.first?.int("tokens_out") == 100)
    }

    @Test(arguments: [
        ([UInt8]([0xff, 0xff, 0xff]), "garbage"),
        ([0x0a, 0x05, 0x12, 0x10], "truncated"),
        ([0x0b], "a group (wire type 3)"),
    ])
    func malformedProtobufIs400InProtobuf(body: [UInt8], label: String) throws {
        let response = try server.otlp("/v1/traces", body)
        #expect(response.status == 400, "\(label): \(response.text)")
        #expect(response.header("Content-Type") == "application/x-protobuf")
        let status = try protobufFields(response.body)
        #expect(status[1] == [.varint(3)], "INVALID_ARGUMENT")
        #expect(status[2]?.first?.text?.isEmpty == false)
    }

    @Test func bodiesTheHTTPLayerRefusesAnswerInTheRequestEncodingToo() throws {
        let gzip = try Gzip.compress(Self.request([Self.span(1)]))
        let truncated = try server.otlp("/v1/traces", Array(gzip.prefix(gzip.count / 2)), encoding: "gzip")
        #expect(truncated.status == 400, "\(truncated.text)")
        #expect(truncated.header("Content-Type") == "application/x-protobuf")
        #expect(try protobufFields(truncated.body)[1] == [.varint(3)])
        let brotli = try server.otlp("/v1/logs", Array("{}".utf8), contentType: "application/json", encoding: "br")
        #expect(brotli.status == 415)
        #expect(brotli.json?["code"] == .number(JSONNumber(3)), "\(brotli.text)")
        // Other routes keep the native error body.
        let native = try server.client().send(method: "POST", path: "/v1/events", headers: [
            "Authorization": "Bearer \(server.ingestKey)", "Content-Type": "application/json", "Content-Encoding": "br"], body: Array("{}".utf8))
        #expect(native.status == 415)
        #expect(native.json?["error"] != nil)
    }

    @Test func logsSentToTheTracesPathAre400() throws {
        let response = try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-logs-1.pb"))
        #expect(response.status == 400, "\(response.text)")
        #expect(try server.sql("SELECT count(*) AS n FROM events").rows[0].decode(Int.self, column: "n") == 0)
    }

    @Test(arguments: ["{", "[]", #"{"resourceSpans":{}}"#, #"{"resourceSpans":[{"scopeSpans":[{"spans":[1]}]}]}"#])
    func malformedJSONIs400InJSON(body: String) throws {
        let response = try server.otlp("/v1/traces", Array(body.utf8), contentType: "application/json")
        #expect(response.status == 400, "\(body): \(response.text)")
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.json?["code"] == .number(JSONNumber(3)))
        #expect(response.json?["message"]?.stringValue?.isEmpty == false)
    }

    @Test func onlyBadSpansIs400() throws {
        let response = try server.otlp("/v1/traces", Self.request([Self.span(9, end: Self.start - 1)]))
        #expect(response.status == 400)
        #expect(try protobufFields(response.body)[2]?.first?.text?.contains("1 of 1 spans rejected") == true)
    }

    @Test func emptyExportIs200() throws {
        #expect(try server.otlp("/v1/traces", []).status == 200)
        #expect(try server.otlp("/v1/traces", Array("{}".utf8), contentType: "application/json").status == 200)
    }

    @Test func unsupportedContentTypeIs415() throws {
        let response = try server.otlp("/v1/traces", Array("x".utf8), contentType: "text/plain")
        #expect(response.status == 415)
        #expect(response.json?["message"]?.stringValue?.contains("application/x-protobuf") == true)
    }

    @Test func authenticationFailuresAnswerInTheRequestEncoding() throws {
        let body = Self.request([Self.span(1)])
        let bad = try server.otlp("/v1/traces", body, key: "tm_ingest_nope")
        #expect(bad.status == 401)
        #expect(bad.header("Content-Type") == "application/x-protobuf")
        #expect(try protobufFields(bad.body)[1] == [.varint(16)], "UNAUTHENTICATED")
        let read = try server.otlp("/v1/logs", Array("{}".utf8), contentType: "application/json", key: server.readKey)
        #expect(read.status == 403)
        #expect(read.json?["code"] == .number(JSONNumber(7)), "PERMISSION_DENIED")
    }

    @Test func onlyPostIsAllowed() throws {
        let response = try server.get("/v1/traces")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "POST")
    }
}

/// Prompt and completion log records attach to their span whichever arrives first.
@Suite(.serialized)
struct OTLPLogsTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    private func chatStep() throws -> JSONObject {
        let tree = try server.requestTree(OTLPFixture.traceID)
        let root = try #require(tree.object("root"))
        return try #require(allSteps(root).first { $0.string("request_id") == "\(OTLPFixture.traceID)-0000000000001002" })
    }

    private func expectTexts(_ label: String) throws {
        let chat = try chatStep()
        let prompt = try JSONParser.parse(Array((chat.string("prompt") ?? "").utf8))
        #expect(prompt == (try JSONParser.parse(Array(#"[{"role":"user","content":"Where is my order 42?"}]"#.utf8))), "\(label)")
        let response = try JSONParser.parse(Array((chat.string("response") ?? "").utf8))
        #expect(response == (try JSONParser.parse(Array(#"[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"It ships today."}}]"#.utf8))), "\(label)")
        #expect(chat.int("tokens_in") == 1200, "the logs change no number")
    }

    @Test func logsBeforeTheSpan() throws {
        let logs = try server.otlp("/v1/logs", try OTLPFixture.bytes("python-sdk-logs-1.pb"))
        #expect(logs.status == 200, "\(logs.text)")
        #expect(logs.header("Content-Type") == "application/x-protobuf")
        #expect(logs.body.isEmpty)
        #expect(try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.pb")).status == 200)
        try expectTexts("logs first")
    }

    @Test func logsAfterTheSpanAndResentOnce() throws {
        #expect(try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.pb")).status == 200)
        for _ in 0..<2 {
            let logs = try server.otlp("/v1/logs", try OTLPFixture.bytes("python-sdk-logs-1.json"), contentType: "application/json")
            #expect(logs.status == 200, "\(logs.text)")
            #expect(logs.json == .object(JSONObject()))
        }
        try expectTexts("logs after, twice")
    }

    @Test func recordsWithoutSpanAreRejectedBesideGoodOnes() throws {
        var orphan = OTLPLogRecord()
        orphan.eventName = "gen_ai.user.message"
        orphan.body = .kvlist([OTLPAttribute("content", .string("lost"))])
        var plain = OTLPLogRecord()
        plain.body = .string("an application log line")
        var good = OTLPLogRecord()
        good.eventName = "gen_ai.choice"
        good.traceID = TraceID(hex: OTLPFixture.traceID)
        good.spanID = SpanID(0x1002)
        good.timeUnixNano = 1_764_000_000_850_000_000
        good.body = .kvlist([OTLPAttribute("index", .int(0))])
        let body = OTLPProtobufEncoder.encode(OTLPLogsRequest(resourceLogs: [OTLPResourceLogs(scopeLogs: [OTLPScopeLogs(logRecords: [orphan, plain, good])])]))
        let response = try server.otlp("/v1/logs", body)
        #expect(response.status == 200, "\(response.text)")
        let partial = try #require(try protobufFields(response.body)[1]?.first?.bytes)
        #expect(try protobufFields(partial)[1] == [.varint(1)], "rejected_log_records")
        #expect(try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.pb")).status == 200)
        #expect(try chatStep().string("response") == #"[{"index":0}]"#)
    }
}

/// The project's text policy applies to OTLP log texts: redacted by default, dropped when the
/// project stores no text.
@Suite(.serialized)
struct OTLPPrivacyTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    private func logsWithAnAddress() throws -> [UInt8] {
        let fixture = String(decoding: try OTLPFixture.bytes("python-sdk-logs-1.json"), as: UTF8.self)
        return Array(fixture.replacingOccurrences(of: "Where is my order 42?", with: "Where is my order? Mail jane@example.com").utf8)
    }

    private func chatPrompt() throws -> String? {
        let root = try #require(try server.requestTree(OTLPFixture.traceID).object("root"))
        return allSteps(root).first { $0.string("request_id") == "\(OTLPFixture.traceID)-0000000000001002" }?.string("prompt")
    }

    @Test func logTextsAreRedacted() throws {
        #expect(try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.pb")).status == 200)
        #expect(try server.otlp("/v1/logs", try logsWithAnAddress(), contentType: "application/json").status == 200)
        let prompt = try #require(try chatPrompt())
        #expect(prompt.contains("Mail [email]"))
        #expect(!prompt.contains("jane@example.com"))
        #expect((try? JSONParser.parse(Array(prompt.utf8))) != nil, "redaction keeps the stored messages valid JSON")
    }

    @Test func noTextWhenTheProjectStoresNone() throws {
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        _ = try PostgresProjectSettings(pool: pool).update(projectNamed: "test", storeText: false, redact: nil)
        #expect(try server.otlp("/v1/traces", try OTLPFixture.bytes("python-sdk-traces-1.pb")).status == 200)
        #expect(try server.otlp("/v1/logs", try logsWithAnAddress(), contentType: "application/json").status == 200)
        #expect(try chatPrompt() == nil)
        let stored = try server.sql("SELECT count(*) AS n FROM otlp_span_texts")
        #expect(stored.rows.first?["n"] == "0")
    }
}
