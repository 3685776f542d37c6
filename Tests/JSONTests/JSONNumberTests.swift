import Testing
@testable import JSON

struct JSONNumberTests {
    @Test(arguments: [
        ("0", Int64(0)), ("-0", 0), ("42", 42), ("-42", -42),
        ("9223372036854775807", .max), ("-9223372036854775808", .min),
        ("1e3", 1000), ("2.50e1", 25), ("1.0", 1), ("-3.000", -3), ("0.0e5", 0),
        ("12300e-2", 123), ("1E+18", 1_000_000_000_000_000_000), ("92233720368547758070e-1", .max),
        ("0.00000000000000000000000000001e29", 1), ("0e999999999999999999999", 0),
    ] as [(String, Int64)])
    func exactIntegers(_ literal: String, _ expected: Int64) throws {
        let n = try #require(JSONNumber(literal: literal))
        #expect(n.int64 == expected)
    }

    @Test(arguments: [
        "1.5", "9223372036854775808", "-9223372036854775809", "1e19", "123456789012345678901234567890",
        "1e-1", "0.1e1000000000000", "1e999999999999", "12345e-3",
    ])
    func notExactInt64(_ literal: String) throws {
        let n = try #require(JSONNumber(literal: literal))
        #expect(n.int64 == nil)
    }

    @Test func bigIntegerKeepsTextAndDouble() throws {
        let value = try JSONParser.parse(Array("[123456789012345678901234567890, 1e400]".utf8))
        let big = try #require(value[0]?.numberValue)
        #expect(big.int64 == nil)
        #expect(big.text == "123456789012345678901234567890")
        #expect(big.double == 1.2345678901234568e29)
        let huge = try #require(value[1]?.numberValue)
        #expect(huge.text == "1e400")
        #expect(huge.double == nil)   // not representable as a finite Double
        #expect(huge.int64 == nil)
    }

    @Test(arguments: [("0.1", 0.1), ("-2.5e-3", -0.0025), ("1e-400", 0.0), ("17", 17.0)])
    func doubles(_ literal: String, _ expected: Double) throws {
        #expect(JSONNumber(literal: literal)?.double == expected)
    }

    @Test(arguments: ["", "-", "+1", "01", "1.", ".1", "1e", "1e+", "NaN", "Infinity", " 1", "1 ", "0x1", "1_000"])
    func invalidLiterals(_ literal: String) {
        #expect(JSONNumber(literal: literal) == nil)
    }

    @Test func fromDoubleAndInt() {
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(-Double.infinity) == nil)
        #expect(JSONNumber(0.1)?.text == "0.1")
        #expect(JSONNumber(Int64.min).text == "-9223372036854775808")
        #expect(JSONNumber(Int64.min).int64 == .min)
    }
}
