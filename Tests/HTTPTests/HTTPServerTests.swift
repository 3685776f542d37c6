import Dispatch
import Foundation
import Testing
@testable import HTTP

/// In-process server on 127.0.0.1 with real sockets.
struct HTTPServerTests {
    @Test(arguments: [HTTPServerConfiguration.ListenerStrategy.reusePort, .exclusiveWakeup])
    func keepAliveServesSeveralRequestsOnOneConnection(strategy: HTTPServerConfiguration.ListenerStrategy) throws {
        try withServer({ $0.listenerStrategy = strategy }) { _, port in
            let client = try TestClient(port: port)
            for (index, path) in ["/a", "/b", "/c"].enumerated() {
                let async = index == 1 ? "?async=1" : ""
                let response = try client.request("GET \(path)\(async) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(response.status == 200)
                #expect(response.header("X-Path") == path)
                #expect(response.header("Connection") == "keep-alive")
                #expect(response.header("X-Remote") == "127.0.0.1")
            }
            // Pipelined, mixing answers from the loop thread and from another thread: order is kept.
            try client.send(
                "POST /p1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /p2?async=1 HTTP/1.1\r\n\r\n"
                    + "POST /p3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n")
            let pipelined = try (0..<3).map { _ in try #require(try client.readResponse()) }
            #expect(pipelined.map { $0.header("X-Path") } == ["/p1", "/p2", "/p3"])
            #expect(pipelined.map(\.bodyText) == ["abc", "", "z"])
            // HEAD: Content-Length of the would-be body, no body bytes (the next response parses cleanly).
            try client.send("HEAD /h HTTP/1.1\r\n\r\n")
            let head = try #require(try client.readResponse(headRequest: true))
            #expect(head.header("Content-Length") == "5")
            #expect(try client.request("GET /after-head HTTP/1.1\r\n\r\n").header("X-Path") == "/after-head")
        }
    }

    @Test func longPipelineIsAnsweredInOrder() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send((0..<300).map { "GET /r\($0) HTTP/1.1\r\n\r\n" }.joined())
            for index in 0..<300 {
                let response = try #require(try client.readResponse())
                #expect(response.header("X-Path") == "/r\(index)")
            }
        }
    }

