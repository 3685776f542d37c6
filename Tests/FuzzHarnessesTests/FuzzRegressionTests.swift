import Foundation
import FuzzHarnesses
import Testing

/// Every seed of the fuzz corpus and every input a fuzzer ever crashed on (kept in `Fuzz/crashes/`
/// once fixed) goes through the same harness as under libFuzzer: a regression crashes this test.
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ target: String) -> [URL] {
        ["corpus", "crashes"].flatMap { folder -> [URL] in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
        }
    }

    @Test(arguments: FuzzHarnesses.targets)
    func replaysSeedsAndSavedCrashes(target: String) throws {
        let inputs = FuzzRegressionTests.inputs(target)
        #expect(inputs.count >= 3, "the seed corpus of \(target) is missing")
        for input in inputs {
            FuzzHarnesses.run(target, Array(try Data(contentsOf: input)))
        }
    }
}
