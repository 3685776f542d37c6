import Testing
@testable import JSON

/// Small deterministic PRNG so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum ValueGenerator {
    static let alphabet: [Character] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "中", "😀", "\u{FFFF}",
        "\u{10FFFF}", "e\u{301}", "\u{FEFF}",
    ]

    static func string<G: RandomNumberGenerator>(_ g: inout G) -> String {
        String((0..<Int.random(in: 0...12, using: &g)).map { _ in alphabet.randomElement(using: &g)! })
    }

    static func number<G: RandomNumberGenerator>(_ g: inout G) -> JSONNumber {
        switch Int.random(in: 0..<4, using: &g) {
        case 0: return JSONNumber(Int64.random(in: .min ... .max, using: &g))
        case 1: return JSONNumber(Double(bitPattern: UInt64.random(in: 0 ... .max, using: &g))) ?? JSONNumber(0)
        case 2: return JSONNumber(Double.random(in: -1e6...1e6, using: &g))!
        default: return JSONNumber(literal: ["0", "-0", "1e400", "12345678901234567890123", "1.50", "2E-3"]
            .randomElement(using: &g)!)!
        }
    }

    static func value<G: RandomNumberGenerator>(_ g: inout G, depth: Int) -> JSONValue {
        let kinds = depth > 4 ? 4 : 6
        switch Int.random(in: 0..<kinds, using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .number(number(&g))
        case 3: return .string(string(&g))
        case 4: return .array((0..<Int.random(in: 0...5, using: &g)).map { _ in value(&g, depth: depth + 1) })
        default:
            let count = Int.random(in: 0...14, using: &g)   // crosses the linear-scan limit
            return .object(JSONObject((0..<count).map { _ in (string(&g), value(&g, depth: depth + 1)) }))
        }
    }
}

struct JSONRoundTripTests {
    @Test(arguments: 0..<8)
    func parseOfWriteIsIdentity(_ seed: Int) throws {
        var g = SplitMix64(state: UInt64(seed))
        for _ in 0..<250 {
            let v = ValueGenerator.value(&g, depth: 0)
            let bytes = JSONWriter.bytes(for: v)
            let back = try JSONParser.parse(bytes)
            #expect(back == v)
            #expect(JSONWriter.bytes(for: back) == bytes)
        }
    }

    @Test func lineOfWrittenValuesParsesAsNDJSON() throws {
        var g = SplitMix64(state: 99)
        let values = (0..<100).map { _ in ValueGenerator.value(&g, depth: 0) }
        var body: [UInt8] = []
        for v in values { body += JSONWriter.bytes(for: v) + [0x0A] }
        let parsed = try JSONParser.parseLines(body).map { try $0.get() }
        #expect(parsed == values)
    }
}
