import Testing
@testable import Detection

struct SeasonalBaselineTests {
    /// The signal is the window end itself, so a median names the samples it came from.
    static func value(_ minute: Int) -> Double? { Double(minute) }

    @Test func twoWeeksOfHistoryUseTheSameMinuteOfTheWeek() throws {
        let end = 100_000
        let baseline = try #require(SeasonalBaseline.baseline(at: end, since: end - 3 * Minutes.perWeek, trailingStep: 5) {
            $0 >= end - 3 * Minutes.perWeek ? Self.value($0) : nil
        })
        #expect(baseline.mode == .weekly)
        #expect(baseline.samples == 3)                                  // 1, 2 and 3 weeks back
        #expect(baseline.value == Double(end - 2 * Minutes.perWeek))    // their median
    }

    @Test func daysOfHistoryUseTheSameMinuteOfTheDay() throws {
        let end = 100_000
        let baseline = try #require(SeasonalBaseline.baseline(at: end, since: end - 13 * Minutes.perDay, trailingStep: 5, value: Self.value))
        #expect(baseline.mode == .daily)
        #expect(baseline.samples == 7)
        #expect(baseline.value == Double(end - 4 * Minutes.perDay))
    }

    @Test func lessThanTwoDaysUsesTheTrailingDay() throws {
        let end = 100_000
        let since = end - Minutes.perDay - 600
        let baseline = try #require(SeasonalBaseline.baseline(at: end, since: since, trailingStep: 60) {
            $0 - 60 >= since ? Self.value($0) : nil
        })
        #expect(baseline.mode == .trailing)
        #expect(baseline.samples == 24)
        #expect(baseline.value == Double(end) - 12.5 * 60)
    }

    @Test func nothingKnownIsNoBaseline() {
        #expect(SeasonalBaseline.baseline(at: 100_000, since: 99_990, trailingStep: 5) { _ in nil } == nil)
    }
    /// Neighbouring windows either side of the same minute join the median (and the larger of
    /// the two medians wins): a dip exactly at the same minute of past weeks is outvoted.
    @Test func smoothingAddsTheNeighbouringWindowsOfEachPeriod() throws {
        let end = 100_000
        let since = end - 3 * Minutes.perWeek - 60
        func dipAtTheSameMinute(_ minute: Int) -> Double? {
            guard minute >= since else { return nil }
            return (end - minute) % Minutes.perWeek == 0 ? 0 : 1
        }
        let plain = try #require(SeasonalBaseline.baseline(at: end, since: since, trailingStep: 5, value: dipAtTheSameMinute))
        #expect(plain.value == 0 && plain.samples == 3)
        let smoothed = try #require(SeasonalBaseline.baseline(at: end, since: since, trailingStep: 5,
                                                              smoothing: .init(neighbours: 2, step: 5), value: dipAtTheSameMinute))
        #expect(smoothed.mode == .weekly)
        #expect(smoothed.samples == 15)
        #expect(smoothed.value == 1)
    }
}
