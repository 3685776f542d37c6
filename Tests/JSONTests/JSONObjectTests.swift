import Testing
@testable import JSON

struct JSONObjectTests {
    @Test(arguments: [0, 1, 8, 31, 32, 33, 100])
    func setGetRemoveAcrossTheLinearScanLimit(_ count: Int) {
        var object = JSONObject()
        for i in 0..<count { object["key\(i)"] = .number(JSONNumber(i)) }
        #expect(object.count == count)
        for i in 0..<count { #expect(object["key\(i)"] == .number(JSONNumber(i))) }
        #expect(object["key\(count)"] == nil)
        // Replace keeps position; remove shifts later keys; re-adding appends.
        if count > 0 {
            object["key0"] = "replaced"
            #expect(object.keys.first == "key0")
            #expect(object["key0"] == "replaced")
            object["key0"] = nil
            #expect(object.count == count - 1)
            #expect(object["key0"] == nil)
            for i in 1..<count { #expect(object["key\(i)"] == .number(JSONNumber(i))) }
            object["key0"] = true
            #expect(object.keys.last == "key0")
        }
        #expect(object == JSONObject(object.entries.map { ($0.key, $0.value) }))
    }

    @Test(arguments: [2, 40])
    func parserDuplicatesMatchBuilderDuplicates(_ distinct: Int) throws {
        var pairs: [(String, JSONValue)] = []
        for round in 0..<3 {
            for i in 0..<distinct { pairs.append(("k\(i % distinct)", .number(JSONNumber(round * 100 + i)))) }
        }
        var writer = JSONWriter()
        writer.beginObject()
        for (k, v) in pairs { writer.key(k); writer.write(v) }
        writer.endObject()
        let parsed = try #require(try JSONParser.parse(writer.bytes).objectValue)
        let built = JSONObject(pairs)
        #expect(parsed == built)
        #expect(parsed.keys == built.keys)
        #expect(parsed.count == distinct)
        #expect(parsed["k0"] == .number(JSONNumber(200)))
    }

    @Test func keysWithSharedPrefixAndSuffixStayDistinct() throws {
        // Same length, same first and last 8 bytes: equal signatures, different keys.
        let text = #"{"abcdefgh_1_ijklmnop":1,"abcdefgh_2_ijklmnop":2,"":3,"abcdefgh_1_ijklmnop":4}"#
        let object = try #require(try JSONParser.parse(Array(text.utf8)).objectValue)
        #expect(object.keys == ["abcdefgh_1_ijklmnop", "abcdefgh_2_ijklmnop", ""])
        #expect(object["abcdefgh_1_ijklmnop"] == 4)
        #expect(object["abcdefgh_2_ijklmnop"] == 2)
        #expect(object[""] == 3)
    }

    @Test func escapedAndPlainSpellingsOfAKeyAreTheSameKey() throws {
        let object = try #require(try JSONParser.parse(Array(#"{"a\u0062c":1,"abc":2,"\u00e9":3,"é":4}"#.utf8)).objectValue)
        #expect(object.keys == ["abc", "é"])
        #expect(object["abc"] == 2)
        #expect(object["é"] == 4)
    }

    @Test func iteratesInOrder() {
        let object: JSONObject = ["b": 1, "a": 2]
        #expect(object.map(\.key) == ["b", "a"])
        #expect(object.values == [1, 2])
    }
}
