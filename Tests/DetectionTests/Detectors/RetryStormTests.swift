import Foundation
import Testing
@testable import Detection

struct RetryStormTests {
    static let now = Traffic.monday + 8 * Minutes.perDay + 12 * 60

    /// Eight days at 20 calls a minute with `retriesPerCall` (one retry every 1/q calls),
    /// then `recent` in the last five minutes.
    static func series(retriesPerCall: Double = 0.05, recent: MinuteBucket? = nil) -> MinuteSeries {
        let since = now - 8 * Minutes.perDay
        let buckets = (since..<now).map { minute -> MinuteBucket in
            if let recent, minute >= now - 5 {
                var bucket = recent
                bucket.minute = minute
                return bucket
            }
            // Retries spread so any 5-minute window holds 100 × q of them.
            let retries = Int((Double(minute - since + 1) * 20 * retriesPerCall).rounded(.down))
                - Int((Double(minute - since) * 20 * retriesPerCall).rounded(.down))
            return MinuteBucket(minute: minute, calls: 20, retries: retries)
        }
        return MinuteSeries(scope: Traffic.chat.adding("model", "gpt-4o"), since: since, buckets: buckets)
    }

    @Test func firesWhenRetriesPerCallJumpAndAnnotatesTheCause() throws {
        let storm = MinuteBucket(minute: 0, calls: 20, retries: 16, fallbacks: 3, http429: 12, http5xx: 4)
        let finding = try #require(RetryStorm.evaluate(Self.series(recent: storm), now: Traffic.date(Self.now)).finding)
        #expect(abs(finding.value - 0.8) < 1e-9)
        #expect(abs((finding.baseline ?? -1) - 0.05) < 1e-9)
        #expect(finding.threshold == 0.5)
        #expect(finding.annotations["share_429"] == "0.75")
        #expect(finding.annotations["fallbacks"] == "15")
        #expect(finding.summary.contains("rate limiting"))
        #expect(finding.pendingFor == 60)
    }

    @Test func aClientThatAlwaysRetriesHeavilyIsItsOwnNormal() {
        // Usually 0.4 retries per call; 0.8 is above the absolute 0.5 but not 3× its median.
        let storm = MinuteBucket(minute: 0, calls: 20, retries: 16)
        let evaluation = RetryStorm.evaluate(Self.series(retriesPerCall: 0.4, recent: storm), now: Traffic.date(Self.now))
        #expect(evaluation.condition == .elevated)
    }

    @Test func tooFewRetriesInTheWindowDoNotFire() {
        // q = 1.0 but only 40 retries in five minutes (< 50).
        let storm = MinuteBucket(minute: 0, calls: 8, retries: 8)
        #expect(RetryStorm.evaluate(Self.series(recent: storm), now: Traffic.date(Self.now)).finding == nil)
    }

    @Test func anAbsoluteRetryRateFiresEvenAtAModestRatio() throws {
        // 400 calls a minute with 0.3 retries each: 120 retries a minute ≥ 100.
        let flood = MinuteBucket(minute: 0, calls: 400, retries: 120, http5xx: 50)
        let finding = try #require(RetryStorm.evaluate(Self.series(recent: flood), now: Traffic.date(Self.now)).finding)
        #expect(finding.unit == .count)
        #expect(finding.value == 120)
        #expect(finding.summary.contains("5xx"))
    }

    @Test func clearsAtTheUsualRateAndHoldsWithoutTraffic() {
        #expect(RetryStorm.evaluate(Self.series(), now: Traffic.date(Self.now)).condition == .clear)
        let silent = MinuteBucket(minute: 0, calls: 1, retries: 0)
        #expect(RetryStorm.evaluate(Self.series(recent: silent), now: Traffic.date(Self.now)).condition == .noData)
    }
}
