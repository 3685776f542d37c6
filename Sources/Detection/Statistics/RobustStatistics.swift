import Foundation

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

    /// P(X ≥ k) for X ~ Binomial(n, p): the chance of k or more successes in n independent trials.
    /// Summed in log space from k upward until the terms stop mattering, so it holds for any n.
    static func binomialUpperTail(trials n: Int, atLeast k: Int, probability p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n, p > 0 else { return 0 }
        guard p < 1 else { return 1 }
        let logP: Double = Foundation.log(p)
        let logQ: Double = Foundation.log1p(-p)
        // log C(n, k) = Σ log((n − k + j) / j) for j in 1...k.
        var logTerm: Double = Double(k) * logP + Double(n - k) * logQ
        for j in 1...k {
            let ratio: Double = Double(n - k + j) / Double(j)
            logTerm += Foundation.log(ratio)
        }
        let mean: Double = Double(n) * p
        var total: Double = 0
        for i in k...n {
            let term: Double = Foundation.exp(logTerm)
            total += term
            // Past the mode the terms fall geometrically: stop once they no longer count.
            if Double(i) > mean && term < total * 1e-12 { break }
            let ratio: Double = Double(n - i) / Double(i + 1)
            logTerm += Foundation.log(ratio) + logP - logQ
        }
        return min(1, total)
    }

    /// P(S ≥ k) where S counts the successes of independent trials with the given probabilities
    /// (a Poisson binomial distribution), by dynamic programming over the trials.
    static func poissonBinomialUpperTail(_ probabilities: [Double], atLeast k: Int) -> Double {
        guard k > 0 else { return 1 }
        guard k <= probabilities.count else { return 0 }
        var distribution = [1.0] + Array(repeating: 0.0, count: probabilities.count)
        for (done, p) in probabilities.enumerated() {
            for successes in stride(from: done + 1, through: 1, by: -1) {
                distribution[successes] = distribution[successes] * (1 - p) + distribution[successes - 1] * p
            }
            distribution[0] *= 1 - p
        }
        return min(1, distribution[k...].reduce(0, +))
    }
}
