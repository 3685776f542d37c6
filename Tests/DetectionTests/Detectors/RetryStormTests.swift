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
        #expect(finding.pendingFor == 20)
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

    /// The freshest 60 s of raw events: a storm that began 40 s ago, not in any closed minute yet.
    static func lastMinute(calls: Int, retries: Int, retrying: Int, http429: Int = 0) -> [CallSample] {
        [CallSample(start: Traffic.date(now).addingTimeInterval(-60), seconds: 60, calls: calls, errors: 0,
                    retries: retries, retryingRequests: retrying, http429: http429)]
    }

    @Test func firesOnTheFreshestMinuteBeforeAnyClosedMinuteShowsIt() throws {
        let evaluation = RetryStorm.evaluate(Self.series(), recent: Self.lastMinute(calls: 24, retries: 30, retrying: 14, http429: 20),
                                             now: Traffic.date(Self.now))
        let finding = try #require(evaluation.finding)
        #expect(abs(finding.value - 1.25) < 1e-9)
        #expect(finding.summary.contains("in the last 60 s"), "\(finding.summary)")
        #expect(finding.annotations["http_429"] == "20")
        // Without the raw minute, the closed minutes are calm.
        #expect(RetryStorm.evaluate(Self.series(), now: Traffic.date(Self.now)).condition == .clear)
    }

    @Test(arguments: [(24, 24, 14), (24, 30, 4)])
    func theFreshMinuteNeedsEnoughRetriesFromSeveralRequests(_ calls: Int, _ retries: Int, _ retrying: Int) {
        // 24 retries (< 25), or 30 retries from 4 requests (one agent trace retrying each step).
        let evaluation = RetryStorm.evaluate(Self.series(), recent: Self.lastMinute(calls: calls, retries: retries, retrying: retrying),
                                             now: Traffic.date(Self.now))
        #expect(evaluation.finding == nil)
    }

    @Test func aPrecomputedBaselineGivesTheSameAnswer() {
        let storm = MinuteBucket(minute: 0, calls: 20, retries: 16, http429: 12)
        let series = Self.series(recent: storm)
        let history = RetryStorm.baseline(series, now: Traffic.date(Self.now))
        #expect(abs(history.medianRetriesPerCall - 0.05) < 1e-9)
        #expect(RetryStorm.evaluate(series, history: history, now: Traffic.date(Self.now))
            == RetryStorm.evaluate(series, now: Traffic.date(Self.now)))
    }
}
