import Testing
@testable import HTTP

struct HTTPMessageTests {
    @Test func errorBodyFormat() {
        let response = HTTPResponse.error(status: 400, code: "invalid_body", message: "bad \"gzip\"\n\\ \u{01}", field: "Content-Encoding")
        #expect(response.status == 400)
        #expect(response.headers["content-type"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"{"error":{"code":"invalid_body","message":"bad \"gzip\"\n\\ \u0001","field":"Content-Encoding"}}"#)
        let noField = HTTPResponse.error(status: 404, code: "not_found", message: "nö")
        #expect(String(decoding: noField.body, as: UTF8.self) == #"{"error":{"code":"not_found","message":"nö"}}"#)
    }

    @Test func jsonResponse() {
        let response = HTTPResponse.json(status: 201, body: Array("{}".utf8))
        #expect(response.status == 201)
        #expect(response.headers["Content-Type"] == "application/json")
    }

    @Test func headersAreOrderedAndCaseInsensitive() {
        var headers: HTTPHeaders = ["A": "1"]
        headers.add(name: "b", value: "2")
        headers.add(name: "a", value: "3")
        #expect(headers["a"] == "1")
        #expect(headers.values(for: "A") == ["1", "3"])
        #expect(headers.map(\.name) == ["A", "b", "a"])
        headers["A"] = "4"
        #expect(headers.map(\.name) == ["b", "A"])
        headers["b"] = nil
        #expect(headers.count == 1)
        #expect(!headers.contains("b"))
    }

    @Test func requestTargetDecoding() {
        let request = HTTPRequest(method: "GET", target: "/v1/a%20b/%E2%9C%93?q=x+y%26z&flag&empty=&q=2")
        #expect(request.path == "/v1/a b/✓")
        #expect(request.query == [
            QueryItem(name: "q", value: "x y&z"), QueryItem(name: "flag", value: ""),
            QueryItem(name: "empty", value: ""), QueryItem(name: "q", value: "2"),
        ])
        #expect(request.queryValue("q") == "x y&z")
        #expect(request.queryValue("missing") == nil)
        #expect(HTTPRequest(method: "GET", target: "http://h:1/p?a=1").path == "/p")
        #expect(HTTPRequest(method: "GET", target: "/bad%zz").path == "/bad%zz")
    }

    @Test func responseHeadEncoding() {
        var response = HTTPResponse.text(status: 200, "hi")
        response.headers.add(name: "Content-Length", value: "999")
        response.headers.add(name: "X-Evil", value: "a\r\nSet-Cookie: x")
        var bytes: [UInt8] = []
        response.encodeHead(keepAlive: false, date: nil, into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self)
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
        var noContent: [UInt8] = []
        HTTPResponse(status: 204).encodeHead(keepAlive: true, date: Array("D".utf8), into: &noContent)
        #expect(String(decoding: noContent, as: UTF8.self) == "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\nDate: D\r\n\r\n")
    }

    @Test func dateFormat() {
        #expect(String(decoding: HTTPDateCache.format(784111777), as: UTF8.self) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
