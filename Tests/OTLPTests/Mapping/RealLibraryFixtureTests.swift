import Foundation
import HTTP
import JSON
import Testing
@testable import OTLP

/// Exports captured from the real libraries (scripts/e2e/capture.sh) against a fake OpenAI server,
/// mapped here without a server: the sums must equal the fake provider's ledger.
struct RealLibraryFixtureTests {
    struct Library: Sendable, CustomTestStringConvertible {
        var prefix: String
        /// Whether the library reports cached tokens (opentelemetry-instrumentation-openai-v2 2.4b0 does not).
        var reportsCache: Bool
        var testDescription: String { prefix }
    }

    static let libraries = [Library(prefix: "openai-v2-protobuf", reportsCache: false), Library(prefix: "traceloop-json-gzip", reportsCache: true),
                            Library(prefix: "openinference-protobuf", reportsCache: true), Library(prefix: "langfuse-protobuf", reportsCache: true)]

    static func body(_ name: String) throws -> [UInt8] {
        let raw = try Fixtures.bytes("e2e/\(name)")
        return name.hasSuffix(".gz") ? try decompress(raw, encoding: "gzip", limit: 1 << 24) : raw
    }

    static func files(_ prefix: String, _ signal: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Fixtures.directory.appendingPathComponent("e2e").path)) ?? [])
            .filter { $0.hasPrefix("\(prefix)-\(signal)-") }.sorted()
    }

    static func spans(_ prefix: String) throws -> [MappedSpan] {
        var result: [MappedSpan] = []
        for name in files(prefix, "traces") {
            let bytes = try body(name)
            let request = name.contains(".json") ? try OTLPJSONDecoder().decodeTraces(bytes) : try OTLPProtobufDecoder().decodeTraces(bytes)
            let mapping = SpanMapper().map(request, receivedAt: Date())
            #expect(mapping.rejections.isEmpty, "\(name): \(mapping.rejectionMessage)")
            result += mapping.spans
        }
        return result
    }

    @Test(arguments: libraries)
    func sumsEqualTheLedger(library: Library) throws {
        guard case .array(let entries) = try JSONParser.parse(try Fixtures.bytes("e2e/\(library.prefix).ledger.json")) else {
            Issue.record("no ledger")
            return
        }
        let usage = entries.compactMap { $0["usage"] }
        #expect(usage.count == 4)
        let prompt = usage.compactMap { $0["prompt_tokens"]?.int64Value }.reduce(0, +)
        let completion = usage.compactMap { $0["completion_tokens"]?.int64Value }.reduce(0, +)
        let cached = usage.compactMap { $0["prompt_tokens_details"]?["cached_tokens"]?.int64Value }.reduce(0, +)

        let calls = try Self.spans(library.prefix).map(\.event).filter { $0.stepType == "llm_call" }
        #expect(calls.count == 6)
        #expect(calls.map(\.usage.input).reduce(0, +) == prompt)
        #expect(calls.map(\.usage.output).reduce(0, +) == completion)
        #expect(calls.map(\.usage.cachedInput).reduce(0, +) == (library.reportsCache ? cached : 0))
        let failed = calls.filter { $0.status == .error }
        #expect(failed.count == 2)
        #expect(Set(failed.compactMap(\.model)) == ["fake-429", "fake-500"])
        #expect(failed.allSatisfy { $0.errorType != nil })
        #expect(Set(calls.filter { $0.status == .ok }.compactMap(\.model)) == ["gpt-4o-mini-2024-07-18"])
        // Langfuse names no provider: it is inferred from the model name, which fake-429 is not.
        #expect(calls.filter { library.prefix.hasPrefix("langfuse") ? $0.status == .ok : true }.allSatisfy { $0.provider == "openai" })
        if library.prefix != "openai-v2-protobuf" {  // which sends prompts as log records (below)
            #expect(calls.allSatisfy { $0.text?.prompt != nil }, "the prompt is on the span")
        }
    }

    @Test func langfuseGenerationsAreCallsWithTheirCompletionStart() throws {
        let events = try Self.spans("langfuse-protobuf").map(\.event)
        #expect(events.count == 6 && events.allSatisfy { $0.stepType == "llm_call" })
        #expect(events.filter { $0.ttftMs != nil }.count == 1, "only the streamed call has langfuse.observation.completion_start_time")
        #expect(events.filter { $0.status == .error }.map(\.httpStatus) == [429, 500], "read from \"Error code: 429 - …\"")
        #expect(events.filter { $0.status == .error }.map(\.errorType) == ["http_429", "http_500"])
    }

    @Test func openLLMetryNamesTheUserTheWorkflowAndTheFirstChunk() throws {
        let events = try Self.spans("traceloop-json-gzip").map(\.event)
        #expect(events.filter { $0.stepType == "chain" }.count == 1, "the workflow span is a step")
        #expect(events.allSatisfy { $0.feature == "weather_report" })
        #expect(events.filter { $0.userID == "u-e2e" }.count == 1, "gen_ai.user of the first call")
        let streamed = events.filter { $0.ttftMs != nil }
        #expect(streamed.count == 1, "only the streamed call has completion chunks")
        #expect(events.filter { $0.stepType == "llm_call" }.allSatisfy { $0.text?.prompt != nil })
    }

    @Test func openAIV2LogRecordsAttachToTheirSpans() throws {
        let spans = try Self.spans("openai-v2-protobuf")
        var texts: [SpanText] = []
        for name in Self.files("openai-v2-protobuf", "logs") {
            let mapping = LogTextMapper().map(try OTLPProtobufDecoder().decodeLogs(try Self.body(name)), receivedAt: Date())
            #expect(mapping.rejections.isEmpty)
            texts += mapping.texts
        }
        #expect(Set(texts.map(\.eventID)) == Set(spans.map(\.event.eventID)), "every call's record names its span")
        #expect(texts.filter { $0.role == .prompt }.count >= 6)
        #expect(texts.filter { $0.role == .response }.count == 4, "the two failed calls have no answer")
    }
}
