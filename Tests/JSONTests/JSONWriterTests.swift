import Testing
@testable import JSON

private func text(_ value: JSONValue) -> String {
    String(decoding: JSONWriter.bytes(for: value), as: UTF8.self)
}

struct JSONWriterTests {
    @Test(arguments: [
        ("plain", #""plain""#),
        ("quote \" backslash \\ slash /", #""quote \" backslash \\ slash /""#),
        ("\n\r\t\u{08}\u{0C}", #""\n\r\t\b\f""#),
        ("\u{0}\u{1}\u{1F}\u{7F}", #""\u0000\u0001\u001f"# + "\u{7F}\""),
        ("é中😀\u{2028}", "\"é中😀\u{2028}\""),
    ])
    func escapesStrings(_ input: String, _ expected: String) {
        #expect(text(.string(input)) == expected)
    }

    @Test(arguments: [
        (0.1, "0.1"), (-2.5, "-2.5"), (1e-7, "1e-07"), (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (100.0, "100.0"), (Double.nan, "null"), (Double.infinity, "null"), (-Double.infinity, "null"),
    ])
    func writesShortestDoublesAndNeverNaN(_ value: Double, _ expected: String) throws {
        var w = JSONWriter()
        w.double(value)
        let s = String(decoding: w.bytes, as: UTF8.self)
        #expect(s == expected)
        if value.isFinite {
            #expect(try JSONParser.parse(w.bytes).doubleValue == value)
        }
    }

    @Test(arguments: [Int64.min, -1, 0, 7, 10, 99, 1_000_000, Int64.max])
    func writesIntegers(_ value: Int64) throws {
        var w = JSONWriter()
        w.int(value)
        #expect(String(decoding: w.bytes, as: UTF8.self) == String(value))
    }

    @Test func streamingHelpersPlaceCommasAndColons() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("data")
        w.beginArray()
        for i in 0..<3 {
            w.beginObject()
            w.key("id"); w.int(Int64(i))
            w.key("ok"); w.bool(i != 1)
            w.key("cost"); w.rawNumber("0.00015")
            w.endObject()
        }
        w.beginArray(); w.endArray()
        w.null()
        w.endArray()
        w.key("bad"); w.rawNumber("NaN")
        w.key("nested"); w.write(["x": [1, "two"], "y": .null])
        w.key("empty"); w.beginObject(); w.endObject()
        w.key("d"); w.double(2.5)
        w.key("s"); w.string("a\"b")
        w.endObject()
        let expected = #"{"data":[{"id":0,"ok":true,"cost":0.00015},{"id":1,"ok":false,"cost":0.00015},"#
            + #"{"id":2,"ok":true,"cost":0.00015},[],null],"bad":null,"nested":{"x":[1,"two"],"y":null},"#
            + #""empty":{},"d":2.5,"s":"a\"b"}"#
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
        #expect(throws: Never.self) { try JSONParser.parse(w.bytes) }
    }

    @Test func encodedKeysWriteWhatStringKeysWrite() throws {
        let names = ["calls", "a\"b", "tab\there", "ünï", ""]
        var byString = JSONWriter(), byKey = JSONWriter()
        for w in [0, 1] {
            var writer = JSONWriter()
            writer.beginObject()
            for (i, name) in names.enumerated() {
                if w == 0 { writer.key(name) } else { writer.key(JSONWriter.Key(name)) }
                writer.int(i)
            }
            writer.endObject()
            if w == 0 { byString = writer } else { byKey = writer }
        }
        #expect(byKey.bytes == byString.bytes)
        #expect(String(decoding: byKey.bytes, as: UTF8.self) == #"{"calls":0,"a\"b":1,"tab\there":2,"ünï":3,"":4}"#)
    }

    @Test func keepsNumberLiteralsVerbatim() throws {
        let value = try JSONParser.parse(Array(#"[1.50,-0,1E+2,123456789012345678901234567890]"#.utf8))
        #expect(text(value) == #"[1.50,-0,1E+2,123456789012345678901234567890]"#)
    }

    @Test func writesObjectsInKeyOrder() {
        let object = JSONObject([("z", 1), ("a", 2), ("m", 3), ("a", 4)])
        #expect(text(.object(object)) == #"{"z":1,"a":4,"m":3}"#)
    }
}
