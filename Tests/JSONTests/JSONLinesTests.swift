import Testing
@testable import JSON

struct JSONLinesTests {
    @Test func oneBadLineDoesNotSpoilTheOthers() throws {
        let text = "{\"a\":1}\n{\"a\":2,}\n\n   \r\n[3]\r\n\"x\" \"y\"\n{\"a\":4}"
        let results = JSONParser.parseLines(Array(text.utf8))
        #expect(results.count == 5)
        #expect(try results[0].get() == ["a": 1])
        guard case .failure(let e1) = results[1] else { Issue.record("line 2 should fail"); return }
        #expect(e1.message == "trailing comma in object")
        #expect(e1.offset == 15)            // offsets count from the start of the whole body
        #expect(try results[2].get() == [3])
        guard case .failure(let e3) = results[3] else { Issue.record("line 5 should fail"); return }
        #expect(e3.offset == 32)
        #expect(try results[4].get() == ["a": 4])
    }

    @Test func unterminatedValueStopsAtLineEnd() {
        let results = JSONParser.parseLines(Array("[1,\n2]\n".utf8))
        #expect(results.count == 2)
        if case .failure(let e) = results[0] { #expect(e.offset == 3) } else { Issue.record("expected failure") }
        if case .failure(let e) = results[1] { #expect(e.offset == 5) } else { Issue.record("expected failure") }
    }

    @Test(arguments: ["", "\n", "\n\n  \n", "\u{FEFF}"])
    func blankInputGivesNoResults(_ text: String) {
        #expect(JSONParser.parseLines(Array(text.utf8)).isEmpty)
    }

    @Test func bomOnFirstLineAndNoTrailingNewline() throws {
        let results = JSONParser.parseLines(Array("\u{FEFF}1\n2".utf8))
        #expect(try results.map { try $0.get() } == [1, 2])
    }
}
