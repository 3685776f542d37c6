import Testing
@testable import JSON

private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONValue {
    try JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
}

struct JSONParserValidTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .number(JSONNumber(literal: "0")!)),
        ("-0", .number(JSONNumber(literal: "-0")!)),
        ("12.5e-3", .number(JSONNumber(literal: "12.5e-3")!)),
        ("1E+2", .number(JSONNumber(literal: "1E+2")!)),
        ("\"\"", .string("")),
        ("\"héllo 😀\"", .string("héllo 😀")),
        ("[]", .array([])),
        ("{}", .object(JSONObject())),
        (" \t\r\n[ 1 , \"a\" , null ]\n", [1, "a", .null]),
        ("{\"a\":{\"b\":[true,{\"c\":null}]}}", ["a": ["b": [true, ["c": .null]]]]),
        ("[[[[]]]]", [[[[]]]]),
        ("\u{FEFF}{\"bom\":1}", ["bom": 1]),
    ] as [(String, JSONValue)])
    func parsesValidDocument(_ text: String, _ expected: JSONValue) throws {
        #expect(try parse(text) == expected)
    }

    @Test(arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u4E2D""#, "Aé中"),
        (#""\uD83D\uDE00""#, "😀"),
        (#""\ud834\udd1e x""#, "𝄞 x"),
        (#""\u0000""#, "\u{0}"),
        (#""abc\ndef ghi jkl mno pqr""#, "abc\ndef ghi jkl mno pqr"),
        (#""long run of plain ascii before the escape \" and after it""#,
         "long run of plain ascii before the escape \" and after it"),
        (#""é\té""#, "é\té"),
    ])
    func decodesEscapes(_ text: String, _ expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test func keepsKeyOrderAndLastDuplicateWins() throws {
        let value = try parse(#"{"b":1,"a":2,"b":3}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a"])
        #expect(object["b"] == 3)
        #expect(object.count == 2)
    }

    @Test func largeObjectUsesHashLookupWithDuplicates() throws {
        var text = "{"
        for i in 0..<100 { text += "\"k\(i)\":\(i)," }
        text += "\"k7\":\"last\"}"
        let object = try #require(try parse(text).objectValue)
        #expect(object.count == 100)
        #expect(object["k7"] == "last")
        #expect(object["k99"] == 99)
        #expect(object["k100"] == nil)
        #expect(object.keys.first == "k0")
        #expect(object.keys[7] == "k7")
    }

    @Test func keysCompareByBytesNotCanonicalEquivalence() throws {
        // "é" precomposed (C3 A9) and decomposed (65 CC 81) are different JSON keys.
        let object = try #require(try parse("{\"\u{E9}\":1,\"e\u{301}\":2}").objectValue)
        #expect(object.count == 2)
        #expect(object["\u{E9}"] == 1)
        #expect(object["e\u{301}"] == 2)
    }

    @Test func objectEqualityIgnoresOrder() throws {
        #expect(try parse(#"{"a":1,"b":[2]}"#) == parse(#"{"b":[2],"a":1}"#))
        #expect(try parse(#"{"a":1}"#) != parse(#"{"a":1,"b":2}"#))
    }

    @Test func nestingUpToMaxDepthIsAccepted() throws {
        let text = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try parse(text) }
        let deeper = String(repeating: "{\"a\":", count: 200) + "1" + String(repeating: "}", count: 200)
        #expect(throws: Never.self) { try parse(deeper, maxDepth: 200) }
    }

    @Test func accessors() throws {
        let value = try parse(#"{"n":42,"d":1.5,"s":"x","b":false,"a":[1,2],"z":null}"#)
        #expect(value["n"]?.int64Value == 42)
        #expect(value["d"]?.doubleValue == 1.5)
        #expect(value["d"]?.int64Value == nil)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["b"]?.boolValue == false)
        #expect(value["a"]?[1]?.int64Value == 2)
        #expect(value["a"]?[2] == nil)
        #expect(value["z"]?.isNull == true)
        #expect(value["missing"] == nil)
    }
}
