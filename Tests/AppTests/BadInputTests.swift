import Foundation
import JSON
import Testing

/// Hostile and broken input: each answered with the right 4xx and a JSON error naming the field,
/// and the server still healthy afterwards.
@Suite(.serialized)
struct BadInputTests {
    let server: RunningServer

    init() throws {
        server = try RunningServer { configuration in
            configuration.maxBodyBytes = 1 << 20
            configuration.maxDecompressedBodyBytes = 4 << 20
            configuration.requestTimeoutSeconds = 2
        }
    }

    private func expectHealthy(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let health = try server.client().send(method: "GET", path: "/healthz")
        #expect(health.status == 200, sourceLocation: sourceLocation)
    }

    private func errorField(_ response: HTTPClient.Response) -> (code: String?, field: String?) {
        guard case .object(let body)? = response.json, case .object(let error)? = body["error"] else { return (nil, nil) }
        var code: String?, field: String?
        if case .string(let c)? = error["code"] { code = c }
        if case .string(let f)? = error["field"] { field = f }
        return (code, field)
    }

    @Test(arguments: [
        ("{\"request_id\": \"x\"", "truncated"),
        ("not json at all", "garbage"),
        ("[1, 2,]", "trailing comma"),
        ("{\"request_id\": \"x\"} extra", "trailing data"),
        ("", "empty"),
    ])
    func malformedJSONIs400(body: String, label: String) throws {
        let response = try server.ingest(body)
        #expect(response.status == 400, "\(label): \(response.text)")
        #expect(errorField(response).code == "invalid_json", "\(label)")
        try expectHealthy()
    }

