import Foundation
import Testing
import TokenmeterCore

/// The log-bucket sketch against exact order statistics on heavy-tailed latencies.
struct LatencySketchTests {
    /// 200k latencies: a lognormal body (median 300 ms) with 5% of calls from a Pareto tail
    /// (α = 1.2, from 2 s, so some calls take minutes), plus sub-millisecond cache answers.
    static func heavyTailed(count: Int) -> [Double] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng)
            let pick = Double.random(in: 0..<1, using: &rng)
            if pick < 0.05 { return 2000 / pow(u, 1 / 1.2) }
            if pick < 0.07 { return Double.random(in: 0.05..<1, using: &rng) }
            let v = Double.random(in: 0..<1, using: &rng)
            let normal = sqrt(-2 * log(u)) * cos(2 * .pi * v)
            return exp(log(300) + 0.8 * normal)
        }
    }

    /// The exact nearest-rank quantile: the value of rank ⌈q·n⌉.
    static func exact(_ sorted: [Double], _ q: Double) -> Double {
        sorted[max(1, Int((q * Double(sorted.count)).rounded(.up))) - 1]
    }

    @Test func quantilesWithinOnePercentOfExact() {
        let values = Self.heavyTailed(count: 200_000)
        var sketch = LatencySketch()
        for value in values { sketch.add(value) }
        let sorted = values.sorted()
        #expect(sketch.count == 200_000)
        for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
            let exact = Self.exact(sorted, q)
            let estimate = sketch.quantile(q)!
            #expect(abs(estimate - exact) / exact <= 0.01, "q=\(q): \(estimate) vs \(exact)")
        }
        let maximum = sorted.last!
        #expect(abs(sketch.maximum! - maximum) / maximum <= 0.01)
    }

    @Test func mergedShardsEqualTheWhole() {
        let values = Self.heavyTailed(count: 100_000)
        var whole = LatencySketch()
        for value in values { whole.add(value) }
        // 64 shards, as minute buckets of different groups would hold them, merged in a scrambled order.
        var shards = Array(repeating: LatencySketch(), count: 64)
        for (i, value) in values.enumerated() { shards[(i * 7919) % 64].add(value) }
        var merged = LatencySketch()
        for shard in shards.shuffled() { merged.merge(shard) }
        #expect(merged == whole)
        #expect(merged.quantile(0.99) == whole.quantile(0.99))
    }

    @Test func edgeCases() {
        var sketch = LatencySketch()
        #expect(sketch.quantile(0.5) == nil)
        #expect(sketch.maximum == nil)
        sketch.add(0)
        sketch.add(-3)
        #expect(sketch.quantile(0.5) == 0)
        sketch.add(100)
        #expect(sketch.count == 3)
        #expect(abs(sketch.quantile(1)! - 100) <= 1)
        #expect(sketch.quantile(0.66) == 0)   // rank 2 of 3 is the second zero
        // Every value of a bucket is within (γ−1)/(γ+1) of its representative.
        for value in [0.001, 0.7, 1, 1.02, 1.0201, 37, 1e6, 8.64e7] {
            let representative = LatencySketch.representative(ofIndex: LatencySketch.index(of: value))
            #expect(abs(representative - value) / value <= 0.02 / 2.02 + 1e-12, "\(value)")
        }
    }

    /// The histogram counts every value exactly once, in the bin whose bounds hold it (up to the
    /// bucket resolution: a bin's bounds are bucket bounds), with at most the bins asked for.
    @Test(arguments: [1, 7, 24, 100, 10_000])
    func histogramBinsHoldEveryValueOnce(maxBins: Int) {
        let values = Self.heavyTailed(count: 50_000) + [0, 0, -1]
        var sketch = LatencySketch()
        for value in values { sketch.add(value) }
        let bins = sketch.histogram(maxBins: maxBins)
        #expect(bins.first == LatencySketch.Bin(lower: 0, upper: 0, count: 3), "values ≤ 0 have their own bin")
        let positive = bins.dropFirst()
        #expect(positive.count <= maxBins)
        #expect(bins.reduce(0) { $0 + $1.count } == Int64(values.count))
        for (a, b) in zip(positive, positive.dropFirst()) { #expect(abs(a.upper - b.lower) <= 1e-9 * b.lower, "bins are contiguous") }
        for bin in positive {
            let inside = values.filter { $0 > bin.lower && $0 <= bin.upper }.count
            #expect(Int64(inside) == bin.count, "(\(bin.lower), \(bin.upper)]")
        }
        #expect(LatencySketch().histogram(maxBins: 10).isEmpty)
    }
}
