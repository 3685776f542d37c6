import App
import Foundation
import JSON
import Testing
import TokenmeterCore

/// End to end with the real Python libraries (installed by ./scripts/test into .venv-e2e from
/// scripts/e2e/requirements.txt): an app instrumented with `opentelemetry-instrumentation-openai-v2`
/// OpenLLMetry (`traceloop-sdk`), OpenInference (`openinference-instrumentation-openai`) or the
/// Langfuse SDK's OpenAI wrapper calls a fake OpenAI server (scripts/e2e/fake_openai.py) and
/// exports to this server through the standard OTEL_EXPORTER_OTLP_* variables. Tokenmeter's
/// numbers must equal what the fake provider billed (its ledger).
@Suite(.serialized)
struct RealClientTests {
    struct Run: Sendable, CustomTestStringConvertible {
        var library: String
        var protocolName: String
        var gzip: Bool
        var testDescription: String { "\(library) \(protocolName)\(gzip ? " gzip" : "")" }
        var service: String { "e2e-\(library)-\(protocolName)\(gzip ? "-gzip" : "")" }
    }

    static let runs = [
        Run(library: "openai-v2", protocolName: "protobuf", gzip: false),
        Run(library: "openai-v2", protocolName: "json", gzip: false),
        Run(library: "openai-v2", protocolName: "protobuf", gzip: true),
        Run(library: "traceloop", protocolName: "protobuf", gzip: false),
        Run(library: "traceloop", protocolName: "json", gzip: true),
        Run(library: "traceloop", protocolName: "protobuf", gzip: true),
        Run(library: "openinference", protocolName: "protobuf", gzip: false),
        Run(library: "openinference", protocolName: "json", gzip: true),
        // The Langfuse SDK picks its own exporter: protobuf to /api/public/otel/v1/traces, Basic auth.
        Run(library: "langfuse", protocolName: "protobuf", gzip: false),
    ]

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/e2e")

    /// The venv's interpreter. Missing is a failure, never a skip: ./scripts/test always provides it.
    static func python() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["TOKENMETER_TEST_PYTHON"], FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("TOKENMETER_TEST_PYTHON is not set to the e2e virtualenv's python: run through ./scripts/test, which installs it")
        }
        return path
    }

    @Test(arguments: runs)
    func numbersEqualTheProvidersUsage(run: Run) throws {
        let python = try Self.python()
        let server = try RunningServer()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmeter-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let ledgerPath = scratch.appendingPathComponent("ledger.json").path
        let logPath = scratch.appendingPathComponent("driver.log").path

        var environment = ProcessInfo.processInfo.environment
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(server.port)"
        environment["OTEL_EXPORTER_OTLP_HEADERS"] = "Authorization=Bearer \(server.ingestKey)"
        environment["OTEL_EXPORTER_OTLP_COMPRESSION"] = run.gzip ? "gzip" : "none"
        environment["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "EVENT_ONLY"
        environment["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        environment["TRACELOOP_METRICS_ENABLED"] = "false"
        environment["TRACELOOP_LOGGING_ENABLED"] = "false"
        environment["TRACELOOP_TRACE_CONTENT"] = "true"
        environment["OTEL_SERVICE_NAME"] = run.service  // the Langfuse SDK names no service of its own
        environment["LANGFUSE_BASE_URL"] = "http://127.0.0.1:\(server.port)"
        environment["LANGFUSE_PUBLIC_KEY"] = "pk-lf-e2e"
        environment["LANGFUSE_SECRET_KEY"] = server.ingestKey
        environment["LANGFUSE_TRACING_ENVIRONMENT"] = "e2e"
        // posix_spawn + waitpid (App's Subprocess): Foundation's Process hung here waiting for an exit.
        let status = try Subprocess.run([python, Self.scripts.appendingPathComponent("drive.py").path, "--library", run.library,
                                         "--protocol", run.protocolName, "--service", run.service, "--ledger", ledgerPath],
                                        environment: environment, outputPath: logPath)
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try #require(status == 0, "driver exited \(status): \(log.suffix(3000))")
        guard case .array(let items) = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: ledgerPath)))) else {
            throw TestSetupError("the ledger is not a JSON array")
        }
        let ledger = items.compactMap { if case .object(let o) = $0 { return o.object("usage") } else { return nil } }

        // What the provider billed: 4 completions (2 with 512 cached tokens), then a 429 and a 500.
        #expect(ledger.count == 4)
        let prompt = ledger.reduce(0) { $0 + ($1.int("prompt_tokens") ?? 0) }
        let completion = ledger.reduce(0) { $0 + ($1.int("completion_tokens") ?? 0) }
        let cachedBilled = ledger.reduce(0) { $0 + ($1.object("prompt_tokens_details")?.int("cached_tokens") ?? 0) }
        #expect(cachedBilled == 1024)
        // opentelemetry-instrumentation-openai-v2 2.4b0 does not report cached tokens at all, so
        // Tokenmeter cannot know them and prices those tokens as plain input; OpenLLMetry reports them.
        let cached = run.library == "openai-v2" ? 0 : cachedBilled
        // gpt-4o-mini list price, USD per 1M: 0.15 input, 0.075 cached input, 0.60 output, i.e. in
        // picodollars per token 150_000, 75_000 and 600_000.
        let picodollars = (prompt - cached) * 150_000 + cached * 75_000 + completion * 600_000
        let expectedCost = Money(picodollars: picodollars).usdString

        let rows = try server.usageRows("from=-1h&group_by=step_type,model,feature")
        let calls = rows.filter { $0.string("step_type") == "llm_call" }
        let billed = calls.filter { $0.string("model") == "gpt-4o-mini-2024-07-18" }
        #expect(billed.reduce(0) { $0 + ($1.int("calls") ?? 0) } == 4, "\(rows)")
        #expect(billed.reduce(0) { $0 + ($1.int("tokens_in") ?? 0) } == prompt)
        #expect(billed.reduce(0) { $0 + ($1.int("tokens_out") ?? 0) } == completion)
        #expect(billed.reduce(0) { $0 + ($1.int("cached_tokens") ?? 0) } == cached)
        #expect(billed.first?.decimal("cost_usd") == expectedCost)
        #expect(calls.reduce(0) { $0 + ($1.int("calls") ?? 0) } == 6, "the 429 and the 500 are calls too")
        #expect(calls.reduce(0) { $0 + ($1.int("errors") ?? 0) } == 2)
        #expect(calls.allSatisfy { $0.string("feature") == (run.library == "traceloop" ? "weather_report" : run.service) }, "\(calls)")

        // Every call's prompt arrived: as a log record (openai-v2) or a span attribute (OpenLLMetry).
        let texts = try server.sql("SELECT count(*) AS n FROM events e JOIN event_texts x USING (project_id, event_id) WHERE e.step_type = 'llm_call' AND x.prompt IS NOT NULL")
        #expect(try texts.rows[0].decode(Int.self, column: "n") == 6)
    }
}