    @Test func invalidUTF8Is400() throws {
        var body = Array(#"{"request_id":"bad-utf8","feature":""#.utf8)
        body += [0xC3, 0x28, 0xFF]
        body += Array(#""}"#.utf8)
        let response = try server.client().send(method: "POST", path: "/v1/events",
                                                headers: ["Authorization": "Bearer \(server.ingestKey)"], body: body)
        #expect(response.status == 400)
        try expectHealthy()
    }

    @Test func absurdValuesAreRejectedPerField() throws {
        let body = """
            [{"request_id":"a","tokens_in":1e30},
             {"request_id":"b","latency_ms":-1},
             {"request_id":"c","cost_usd":1e12},
             {"request_id":"d","timestamp":"3026-01-01T00:00:00Z"},
             {"request_id":"e","status":"maybe"},
             {"request_id":"f","tokens_in":10,"cached_tokens":11},
             {"request_id":"g","http_status":42},
             {"request_id":"h","tags":"not-an-array"},
             {"request_id":"i","metadata":[1,2]},
             {"request_id":"\(String(repeating: "x", count: 600))"},
             {"request_id":"ok","timestamp":"2026-11-15T00:00:00Z","prompt":"\(String(repeating: "é", count: 20000))"}]
            """
        let response = try server.ingest(body)
        #expect(response.status == 200, "\(response.text)")
        guard case .object(let answer)? = response.json, case .array(let rejected)? = answer["rejected"] else { Issue.record("no body"); return }
        let fields = rejected.compactMap { value -> String? in
            guard case .object(let r) = value, case .string(let f)? = r["field"] else { return nil }
            return f
        }
        #expect(fields == ["tokens_in", "latency_ms", "cost_usd", "timestamp", "status", "cached_tokens", "http_status", "tags", "metadata", "request_id"])
        // The 40,000-byte prompt is cut at the 32 KiB cap on a character boundary and flagged, not rejected.
        let text = try server.sql("SELECT octet_length(prompt) AS n, truncated FROM event_texts")
        #expect(text.rows.first?["n"] == "32768")
        #expect(text.rows.first?["truncated"] == "t")
        try expectHealthy()
    }

    @Test func truncatedGzipIs400() throws {
        let gzip = try Gzip.compress(Array(#"[{"request_id":"gz"}]"#.utf8))
        let response = try server.client().send(method: "POST", path: "/v1/events",
                                                headers: ["Authorization": "Bearer \(server.ingestKey)", "Content-Encoding": "gzip"],
                                                body: Array(gzip.prefix(gzip.count - 6)))
        #expect(response.status == 400, "\(response.text)")
        try expectHealthy()
    }

    @Test func gzipBodyIsAccepted() throws {
        let gzip = try Gzip.compress(Array(#"[{"request_id":"gz-ok","timestamp":"2026-11-14T00:00:00Z","tokens_in":9}]"#.utf8))
        let response = try server.client().send(method: "POST", path: "/v1/events",
                                                headers: ["Authorization": "Bearer \(server.ingestKey)", "Content-Encoding": "gzip"], body: gzip)
        #expect(response.status == 200, "\(response.text)")
    }

    @Test func gzipBombIs413() throws {
        // 64 MiB of zeros compresses to ~64 KiB; the decompressed cap here is 4 MiB.
        let bomb = try Gzip.compress([UInt8](repeating: 0x20, count: 64 << 20))
        #expect(bomb.count < 1 << 20)
        let response = try server.client().send(method: "POST", path: "/v1/events",
                                                headers: ["Authorization": "Bearer \(server.ingestKey)", "Content-Encoding": "gzip"], body: bomb)
        #expect(response.status == 413)
        try expectHealthy()
    }

    @Test func oversizedBodyIs413() throws {
        let client = server.client()
        // Announce 2 MiB against a 1 MiB cap: answered from the headers, without reading the body.
        try client.write("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.ingestKey)\r\nContent-Length: \(2 << 20)\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 413)
        try expectHealthy()
    }

    @Test func headerFloodIs431() throws {
        let client = server.client()
        var head = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
        for i in 0..<5000 { head += "X-Flood-\(i): \(String(repeating: "a", count: 20))\r\n" }
        head += "\r\n"
        try? client.write(head)
        let response = try client.readResponse()
        #expect(response.status == 431)
        try expectHealthy()
    }

    @Test func unsupportedEncodingAndTypeAre415() throws {
        let encoded = try server.client().send(method: "POST", path: "/v1/events",
                                               headers: ["Authorization": "Bearer \(server.ingestKey)", "Content-Encoding": "br"], body: Array("[]".utf8))
        #expect(encoded.status == 415)
        let typed = try server.ingest("a=b", contentType: "application/x-www-form-urlencoded")
        #expect(typed.status == 415)
        #expect(errorField(typed).field == "Content-Type")
    }

    @Test func missingLengthIs411() throws {
        let client = server.client()
        try client.write("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.ingestKey)\r\n\r\n")
        #expect(try client.readResponse().status == 411)
    }

    @Test func slowClientIsCutOff() throws {
        let client = server.client()
        let started = ContinuousClock.now
        var answered: HTTPClient.Response?
        let request = Array("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".utf8)
        for byte in request {
            do { try client.write([byte]) } catch { break }
            Thread.sleep(forTimeInterval: 1.0)  // one byte a second
            if ContinuousClock.now - started > .seconds(6) { break }
        }
        answered = try? client.readResponse()
        #expect(answered?.status == 408)
        #expect(ContinuousClock.now - started < .seconds(10))
        try expectHealthy()
    }

    @Test func unknownRoutesAndMethods() throws {
        #expect(try server.get("/v1/nothing").status == 404)
        let wrong = try server.client().send(method: "DELETE", path: "/v1/events")
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "POST")
    }

    @Test(arguments: ["from=yesterday", "interval=week", "group_by=color", "from=-1h&to=-2h", "colour=red", "from=-1x"])
    func badQueryParametersAre400(query: String) throws {
        let response = try server.get("/v1/usage?\(query)")
        #expect(response.status == 400, "\(query): \(response.text)")
        #expect(errorField(response).field != nil, "\(query)")
    }
}
