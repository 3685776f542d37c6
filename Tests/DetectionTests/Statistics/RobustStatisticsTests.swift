import Foundation
import Testing
@testable import Detection

struct RobustStatisticsTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(RobustStatistics.median([5, 1, 3]) == 3)
        #expect(RobustStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(RobustStatistics.median([]) == nil)
    }

    @Test func madIgnoresTheOutlierItIsMeantToFind() throws {
        // Median 10, absolute deviations [1, 1, 0, 1, 90] → MAD 1.
        let mad = try #require(RobustStatistics.scaledMAD([9, 11, 10, 11, 100]))
        #expect(abs(mad - 1.4826) < 1e-12)
        #expect(RobustStatistics.scaledMAD([7, 7, 7]) == 0)
    }

    @Test func nearestRankQuantile() {
        let values = (1...100).map(Double.init)
        #expect(RobustStatistics.quantile(values, 0.99) == 99)
        #expect(RobustStatistics.quantile(values, 1) == 100)
        #expect(RobustStatistics.quantile(values, 0) == 1)
        #expect(RobustStatistics.quantile([], 0.5) == nil)
    }

    @Test func weightedMedianFollowsTheWeight() {
        #expect(RobustStatistics.weightedMedian([(100, 1), (200, 1), (900, 10)]) == 900)
        #expect(RobustStatistics.weightedMedian([(100, 10), (200, 1), (900, 1)]) == 100)
        #expect(RobustStatistics.weightedMedian([(100, 0)]) == nil)
    }

    @Test func binomialTailsAgainstHandComputedValues() {
        // P(X ≥ 1), X ~ Bin(5, 0.05) = 1 − 0.95^5.
        #expect(abs(RobustStatistics.binomialUpperTail(trials: 5, atLeast: 1, probability: 0.05) - (1 - pow(0.95, 5))) < 1e-12)
        // P(X ≥ 13), X ~ Bin(15, 0.5) = (C(15,13) + C(15,14) + C(15,15)) / 2^15 = 121 / 32768.
        #expect(abs(RobustStatistics.binomialUpperTail(trials: 15, atLeast: 13, probability: 0.5) - 121.0 / 32768) < 1e-12)
        #expect(RobustStatistics.binomialUpperTail(trials: 15, atLeast: 0, probability: 0.5) == 1)
        #expect(RobustStatistics.binomialUpperTail(trials: 15, atLeast: 16, probability: 0.5) == 0)
        // Large n (0.95^20000 underflows a Double): the tail at the mean is about a half.
        let large = RobustStatistics.binomialUpperTail(trials: 20_000, atLeast: 1_000, probability: 0.05)
        #expect(large > 0.45 && large < 0.56)
        #expect(RobustStatistics.binomialUpperTail(trials: 20_000, atLeast: 1_300, probability: 0.05) < 1e-15)
    }

    @Test func poissonBinomialTailEqualsTheBinomialForEqualChances() {
        for k in 0...16 {
            let poisson = RobustStatistics.poissonBinomialUpperTail(Array(repeating: 0.23, count: 15), atLeast: k)
            #expect(abs(poisson - RobustStatistics.binomialUpperTail(trials: 15, atLeast: k, probability: 0.23)) < 1e-12, "k = \(k)")
        }
        // Two trials, chances 0.5 and 0.1: P(both) = 0.05, P(at least one) = 1 − 0.5 · 0.9.
        #expect(abs(RobustStatistics.poissonBinomialUpperTail([0.5, 0.1], atLeast: 2) - 0.05) < 1e-12)
        #expect(abs(RobustStatistics.poissonBinomialUpperTail([0.5, 0.1], atLeast: 1) - 0.55) < 1e-12)
    }
}
