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
}
