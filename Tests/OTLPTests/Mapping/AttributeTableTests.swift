import Foundation
import Testing
@testable import OTLP

struct AttributeTableTests {
    @Test func everyNameHasOneRule() {
        let names = AttributeTable.rows.map(\.0)
        #expect(Set(names).count == names.count, "a name listed twice would silently take the later rank")
        #expect(AttributeTable.rules.count == names.count)
    }

    @Test func ranksFollowTheRowOrderWithinAField() {
        #expect(AttributeTable.rules["gen_ai.usage.input_tokens"]?.rank == 0)
        #expect(AttributeTable.rules["gen_ai.usage.prompt_tokens"]?.rank == 1)
        #expect(AttributeTable.rules["gen_ai.response.model"]?.rank == 0, "the billed model version wins over the requested one")
    }

    /// The README's "OpenTelemetry" section documents the table; keep the two in step.
    @Test func theReadmeListsEveryName() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "## OpenTelemetry"))
        let section = text[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        let documented = section[..<end]
        let names = AttributeTable.rows.map(\.0) + AttributeTable.firstTokenEvents.sorted()
        let missing = names.filter { !documented.contains("`\($0)`") }
        #expect(missing.isEmpty, "not in the README: \(missing)")
    }
}
