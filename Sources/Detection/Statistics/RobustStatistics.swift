/// Order statistics that outliers cannot drag: the detectors' baselines and spreads.
enum RobustStatistics {
    /// The median (mean of the two middle values for an even count); nil when empty.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// 1.4826 × the median absolute deviation: the standard deviation for normal data,
    /// unmoved by a minority of outliers. Nil when empty.
    static func scaledMAD(_ values: [Double]) -> Double? {
        guard let center = median(values) else { return nil }
        return median(values.map { abs($0 - center) }).map { 1.4826 * $0 }
    }

    /// Nearest-rank quantile, q in 0...1; nil when empty.
    static func quantile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
        return sorted[min(rank, sorted.count) - 1]
    }

    /// The value below which half of the weight lies (weights > 0); nil when empty.
    static func weightedMedian(_ pairs: [(value: Double, weight: Double)]) -> Double? {
        let sorted = pairs.filter { $0.weight > 0 }.sorted { $0.value < $1.value }
        let total = sorted.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return nil }
        var running = 0.0
        for pair in sorted {
            running += pair.weight
            if running >= total / 2 { return pair.value }
        }
        return sorted.last?.value
    }
}
