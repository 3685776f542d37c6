import Testing
@testable import JSON

private func error(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

struct InvalidCase: CustomTestStringConvertible, Sendable {
    let bytes: [UInt8]
    let offset: Int
    let message: String
    init(_ text: String, _ offset: Int, _ message: String) {
        self.bytes = Array(text.utf8)
        self.offset = offset
        self.message = message
    }
    init(bytes: [UInt8], _ offset: Int, _ message: String) {
        self.bytes = bytes
        self.offset = offset
        self.message = message
    }
    var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}

struct JSONParserInvalidTests {
    @Test(arguments: [
        // structure
        InvalidCase("", 0, "unexpected end of input"),
        InvalidCase("  \n", 3, "unexpected end of input"),
        InvalidCase("[1,2", 4, "unexpected end of input"),
        InvalidCase("{\"a\":1", 6, "unexpected end of input"),
        InvalidCase("{\"a\"", 4, "unexpected end of input"),
        InvalidCase("[1,]", 3, "trailing comma in array"),
        InvalidCase("{\"a\":1,}", 7, "trailing comma in object"),
        InvalidCase("[1 2]", 3, "expected ',' or ']'"),
        InvalidCase("{\"a\" 1}", 5, "expected ':'"),
        InvalidCase("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"),
        InvalidCase("{a:1}", 1, "to start an object key"),
        InvalidCase("{'a':1}", 1, "to start an object key"),
        InvalidCase("[,1]", 1, "expected a JSON value"),
        InvalidCase("1 2", 2, "after the JSON value"),
        InvalidCase("{} x", 3, "after the JSON value"),
        InvalidCase("[1] // comment", 4, "after the JSON value"),
        InvalidCase("/* c */ 1", 0, "expected a JSON value"),
        // literals
        InvalidCase("tru", 3, "unexpected end of input"),
        InvalidCase("trUe", 2, "expected 'true'"),
        InvalidCase("nul1", 3, "expected 'null'"),
        InvalidCase("NaN", 0, "expected a JSON value"),
        InvalidCase("Infinity", 0, "expected a JSON value"),
        InvalidCase("-Infinity", 1, "expected a digit"),
        InvalidCase("[None]", 1, "expected a JSON value"),
        // numbers
        InvalidCase("01", 1, "leading zeros are not allowed"),
        InvalidCase("-012", 2, "leading zeros are not allowed"),
        InvalidCase("+1", 0, "expected a JSON value"),
        InvalidCase(".5", 0, "expected a JSON value"),
        InvalidCase("1.", 2, "unexpected end of input"),
        InvalidCase("1.e5", 2, "after the decimal point"),
        InvalidCase("1e", 2, "unexpected end of input"),
        InvalidCase("1e+", 3, "unexpected end of input"),
        InvalidCase("[1e-]", 4, "in the exponent"),
        InvalidCase("-", 1, "unexpected end of input"),
        InvalidCase("0x10", 1, "after the JSON value"),
        // strings
        InvalidCase("\"abc", 4, "unexpected end of input in a string"),
        InvalidCase("\"a\tb\"", 2, "unescaped control character"),
        InvalidCase("\"a\nb\"", 2, "unescaped control character"),
        InvalidCase("[\"0123456789\u{1F}\"]", 12, "unescaped control character"),
        InvalidCase("\"\\x\"", 1, "invalid escape"),
        InvalidCase("\"\\u12G4\"", 5, "hex digit"),
        InvalidCase("\"\\u12", 5, "unexpected end of input in a string"),
        InvalidCase("\"\\uD800\"", 1, "lone high surrogate"),
        InvalidCase("\"ab\\uD800\\u0041\"", 3, "lone high surrogate"),
        InvalidCase("\"\\uDC00\"", 1, "lone low surrogate"),
        InvalidCase("\"\\uDBFF\\uDBFF\"", 1, "lone high surrogate"),
        InvalidCase("\"\\", 2, "unexpected end of input in a string"),
        // invalid UTF-8
        InvalidCase(bytes: [0x22, 0xC0, 0x80, 0x22], 1, "invalid UTF-8"),               // overlong NUL
        InvalidCase(bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], 1, "invalid UTF-8"),         // overlong '/'
        InvalidCase(bytes: [0x22, 0xF0, 0x82, 0x82, 0xAC, 0x22], 1, "invalid UTF-8"),   // overlong €
        InvalidCase(bytes: [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22], 2, "invalid UTF-8"),   // U+D800 in UTF-8
        InvalidCase(bytes: [0x22, 0xED, 0xBF, 0xBF, 0x22], 1, "invalid UTF-8"),         // U+DFFF in UTF-8
        InvalidCase(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8"),   // > U+10FFFF
        InvalidCase(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, "invalid UTF-8"),
        InvalidCase(bytes: [0x22, 0xFF, 0x22], 1, "invalid UTF-8"),
        InvalidCase(bytes: [0x22, 0x80, 0x22], 1, "invalid UTF-8"),                     // lone continuation
        InvalidCase(bytes: [0x22, 0xC3, 0x22], 1, "invalid UTF-8"),                     // truncated
        InvalidCase(bytes: [0x22, 0xE2, 0x82], 1, "invalid UTF-8"),                     // truncated at end
        InvalidCase(bytes: Array("\"0123456789abcdef".utf8) + [0xC3, 0x28, 0x22], 17, "invalid UTF-8"),
        InvalidCase(bytes: Array("\"x\\n".utf8) + [0xE0, 0x9F, 0xBF, 0x22], 4, "invalid UTF-8"), // after an escape
        InvalidCase(bytes: [0xEF, 0xBB], 0, "expected a JSON value"),                  // partial BOM
        InvalidCase(bytes: [0xC3, 0xA9], 0, "expected a JSON value"),                  // UTF-8 outside strings
        // depth
        InvalidCase(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), 64, "nesting deeper than 64"),
    ])
    func rejects(_ c: InvalidCase) throws {
        let e = try #require(error(c.bytes))
        #expect(e.offset == c.offset, "\(e)")
        #expect(e.message.contains(c.message), "\(e)")
        #expect(e.description == "\(e.message) at byte \(e.offset)")
    }

    @Test(arguments: [1, 100, 1_000_000])
    func deepNestingFailsWithoutOverflow(_ depth: Int) throws {
        for open in ["[", "{\"k\":"] {
            let bytes = Array(String(repeating: open, count: depth).utf8)
            let e = try #require(error(bytes, maxDepth: 64))
            if depth <= 64 {
                #expect(e.message == "unexpected end of input")
            } else {
                #expect(e.message.contains("nesting deeper than 64"))
                #expect(e.offset == 64 * open.utf8.count)
            }
        }
    }

    @Test func maxDepthIsClampedToCeiling() throws {
        let n = JSONParser.depthCeiling + 1
        let text = String(repeating: "[", count: n) + String(repeating: "]", count: n)
        let e = try #require(error(Array(text.utf8), maxDepth: .max))
        #expect(e.offset == JSONParser.depthCeiling)
        let ok = String(repeating: "[", count: n - 1) + String(repeating: "]", count: n - 1)
        #expect(throws: Never.self) { try JSONParser.parse(Array(ok.utf8), maxDepth: .max) }
    }

    @Test func maxDepthZeroAllowsOnlyScalars() throws {
        #expect(try JSONParser.parse(Array("1".utf8), maxDepth: 0) == 1)
        #expect(error(Array("[]".utf8), maxDepth: 0)?.offset == 0)
    }
}
