import Foundation

/// A DDSketch-style log-bucket histogram: bucket i holds values in (γ^(i-1), γ^i] with γ = 1.02, so
/// the representative 2γ^i/(γ+1) is within (γ-1)/(γ+1) < 1% of every value in the bucket. Buckets
/// merge by adding counts, at any level (minute → hour → day, across groups), in Swift or in SQL.
/// Postgres computes bucket indexes with `tm_sketch_index` (migration 0002) — same formula.
public struct LatencySketch: Sendable, Hashable {
    public static let gamma = 1.02
    /// Index of the bucket for values ≤ 0.
    public static let zeroIndex = -100_000

    /// (bucket index, count), sorted by index, no duplicates.
    public private(set) var buckets: [(index: Int, count: Int64)]

    public init() { buckets = [] }

    public static func == (a: LatencySketch, b: LatencySketch) -> Bool {
        a.buckets.elementsEqual(b.buckets) { $0.index == $1.index && $0.count == $1.count }
    }
    public func hash(into hasher: inout Hasher) {
        for bucket in buckets { hasher.combine(bucket.index); hasher.combine(bucket.count) }
    }

    public static func index(of value: Double) -> Int {
        value <= 0 ? zeroIndex : Int((log(value) / log(gamma)).rounded(.up))
    }

    public static func representative(ofIndex index: Int) -> Double {
        index == zeroIndex ? 0 : 2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    public mutating func add(index: Int, count: Int64) {
        guard count > 0 else { return }
        if let last = buckets.last, last.index < index {
            buckets.append((index, count))
            return
        }
        var low = 0, high = buckets.count
        while low < high {
            let mid = (low + high) / 2
            if buckets[mid].index < index { low = mid + 1 } else { high = mid }
        }
        if low < buckets.count, buckets[low].index == index {
            buckets[low].count += count
        } else {
            buckets.insert((index, count), at: low)
        }
    }

    public mutating func add(_ value: Double) { add(index: LatencySketch.index(of: value), count: 1) }

    public mutating func merge(_ other: LatencySketch) {
        for bucket in other.buckets { add(index: bucket.index, count: bucket.count) }
    }

    public var count: Int64 { buckets.reduce(0) { $0 + $1.count } }

    /// The nearest-rank quantile (q in 0...1): the value of rank ⌈q·n⌉ (at least 1), as its bucket's
    /// representative. Nil when empty.
    public func quantile(_ q: Double) -> Double? {
        let total = count
        guard total > 0 else { return nil }
        let rank = Swift.max(1, Int64((q * Double(total)).rounded(.up)))
        var seen: Int64 = 0
        for bucket in buckets {
            seen += bucket.count
            if seen >= rank { return LatencySketch.representative(ofIndex: bucket.index) }
        }
        return buckets.last.map { LatencySketch.representative(ofIndex: $0.index) }
    }

    public var maximum: Double? { buckets.last.map { LatencySketch.representative(ofIndex: $0.index) } }

    /// One bar of a histogram: the values in (`lower`, `upper`] (`[0, 0]` for values ≤ 0).
    public struct Bin: Sendable, Hashable {
        public var lower: Double
        public var upper: Double
        public var count: Int64
        public init(lower: Double, upper: Double, count: Int64) {
            self.lower = lower
            self.upper = upper
            self.count = count
        }
    }

    /// At most `maxBins` bars of equal width on a log scale from the smallest to the largest bucket
    /// (plus one for values ≤ 0), each the sum of whole sketch buckets, so every count is exact and
    /// every bound is a bucket bound (γ^i). Empty bins between occupied ones are kept, so the bars
    /// read as a distribution.
    public func histogram(maxBins: Int) -> [Bin] {
        let positive = buckets.filter { $0.index != LatencySketch.zeroIndex }
        var bins: [Bin] = []
        if let zero = buckets.first(where: { $0.index == LatencySketch.zeroIndex }) {
            bins.append(Bin(lower: 0, upper: 0, count: zero.count))
        }
        guard let first = positive.first?.index, let last = positive.last?.index, maxBins > 0 else { return bins }
        let span = last - first + 1
        let width = (span + maxBins - 1) / maxBins
        let binCount = (span + width - 1) / width
        var counts = [Int64](repeating: 0, count: binCount)
        for bucket in positive { counts[(bucket.index - first) / width] += bucket.count }
        for (j, count) in counts.enumerated() {
            let lowIndex = first + j * width, highIndex = lowIndex + width - 1
            bins.append(Bin(lower: pow(LatencySketch.gamma, Double(lowIndex - 1)), upper: pow(LatencySketch.gamma, Double(highIndex)), count: count))
        }
        return bins
    }
}
