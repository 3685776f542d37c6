import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct HourlyCostTests {
    /// Thursday 15:10 of the second week: the last closed hour is 14:00–15:00.
    static let now = Traffic.monday + Minutes.perWeek + 3 * Minutes.perDay + 15 * 60 + 10

    /// $0.10 a minute ($6 an hour) every day; the last closed hour scaled by `factor`.
    static func series(days: Int, factor: Double, perMinute: Double = 0.10) -> MinuteSeries {
        let hourEnd = now / 60 * 60
        let since = hourEnd - days * Minutes.perDay - 60
        let buckets = (since..<now).map { minute in
            let scale = minute >= hourEnd - 60 && minute < hourEnd ? factor : 1
            return MinuteBucket(minute: minute, calls: 10, cost: Traffic.dollars(perMinute * scale))
        }
        return MinuteSeries(scope: Traffic.chat, since: since, buckets: buckets)
    }

    @Test func firesWhenTheLastHourCostsMoreThanTwiceItsSevenDayAverage() throws {
        let finding = try #require(HourlyCost.evaluate(Self.series(days: 7, factor: 3), now: Traffic.date(Self.now)).finding)
        #expect(abs(finding.value - 18) < 1e-9)
        #expect(abs((finding.baseline ?? 0) - 6) < 1e-9)
        #expect(abs(finding.threshold - 12) < 1e-9)
        #expect(finding.annotations["hour_utc"] == "14")
        #expect(finding.severity == .warning)
    }

    @Test func doesNotFireAtOneAndAHalfTimes() {
        #expect(HourlyCost.evaluate(Self.series(days: 7, factor: 1.5), now: Traffic.date(Self.now)).condition == .clear)
    }

    @Test func doesNotFireBelowTheDollarFloor() {
        // $0.06 an hour tripled is $0.18: above 2× but only $0.12 over the average.
        let series = Self.series(days: 7, factor: 3, perMinute: 0.001)
        #expect(HourlyCost.evaluate(series, now: Traffic.date(Self.now)).condition == .clear)
    }

    @Test func needsThreeDaysOfHistory() {
        #expect(HourlyCost.evaluate(Self.series(days: 2, factor: 3), now: Traffic.date(Self.now)).condition == .noData)
        #expect(HourlyCost.evaluate(Self.series(days: 3, factor: 3), now: Traffic.date(Self.now)).finding != nil)
    }
}
