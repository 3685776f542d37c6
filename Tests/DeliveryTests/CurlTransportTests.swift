import Delivery
import Foundation
import Testing

/// The libcurl transport against the loopback receiver (and a port nobody listens on).
struct CurlTransportTests {
    let transport = CurlTransport(connectTimeout: 1, totalTimeout: 0.3)

    @Test func sendsHeadersAndBodyAndReadsRetryAfter() throws {
        let receiver = try TestReceiver(script: [.status(429, retryAfter: "42")])
        defer { receiver.stop() }
        let body = Array("{\"version\":\"4\"}".utf8)
        let response = transport.post(WebhookRequest(url: receiver.url("/a?b=c"), headers: [("X-Tokenmeter-Notification-Id", "n-1")], body: body))
        #expect(response == .status(429, retryAfter: "42"))
        let request = try #require(receiver.received.first)
        #expect(request.path == "/a?b=c" && request.body == body && request.id == "n-1")
        #expect(request.headers["content-type"] == "application/json" && request.headers["expect"] == nil)
        #expect(transport.post(WebhookRequest(url: receiver.url(), headers: [], body: body)) == .status(200, retryAfter: nil))
    }

    @Test func reportsTimeoutsAndRefusedConnections() throws {
        let receiver = try TestReceiver(script: [.slowAccept(seconds: 0.6)])
        defer { receiver.stop() }
        guard case .failed(let reason, let timedOut) = transport.post(WebhookRequest(url: receiver.url(), headers: [], body: [])) else {
            Issue.record("a receiver slower than the total timeout must fail the attempt")
            return
        }
        #expect(timedOut && reason.hasPrefix("curl 28:"))
        // The listener is gone: nothing accepts on its port any more.
        let port = receiver.port
        receiver.stop()
        guard case .failed(let refused, let refusedTimedOut) = transport.post(
            WebhookRequest(url: "http://127.0.0.1:\(port)/hook", headers: [], body: [1])) else {
            Issue.record("a closed port must fail the attempt")
            return
        }
        #expect(!refusedTimedOut && refused.hasPrefix("curl 7:"))
    }

    @Test func refusesSchemesOtherThanHTTP() {
        guard case .failed(let reason, _) = transport.post(WebhookRequest(url: "file:///etc/passwd", headers: [], body: [])) else {
            Issue.record("file:// must not be fetched")
            return
        }
        #expect(reason.hasPrefix("curl 1:"))  // CURLE_UNSUPPORTED_PROTOCOL
    }
}

struct PrivateAddressTests {
    @Test(arguments: ["http://127.0.0.1:{port}/hook", "http://localhost:{port}/hook", "http://[::ffff:127.0.0.1]:{port}/hook",
                      "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.1.1/", "http://[::1]:{port}/"])
    func blockedAddressesAreRefusedBeforeConnecting(_ template: String) throws {
        let receiver = try TestReceiver()
        defer { receiver.stop() }
        let transport = CurlTransport(connectTimeout: 1, totalTimeout: 1, blockPrivateAddresses: true)
        let url = template.replacingOccurrences(of: "{port}", with: String(receiver.port))
        let response = transport.post(WebhookRequest(url: url, headers: [], body: [1]))
        #expect(response == .refused(reason: "refused: the URL resolves to a private or reserved address"))
        #expect(RetryPolicy(configuration: DeliveryConfiguration()).verdict(for: response, now: Date())
            == .permanent(reason: "refused: the URL resolves to a private or reserved address"))
        #expect(receiver.received.isEmpty)
    }

    @Test func loopbackIsAllowedByDefault() throws {
        let receiver = try TestReceiver()
        defer { receiver.stop() }
        let transport = CurlTransport(connectTimeout: 1, totalTimeout: 1)
        #expect(transport.post(WebhookRequest(url: receiver.url(), headers: [], body: [1])) == .status(200, retryAfter: nil))
    }
}
