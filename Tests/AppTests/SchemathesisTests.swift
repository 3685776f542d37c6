import App
import Foundation
import Testing

/// Issue 7, part 3: an OpenAPI-driven property test of the live API with `schemathesis` (from PyPI,
/// in the e2e virtualenv): generated valid and invalid inputs for every documented operation, with
/// each kind of credential, and never a 5xx.
@Suite(.serialized)
struct SchemathesisTests {
    static let adminToken = "schemathesis-admin-token-0123456789"

    struct Pass: Sendable, CustomTestStringConvertible {
        var label: String
        /// Which operations, as schemathesis `--include-*` arguments.
        var include: [String]
        var testDescription: String { label }
    }

    static let passes = [
        Pass(label: "reads with a read key", include: ["--include-method", "GET", "--exclude-path-regex", "^/v1/admin/"]),
        Pass(label: "writes with an ingest key", include: ["--include-method-regex", "^(POST|PUT|DELETE)$", "--exclude-path-regex", "^/v1/admin/"]),
        Pass(label: "admin routes with the admin token", include: ["--include-path-regex", "^/v1/admin/"]),
    ]

    @Test(arguments: passes)
    func noGeneratedInputGetsA5xx(pass: Pass) throws {
        let python = try RealClientTests.python()
        let server = try RunningServer {
            $0.adminToken = Self.adminToken
            $0.authFailuresPerMinute = 1_000_000
        }
        try server.ingestAll(#"{"request_id":"r1","session_id":"s1","user_id":"u1","feature":"f1","model":"gpt-4o-mini","tokens_in":10,"tokens_out":2}"#)
        let key = pass.label.hasPrefix("reads") ? server.readKey : pass.label.hasPrefix("writes") ? server.ingestKey : Self.adminToken
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmeter-schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let log = scratch.appendingPathComponent("schemathesis.log").path
        let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi.yaml").path

        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = scratch.path  // schemathesis keeps state under the home directory
        let status = try Subprocess.run([python, "-m", "schemathesis.cli", "run", spec, "--url", "http://127.0.0.1:\(server.port)",
                                         "-H", "Authorization: Bearer \(key)", "--checks", "not_a_server_error",
                                         "--max-examples", "30", "--seed", "20261206", "--generation-database", "none",
                                         "--workers", "2", "--request-timeout", "10", "--no-color",
                                         "--suppress-health-check", "all", "--report-dir", scratch.path] + pass.include,
                                        environment: environment, outputPath: log)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        print("schemathesis, \(pass.label):\n" + output.split(separator: "\n").suffix(12).joined(separator: "\n"))
        #expect(status == 0, "schemathesis found failures (exit \(status)):\n\(output.suffix(6000))")
        #expect(output.contains("passed") || output.contains("Passed"), "schemathesis ran no operation:\n\(output.suffix(2000))")
        // The server is still up and answering after everything it was sent.
        #expect(try server.client().send(method: "GET", path: "/healthz").status == 200)
    }
}
