import App
import Foundation
import Testing

/// The dashboards as the server serves them: `/` for browsers (JSON for API clients), `/ui/<file>`
/// with content types, caching and security headers, and nothing but the files loaded at start.
@Suite
struct DashboardServingTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("dashboards")

    static func server() throws -> RunningServer {
        try RunningServer { $0.dashboardsDirectory = directory.path }
    }

    @Test func rootServesTheDashboardToBrowsersAndJSONToAPIClients() throws {
        let server = try Self.server()
        let index = try String(contentsOf: Self.directory.appendingPathComponent("index.html"), encoding: .utf8)
        for accept in ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*", nil] {
            let response = try server.client().send(method: "GET", path: "/", headers: accept.map { ["Accept": $0] } ?? [:])
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/html; charset=utf-8", "Accept: \(accept ?? "none")")
            #expect(response.text == index)
            #expect(response.header("Cache-Control") == "no-cache")
        }
        let json = try server.client().send(method: "GET", path: "/", headers: ["Accept": "application/json"])
        #expect(json.status == 200)
        #expect(json.header("Content-Type") == "application/json")
        #expect(json.json?["endpoints"]?.arrayValue?.isEmpty == false)
    }

    @Test func everyFileHasItsTypeAndTheSecurityHeaders() throws {
        let server = try Self.server()
        let expected = ["app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8",
                        "views/overview.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml",
                        "index.html": "text/html; charset=utf-8"]
        for (name, type) in expected {
            let response = try server.client().send(method: "GET", path: "/ui/\(name)")
            #expect(response.status == 200, "\(name)")
            #expect(response.header("Content-Type") == type, "\(name)")
            #expect(response.body == Array(try Data(contentsOf: Self.directory.appendingPathComponent(name))), "\(name)")
            #expect(response.header("X-Content-Type-Options") == "nosniff")
            #expect(response.header("Cache-Control") == "no-cache")
            let csp = response.header("Content-Security-Policy") ?? ""
            for directive in ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:", "object-src 'none'", "frame-ancestors 'none'"] {
                #expect(csp.contains(directive), "\(name): \(csp)")
            }
            #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"))
        }
    }

    @Test func anETagRevalidatesToA304AndHEADSendsNoBody() throws {
        let server = try Self.server()
        let first = try server.client().send(method: "GET", path: "/ui/app.js")
        let tag = try #require(first.header("ETag"))
        #expect(tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count == 34)
        let again = try server.client().send(method: "GET", path: "/ui/app.js", headers: ["If-None-Match": tag])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        #expect(again.header("ETag") == tag)
        let other = try server.client().send(method: "GET", path: "/ui/app.js", headers: ["If-None-Match": "\"0000\""])
        #expect(other.status == 200 && other.body == first.body)
        let head = try server.client().send(method: "HEAD", path: "/ui/style.css")
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "text/css; charset=utf-8")
        #expect(head.body.isEmpty)
        let post = try server.client().send(method: "POST", path: "/ui/app.js", body: Array("x".utf8))
        #expect(post.status == 405)
    }

    @Test(arguments: ["/ui/nope.js", "/ui/", "/ui/../Package.swift", "/ui/..%2f..%2fPackage.swift", "/ui/%2e%2e/README.md",
                      "/ui/..%2fmigrations/0001_initial.sql", "/ui//etc/passwd", "/ui/%2fetc%2fpasswd", "/ui/views/../app.js",
                      "/ui/./app.js", "/ui/app.js%00.html", "/ui/.gitignore", "/Package.swift", "/ui/app.js/", "/ui/APP.JS"])
    func onlyLoadedFilesAreServed(path: String) throws {
        let server = try Self.server()
        let response = try server.client().send(method: "GET", path: path)
        #expect(response.status == 404, "\(path): \(response.status)")
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.json?["error"]?["code"]?.stringValue == "not_found")
    }

    @Test func filesAreReadOnceAtStart() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmeter-dash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Data("<!doctype html><title>t</title>".utf8).write(to: scratch.appendingPathComponent("index.html"))
        try Data("secret".utf8).write(to: scratch.appendingPathComponent("notes.unknown-type"))
        let server = try RunningServer { $0.dashboardsDirectory = scratch.path }
        try Data("late".utf8).write(to: scratch.appendingPathComponent("late.js"))
        #expect(try server.client().send(method: "GET", path: "/ui/index.html").status == 200)
        #expect(try server.client().send(method: "GET", path: "/ui/late.js").status == 404)
        #expect(try server.client().send(method: "GET", path: "/ui/notes.unknown-type").status == 404)
    }

    /// The real binary: a dashboards directory that was asked for and does not exist is a clear error.
    @Test func aMissingExplicitDirectoryStopsTheStart() throws {
        let server = try Self.server()
        let (status, _, stderr) = try server.runBinary(["serve", "--port", "0", "--dashboards-dir", "/nonexistent/tokenmeter-dashboards"])
        #expect(status != 0)
        #expect(stderr.contains("--dashboards-dir: /nonexistent/tokenmeter-dashboards is not a directory"), "\(stderr.suffix(500))")
    }

    @Test func withoutAnyDashboardsTheRootStaysJSON() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmeter-nodash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let server = try RunningServer { $0.dashboardsDirectory = empty.path }
        let response = try server.client().send(method: "GET", path: "/", headers: ["Accept": "text/html"])
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
    }

    /// The issue's budget: the whole dashboard (HTML, CSS, JavaScript) under 300 KB uncompressed.
    @Test func theAssetsStayUnder300KB() throws {
        let files = try #require(FileManager.default.enumerator(at: Self.directory, includingPropertiesForKeys: [.fileSizeKey]))
        var total = 0
        for case let url as URL in files {
            total += try url.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
        }
        #expect(total > 10_000 && total < 300_000, "\(total) bytes")
    }
}