    @Test func http10DefaultsToClose() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            let response = try client.request("GET /old HTTP/1.0\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())
        }
    }

    @Test func postWithoutLengthGets411() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            let response = try client.request("POST /x HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(response.status == 411)
            #expect(response.header("Connection") == "close")
            #expect(response.bodyText.contains(#""code":"length_required""#))
            #expect(client.isClosedByServer())
            try expectHealthy(port)
        }
    }

    @Test func oversizedContentLengthGets413WithoutReadingTheBody() throws {
        try withServer({ $0.maxBodyBytes = 1 << 20 }) { _, port in
            let client = try TestClient(port: port)
            // Only the head is sent: the answer must not wait for 100 MB that never come.
            let response = try client.request("POST /big HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n")
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())
            // With Expect: 100-continue the refusal comes instead of the interim response.
            let expecting = try TestClient(port: port)
            let refused = try expecting.request(
                "PUT /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n")
            #expect(refused.status == 413)
            try expectHealthy(port)
        }
    }

    @Test func unsupportedContentEncodingGets415() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            let response = try client.request("POST /x HTTP/1.1\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc")
            #expect(response.status == 415)
            #expect(response.bodyText.contains(#""field":"Content-Encoding""#))
            try expectHealthy(port)
        }
    }

    @Test(arguments: [
        (0..<10_000).map { "X-Flood-\($0): v\r\n" }.joined(),
        "X-Huge: " + String(repeating: "a", count: 1 << 20) + "\r\n",
    ])
    func headerFloodGets431(headers: String) throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            let response = try client.request("GET / HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n")
            #expect(response.status == 431)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())
            try expectHealthy(port)
        }
    }

    @Test func slowClientGets408() throws {
        try withServer({ $0.requestTimeout = .seconds(1) }) { _, port in
            let client = try TestClient(port: port)
            let start = ContinuousClock.now
            let request = Array("POST /slow HTTP/1.1\r\nContent-Length: 100\r\n\r\n".utf8)
            // One byte a second (the wait is the poll for the answer), never finishing the request.
            for byte in request {
                try client.send([byte])
                if client.waitReadable(milliseconds: 1000) { break }
            }
            let response = try #require(try client.readResponse())
            #expect(response.status == 408)
            #expect(response.bodyText.contains(#""code":"request_timeout""#))
            #expect(response.header("Connection") == "close")
            #expect(ContinuousClock.now - start < .seconds(8))
            #expect(client.isClosedByServer())
            try expectHealthy(port)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        try withServer({ $0.idleTimeout = .milliseconds(300) }) { server, port in
            let client = try TestClient(port: port)
            #expect(try client.request("GET / HTTP/1.1\r\n\r\n").status == 200)
            #expect(client.isClosedByServer())
            #expect(eventually { server.openConnections == 0 })
        }
    }

    @Test func expectContinue() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /c HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try #require(try client.readResponse())
            #expect(interim.status == 100)
            try client.send("hello")
            let final = try #require(try client.readResponse())
            #expect(final.status == 200)
            #expect(final.bodyText == "hello")
        }
    }

    @Test func compressedBodies() throws {
        try withServer({ $0.maxDecompressedBodyBytes = 32 << 20 }) { _, port in
            let client = try TestClient(port: port)
            let plain = Array(String(repeating: "gen_ai.usage ", count: 1000).utf8)
            let gz = gzip(plain)
            try client.send(Array("POST /gz HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: \(gz.count)\r\n\r\n".utf8) + gz)
            #expect(try client.readResponse()?.body == plain)

            let truncated = Array(gz[..<(gz.count / 2)])
            try client.send(Array("POST /gz HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: \(truncated.count)\r\n\r\n".utf8) + truncated)
            let corrupt = try #require(try client.readResponse())
            #expect(corrupt.status == 400)
            #expect(corrupt.bodyText.contains(#""code":"invalid_body""#))
            #expect(corrupt.bodyText.contains(#""field":"Content-Encoding""#))
            // The body was read in full, so the connection goes on.
            #expect(corrupt.header("Connection") == "keep-alive")

            let bomb = gzipBomb
            let start = ContinuousClock.now
            try client.send(Array("POST /bomb HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\n\r\n".utf8) + bomb)
            let refused = try #require(try client.readResponse())
            #expect(refused.status == 413)
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(try client.request("GET /still-here HTTP/1.1\r\n\r\n").status == 200)
        }
    }

    @Test func connectionsOverTheLimitGet503() throws {
        try withServer({ $0.maxConnections = 2 }) { server, port in
            let first = try TestClient(port: port)
            let second = try TestClient(port: port)
            #expect(try first.request("GET / HTTP/1.1\r\n\r\n").status == 200)
            #expect(try second.request("GET / HTTP/1.1\r\n\r\n").status == 200)
            #expect(server.openConnections == 2)

            let third = try TestClient(port: port)
            let busy = try #require(try third.readResponse())
            #expect(busy.status == 503)
            #expect(busy.header("Retry-After") == "1")
            #expect(busy.header("Connection") == "close")
            #expect(third.isClosedByServer())

            first.close()
            #expect(eventually { server.openConnections == 1 })
            try expectHealthy(port)
        }
    }

    @Test func gracefulShutdownWaitsForInFlightRequest() throws {
        let responder = GateResponder()
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, responder: responder)
        try server.start()
        let port = server.boundPort

        let slow = try TestClient(port: port)
        try slow.send("GET /slow HTTP/1.1\r\n\r\n")
        #expect(responder.received.wait(timeout: .now() + 10) == .success)
        let idle = try TestClient(port: port)
        #expect(try idle.request("GET /fast HTTP/1.1\r\n\r\n").status == 200)

        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            server.shutdown(gracePeriod: .seconds(20))
            done.signal()
        }
        #expect(idle.isClosedByServer())  // idle keep-alive connections go at once
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut)  // still waiting for /slow

        responder.gate.signal()
        let response = try #require(try slow.readResponse())
        #expect(response.status == 200)
        #expect(response.bodyText == "slow")
        #expect(response.header("Connection") == "close")
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(throws: TestClientError.self) { try TestClient(port: port) }
    }

    @Test(arguments: [HTTPServerConfiguration.ListenerStrategy.reusePort, .exclusiveWakeup])
    func startFailsWhenThePortIsTaken(strategy: HTTPServerConfiguration.ListenerStrategy) throws {
        try withServer { _, port in
            var configuration = HTTPServerConfiguration()
            configuration.port = port
            configuration.listenerStrategy = strategy
            let second = HTTPServer(configuration: configuration, responder: EchoResponder())
            #expect {
                try second.start()
            } throws: { error in
                "\(error)".contains("Address already in use")
            }
            try expectHealthy(port)
        }
    }

    @Test func stopAcceptingKeepsOpenConnections() throws {
        try withServer { server, port in
            let client = try TestClient(port: port)
            #expect(try client.request("GET / HTTP/1.1\r\n\r\n").status == 200)
            server.stopAccepting()
            #expect(throws: TestClientError.self) { try TestClient(port: port) }
            #expect(try client.request("GET /again HTTP/1.1\r\n\r\n").status == 200)
        }
    }

    @Test func largeBodiesBothWays() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            let body = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try client.send(Array("POST /big HTTP/1.1\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            let response = try #require(try client.readResponse())
            #expect(response.body == body)
        }
    }
}
