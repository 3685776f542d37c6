import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct MinuteSeriesTests {
    static let series = MinuteSeries(scope: Traffic.chat, since: 100, buckets: [
        MinuteBucket(minute: 99, calls: 1000, cost: Traffic.dollars(1000)),          // before `since`: dropped
        MinuteBucket(minute: 100, calls: 3, cost: Traffic.dollars(0.3), errors: 1, retries: 2),
        MinuteBucket(minute: 102, calls: 5, cost: Traffic.dollars(0.5), http429: 2, http5xx: 1),
    ])

    @Test func missingMinutesAfterSinceCountAsZero() throws {
        let totals = try #require(Self.series.totals(endingAt: 103, length: 3))
        #expect(totals.calls == 8)
        #expect(totals.cost == Traffic.dollars(0.8))
        #expect(totals.errors == 1 && totals.retries == 2 && totals.http429 == 2 && totals.http5xx == 1)
        #expect(Self.series.totals(endingAt: 110, length: 5)?.calls == 0)
    }

    @Test func minutesBeforeSinceAreUnknown() {
        #expect(Self.series.totals(endingAt: 102, length: 3) == nil)
        #expect(Self.series.bucket(at: 99) == nil)
    }

    @Test func minutesOfDates() {
        #expect(Minutes.of(Date(timeIntervalSince1970: 119.9)) == 1)
        #expect(Minutes.of(Date(timeIntervalSince1970: -0.5)) == -1)
        #expect(Minutes.date(3) == Date(timeIntervalSince1970: 180))
    }
}
