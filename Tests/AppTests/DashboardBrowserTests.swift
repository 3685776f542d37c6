import App
import Foundation
import Testing

/// The dashboards in a real browser: headless Chromium (Debian's, installed by ./scripts/test) driven
/// over the DevTools protocol by scripts/e2e/dashboard_browser.py, against this server filled with a
/// known dataset. The script checks every view's figures against the API, console errors, an XSS
/// prompt, the phone-width layout, the empty, bad-key and unreachable states, and prints the
/// overview's render time. Screenshots land in .build/screenshots/.
@Suite(.serialized)
struct DashboardBrowserTests {
    static let adminToken = "dashboard-browser-admin-token-0123456789"

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyViewShowsTheAPIsNumbersAndRunsNoEventText() throws {
        let python = try RealClientTests.python()
        let chromium = ProcessInfo.processInfo.environment["TOKENMETER_TEST_CHROMIUM"] ?? "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "\(chromium) is missing: ./scripts/test installs Debian's chromium")
        let server = try RunningServer {
            $0.dashboardsDirectory = Self.root.appendingPathComponent("dashboards").path
            $0.alertEvaluationIntervalSeconds = 0  // the alerts view is compared with the API: nothing may change between
            $0.adminToken = Self.adminToken
        }
        // A real budget, so the alerts view is checked against the server's own budget API too.
        let budget = try server.client().send(method: "PUT", path: "/v1/budgets/daily-spend?project=test",
                                              headers: ["Authorization": "Bearer \(Self.adminToken)", "Content-Type": "application/json"],
                                              body: Array(#"{"period":"daily","unit":"usd","limit":25}"#.utf8))
        try #require(budget.status == 201, "\(budget.text)")
        let empty = try server.makeProject("dashboard-empty")
        let screenshots = Self.root.appendingPathComponent(".build/screenshots")
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmeter-dashboard-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let status = try Subprocess.run([python, Self.root.appendingPathComponent("scripts/e2e/dashboard_browser.py").path,
                                         "--base", "http://127.0.0.1:\(server.port)", "--read-key", server.readKey,
                                         "--ingest-key", server.ingestKey, "--empty-read-key", empty.read,
                                         "--screenshots", screenshots.path, "--chromium", chromium],
                                        environment: ProcessInfo.processInfo.environment, outputPath: logPath)
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        // The render time and the check count, for people reading the test output.
        for line in log.split(separator: "\n") where line.hasPrefix("overview render") || line.hasSuffix("failed") || line.hasPrefix("FAIL") {
            print("dashboard browser test: \(line)")
        }
        #expect(status == 0, "the browser checks failed (exit \(status)):\n\(log.suffix(6000))")
        #expect(log.contains(" passed, 0 failed"), "\(log.suffix(2000))")
    }
}
