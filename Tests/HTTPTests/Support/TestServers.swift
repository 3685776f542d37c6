import Dispatch
import Foundation
import HTTP
import Testing

/// Echoes the body back with the method, path and query in headers. `?async=1` answers from another thread;
/// HEAD requests get a 5-byte body the server must not send.
struct EchoResponder: HTTPResponder {
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        var headers: HTTPHeaders = ["X-Method": request.method, "X-Path": request.path, "X-Remote": request.remoteAddress]
        if let q = request.queryValue("q") { headers.add(name: "X-Q", value: q) }
        let body = request.method == "HEAD" ? Array("hello".utf8) : request.body
        let response = HTTPResponse(status: 200, headers: headers, body: body)
        if request.queryValue("async") == "1" {
            DispatchQueue.global().async { respond(response) }
        } else {
            respond(response)
        }
    }
}

/// Holds `/slow` requests until the test opens the gate; answers everything else at once.
final class GateResponder: HTTPResponder {
    let received = DispatchSemaphore(value: 0)
    let gate = DispatchSemaphore(value: 0)

    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard request.path == "/slow" else {
            respond(.text(status: 200, "fast"))
            return
        }
        received.signal()
        let gate = self.gate
        DispatchQueue.global().async {
            gate.wait()
            respond(.text(status: 200, "slow"))
        }
    }
}

/// Runs `body` against a started server on an ephemeral port, then shuts it down.
func withServer(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    responder: some HTTPResponder = EchoResponder(),
    _ body: (HTTPServer, Int) throws -> Void
) throws {
    var configuration = HTTPServerConfiguration()
    configuration.port = 0
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, responder: responder)
    try server.start()
    defer { server.shutdown(gracePeriod: .seconds(1)) }
    try body(server, server.boundPort)
}

/// A fresh connection still gets normal answers.
func expectHealthy(_ port: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let client = try TestClient(port: port)
    let response = try client.request("GET /health?q=ok HTTP/1.1\r\nHost: t\r\n\r\n")
    #expect(response.status == 200, sourceLocation: sourceLocation)
    #expect(response.header("X-Q") == "ok", sourceLocation: sourceLocation)
}

/// Polls `condition` (a state the server reaches asynchronously) for up to `seconds`.
func eventually(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}
