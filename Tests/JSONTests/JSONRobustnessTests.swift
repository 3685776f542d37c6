import Testing
@testable import JSON

/// A cheap in-process stand-in for fuzzing: random and mutated inputs must only ever
/// produce a value or a `JSONParseError` with an in-range offset.
struct JSONRobustnessTests {
    static let seeds: [String] = [
        #"{"a":[1,2.5e-3,-0,true,false,null],"b":{"c":"d\"\\\u00e9\ud83d\ude00"},"é":"中"}"#,
        #"[[[[{"x":[]}]]]]"#,
        "\"0123456789abcdefghij\\n klmnop \u{1F600}\"",
        #"{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k0":10}"#,
    ]

    static func check(_ bytes: [UInt8]) {
        do {
            let v = try JSONParser.parse(bytes, maxDepth: 16)
            // Whatever parses must write and re-parse to the same value.
            #expect(try JSONParser.parse(JSONWriter.bytes(for: v), maxDepth: 16) == v)
        } catch {
            #expect(error.offset >= 0 && error.offset <= bytes.count)
        }
        for result in JSONParser.parseLines(bytes, maxDepth: 16) {
            if case .failure(let e) = result { #expect(e.offset >= 0 && e.offset <= bytes.count) }
        }
    }

    @Test(arguments: 0..<4)
    func mutatedDocumentsNeverCrash(_ seed: Int) {
        var g = SplitMix64(state: UInt64(seed) &+ 1000)
        let interesting: [UInt8] = [0x00, 0x0A, 0x22, 0x5C, 0x5B, 0x5D, 0x7B, 0x7D, 0x2C, 0x3A, 0x75, 0x80, 0xBF,
                                    0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 0x30, 0x2D, 0x65, 0x2E]
        for _ in 0..<3000 {
            var bytes = Array(Self.seeds.randomElement(using: &g)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &g) {
                let i = Int.random(in: 0...bytes.count, using: &g)
                switch Int.random(in: 0..<4, using: &g) {
                case 0 where i < bytes.count: bytes[i] = interesting.randomElement(using: &g)!
                case 1: bytes.insert(interesting.randomElement(using: &g)!, at: i)
                case 2 where i < bytes.count: bytes.remove(at: i)
                default: bytes = Array(bytes[..<i])
                }
            }
            Self.check(bytes)
        }
    }

    @Test func randomBytesNeverCrash() {
        var g = SplitMix64(state: 4242)
        for _ in 0..<5000 {
            let n = Int.random(in: 0...40, using: &g)
            Self.check((0..<n).map { _ in UInt8.random(in: 0...255, using: &g) })
        }
    }

    @Test func everyPrefixOfAValidDocumentIsHandled() {
        for seed in Self.seeds {
            let bytes = Array(seed.utf8)
            for n in 0...bytes.count { Self.check(Array(bytes[..<n])) }
        }
    }
}
