import Foundation
@testable import Store
import Testing
import TokenmeterCore

/// The reader's merge of packed sketch rows (Postgres integer arrays in text form).
struct SketchCellsTests {
    @Test(arguments: [
        ("{}", [Int64]()),
        ("{7}", [7]),
        ("{-100000,0,1,250}", [-100_000, 0, 1, 250]),
        ("{9223372036854775807,-9223372036854775807}", [Int64.max, -Int64.max]),
    ])
    func parsesIntegerArrays(_ text: String, _ expected: [Int64]) {
        #expect(SketchCells.integers(inArray: text) == expected)
    }

    @Test(arguments: ["", "{", "1,2", "{1,,2}", "{1,}", "{,1}", "{NULL}", "{1,2}x", "{{1,2}}", "{1.5}", "{-}", "{1-2}", "{--1}",
                      "{9223372036854775808}", "{ 1}"])
    func refusesAnythingElse(_ text: String) {
        #expect(SketchCells.integers(inArray: text) == nil)
    }

    /// A subtracted row (a piece of a coarser row outside the range) takes its counts away again;
    /// buckets that net out to nothing leave the sketch, whatever the order of the rows.
    @Test func subtractedRowsTakeTheirCountsAway() {
        var merged = SketchCells()
        merged.add(indexes: [3, 5], counts: [2, 1], sign: -1)   // hours 00–02, subtracted …
        merged.add(indexes: [1, 3, 5, 9], counts: [4, 6, 1, 2])  // … from their day
        merged.add(indexes: [9], counts: [2], sign: -1)
        var expected = LatencySketch()
        expected.add(index: 1, count: 4)
        expected.add(index: 3, count: 4)
        #expect(merged.sketch() == expected)
        #expect(merged.sketch().count == 8)
    }

    /// Merging sorted rows equals adding every (index, count) to one sketch.
    @Test(arguments: 0..<50)
    func mergeEqualsAddingEveryCell(_ seed: Int) {
        // Deterministic pseudo-random rows: a linear congruential sequence from the seed.
        var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var merged = SketchCells()
        var expected = LatencySketch()
        for _ in 0..<(1 + next(8)) {
            var indexes = Set((0..<next(40)).map { _ in next(300) - 50 })
            if next(4) == 0 { indexes.insert(LatencySketch.zeroIndex) }
            guard !indexes.isEmpty else { continue }
            let sorted = indexes.sorted()
            let counts = sorted.map { _ in Int64(1 + next(1000)) }
            merged.add(indexes: sorted.map(Int64.init), counts: counts)
            for (index, count) in zip(sorted, counts) { expected.add(index: index, count: count) }
        }
        #expect(merged.sketch() == expected)
    }
}
