import Testing
@testable import HTTP

/// What the parser produced, flattened for comparison.
enum Parsed: Equatable, CustomStringConvertible {
    case head(method: String, target: String, keepAlive: Bool, framing: HTTPBodyFraming)
    case body(String)
    case error(Int)

    var description: String {
        switch self {
        case .head(let method, let target, let keepAlive, let framing): "head(\(method) \(target) ka=\(keepAlive) \(framing))"
        case .body(let text): "body(\(text.debugDescription))"
        case .error(let status): "error(\(status))"
        }
    }
}

/// Feeds `chunks` one after another, draining events after each, as the server does.
func parse(_ chunks: [[UInt8]], limits: HTTPParserLimits = .init()) -> [Parsed] {
    var parser = HTTPRequestParser(limits: limits)
    var results: [Parsed] = []
    for chunk in chunks {
        parser.append(chunk)
        drain: while true {
            switch parser.next() {
            case .needMoreData:
                break drain
            case .head(let head):
                results.append(.head(method: head.method, target: head.target, keepAlive: head.keepAlive, framing: head.framing))
            case .end(let body):
                results.append(.body(String(decoding: body, as: UTF8.self)))
            case .error(let error):
                results.append(.error(error.status))
                return results
            }
        }
    }
    return results
}

func parse(_ text: String, limits: HTTPParserLimits = .init()) -> [Parsed] {
    parse([Array(text.utf8)], limits: limits)
}

struct HTTPRequestParserTests {
    static let pipelined = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        + "POST /b?q=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n"
        + "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n"

    static let pipelinedExpected: [Parsed] = [
        .head(method: "POST", target: "/a", keepAlive: true, framing: .length(5)),
        .body("hello"),
        .head(method: "POST", target: "/b?q=1", keepAlive: true, framing: .chunked),
        .body("abc0123456789abcdef"),
        .head(method: "GET", target: "/c", keepAlive: false, framing: .none),
        .body(""),
    ]

    @Test func parsesPipelinedRequestsInOneBuffer() {
        #expect(parse(Self.pipelined) == Self.pipelinedExpected)
    }

    @Test func sameResultWhenSplitAtEveryByteBoundary() {
        let bytes = Array(Self.pipelined.utf8)
        for split in 0...bytes.count {
            let result = parse([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(result == Self.pipelinedExpected, "split at \(split)")
        }
        #expect(parse(bytes.map { [$0] }) == Self.pipelinedExpected, "byte by byte")
    }

    @Test func parsesHeadFields() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("PATCH /x%20y?a=1 HTTP/1.0\r\nHost: h\r\nX-Multi: 1\r\nx-multi:  2 \r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n".utf8))
        guard case .head(let head) = parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.method == "PATCH")
        #expect(head.minorVersion == 0)
        #expect(head.keepAlive)
        #expect(head.headers["host"] == "h")
        #expect(head.headers.values(for: "X-MULTI") == ["1", "2"])
        #expect(head.framing == .length(0))
        guard case .end(let body) = parser.next() else {
            Issue.record("no end")
            return
        }
        #expect(body.isEmpty)
        #expect(parser.isBetweenRequests)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
    ])
    func keepAliveSemantics(request: String, keepAlive: Bool) {
        guard case .head(_, _, let actual, _)? = parse(request).first else {
            Issue.record("no head")
            return
        }
        #expect(actual == keepAlive)
    }

    @Test func acceptsBareLFAndLeadingEmptyLines() {
        #expect(parse("\r\nGET /a HTTP/1.1\nHost: x\n\n") == [
            .head(method: "GET", target: "/a", keepAlive: true, framing: .none), .body(""),
        ])
    }

    @Test func expectContinueIsReported() {
        var parser = HTTPRequestParser()
        parser.append(Array("PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .head(let head) = parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.expectsContinue)
        #expect(!parser.hasBodyBytes)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400),                          // obs-fold
        ("GET / HTTP/1.1\r\nX : a\r\n\r\n", 400),                               // space before colon
        ("GET / HTTP/1.1\r\nX: a\u{01}b\r\n\r\n", 400),                         // control character
        ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400),                             // bare CR
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),                                        // method not a token
        (" GET / HTTP/1.1\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1 \r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),                                                 // HTTP/0.9
        ("GET / HTTP/2.0\r\n\r\n", 505),
        ("GET / http/1.1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\n\r\n", 411),
        ("PUT / HTTP/1.1\r\n\r\n", 411),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n", 400),
    ])
    func rejectsBadRequests(request: String, status: Int) {
        #expect(parse(request).last == .error(status), "\(request.debugDescription)")
    }

    @Test func enforcesHeaderLimits() {
        let limits = HTTPParserLimits(maxHeaderBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 100)
        let manyHeaders = "GET / HTTP/1.1\r\n" + (0..<11).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        #expect(parse(manyHeaders, limits: limits) == [.error(431)])
        let tenHeaders = "GET / HTTP/1.1\r\n" + (0..<10).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        #expect(parse(tenHeaders, limits: limits).count == 2)
        // No terminator yet, but already over the limit: refused without waiting for the rest.
        let longHeader = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000)
        #expect(parse(longHeader, limits: limits) == [.error(431)])
        // An over-long request target counts into the head limit (431, not 414).
        let longTarget = "GET /" + String(repeating: "a", count: 2000) + " HTTP/1.1\r\n\r\n"
        #expect(parse(longTarget, limits: limits) == [.error(431)])
    }

    @Test func enforcesBodyLimits() {
        let limits = HTTPParserLimits(maxHeaderBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 10)
        #expect(parse("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits: limits) == [.error(413)])
        let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n"
        #expect(parse(chunked, limits: limits).last == .error(413))
        let trailerFlood = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
            + (0..<11).map { "T-\($0): v\r\n" }.joined() + "\r\n"
        #expect(parse(trailerFlood, limits: limits).last == .error(431))
    }

    @Test func sameContentLengthTwiceIsAccepted() {
        #expect(parse("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok") == [
            .head(method: "POST", target: "/", keepAlive: true, framing: .length(2)), .body("ok"),
        ])
    }

    /// Mutated inputs (seeded, so reproducible): never a crash, and the same events however the bytes arrive.
    @Test func mutatedInputsParseTheSameWhenSplit() {
        var rng = SplitMix64(seed: 0x70_6B_6E_6D)
        let base = Array(Self.pipelined.utf8)
        let alphabet = Array("\r\n :;,0123456789abcdefXx-\t\u{0}\u{7f}\u{80}".utf8)
        let limits = HTTPParserLimits(maxHeaderBytes: 256, maxHeaderCount: 4, maxBodyBytes: 64)
        for _ in 0..<3000 {
            var input = base
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let index = Int(rng.next() % UInt64(input.count))
                switch rng.next() % 3 {
                case 0: input[index] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: input.remove(at: index)
                default: input.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: index)
                }
            }
            let whole = parse([input], limits: limits)
            let split = Int(rng.next() % UInt64(input.count + 1))
            let parts = parse([Array(input[..<split]), Array(input[split...])], limits: limits)
            #expect(whole == parts, "\(String(decoding: input, as: UTF8.self).debugDescription) split at \(split)")
        }
    }

    @Test func errorIsSticky() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\r\n\r\n".utf8))
        guard case .error(let first) = parser.next(), case .error(let second) = parser.next() else {
            Issue.record("expected errors")
            return
        }
        #expect(first == second)
        #expect(first.response.status == 400)
    }
}

/// Small deterministic PRNG for reproducible mutation tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
