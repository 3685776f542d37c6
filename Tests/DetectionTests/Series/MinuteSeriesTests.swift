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

/// Window totals come from running sums; they must equal summing the minutes one by one.
struct MinuteSeriesRunningTotalsTests {
    static func naive(_ buckets: [MinuteBucket], since: Int, end: Int, length: Int) -> WindowTotals? {
        guard end - length >= since else { return nil }
        var totals = WindowTotals()
        for bucket in buckets where bucket.minute >= end - length && bucket.minute < end && bucket.minute >= since {
            totals.add(bucket)
        }
        return totals
    }

    @Test func equalToSummingMinuteByMinute() {
        var generator = SystemRandomNumberGenerator()
        var seed = UInt64.random(in: 1...UInt64.max, using: &generator)
        func next(_ range: ClosedRange<Int>) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Int((seed >> 33) % UInt64(range.count))
        }
        let since = 1_000
        var buckets: [MinuteBucket] = []
        for minute in stride(from: 990, to: 1_400, by: 1) where next(0...2) > 0 {
            buckets.append(MinuteBucket(minute: minute, calls: next(0...50), cost: Money(picodollars: Int64(next(0...1_000_000_000))),
                                        tokens: Int64(next(0...9_999)), errors: next(0...5), retries: next(0...7),
                                        fallbacks: next(0...2), http429: next(0...3), http5xx: next(0...3)))
        }
        let series = MinuteSeries(scope: Traffic.chat, since: since, buckets: buckets)
        for _ in 0..<2_000 {
            let end = next(980...1_450), length = next(0...120)
            #expect(series.totals(endingAt: end, length: length) == Self.naive(buckets, since: since, end: end, length: length),
                    "window [\(end - length), \(end)) with seed \(seed)")
        }
    }

    @Test func hugeRunningSumsStillGiveExactWindows() {
        // $1M a minute for 3 days passes Int64 picodollars (about $9.2M) in the running sum many
        // times over; a 5-minute window ($5M) still fits, and comes out exact.
        let big = Money(picodollars: 1_000_000 * 1_000_000_000_000)
        let buckets = (0..<4_320).map { MinuteBucket(minute: $0, calls: 1, cost: big) }
        let series = MinuteSeries(scope: Traffic.chat, since: 0, buckets: buckets)
        #expect(series.totals(endingAt: 4_320, length: 5)?.cost == Money(picodollars: 5 * big.picodollars))
        #expect(series.totals(endingAt: 4_400, length: 100)?.calls == 20)
    }

    @Test func emptySeriesHasZeroWindowsAfterSince() {
        let series = MinuteSeries(scope: Traffic.chat, since: 50, buckets: [])
        #expect(series.totals(endingAt: 60, length: 5) == WindowTotals())
        #expect(series.totals(endingAt: 52, length: 5) == nil)
    }
}

/// A round's in-place update (`advance`, `dropSketches`) leaves a series equal to one built from
/// scratch over the same minutes: the evaluator keeps days of history and updates only its tail.
struct MinuteSeriesAdvanceTests {
    static func sketch(_ value: Double) -> LatencySketch {
        var sketch = LatencySketch()
        sketch.add(value)
        return sketch
    }

    static func randomBuckets(_ minutes: Range<Int>, _ next: (ClosedRange<Int>) -> Int) -> [MinuteBucket] {
        minutes.compactMap { minute in
            guard next(0...2) > 0 else { return nil }
            return MinuteBucket(minute: minute, calls: next(1...50), cost: Money(picodollars: Int64(next(0...1_000_000_000))),
                                tokens: Int64(next(0...9_999)), errors: next(0...5), retries: next(0...7),
                                fallbacks: next(0...2), http429: next(0...3), http5xx: next(0...3),
                                latencySketch: next(0...1) == 0 ? nil : Self.sketch(Double(next(1...5_000))))
        }
    }

    @Test func advancingEqualsRebuilding() {
        var generator = SystemRandomNumberGenerator()
        let initial = UInt64.random(in: 1...UInt64.max, using: &generator)
        var seed = initial
        func next(_ range: ClosedRange<Int>) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Int((seed >> 33) % UInt64(range.count))
        }
        let history = 3 * Minutes.perDay, refresh = 5
        var end = 10_000
        var truth = Dictionary(uniqueKeysWithValues: Self.randomBuckets((end - history)..<end, next).map { ($0.minute, $0) })
        var series = MinuteSeries(scope: Traffic.chat, since: end - history, buckets: Array(truth.values))
        // Rounds of 1 to 90 minutes (a gap longer than the refresh window too), ~2.5 days of them,
        // enough to pass the once-a-day storage trim twice.
        for round in 0..<120 {
            let from = end - refresh
            end += next(1...90)
            let since = end - history
            let fresh = Self.randomBuckets(from..<end, next)
            for minute in from..<end { truth[minute] = nil }
            for bucket in fresh { truth[bucket.minute] = bucket }
            series.advance(since: since, replacingFrom: from, with: fresh)
            let rebuilt = MinuteSeries(scope: Traffic.chat, since: since, buckets: Array(truth.values))
            #expect(series.since == rebuilt.since)
            #expect(series.buckets(endingAt: end + 10, length: history + 200) == rebuilt.buckets(endingAt: end + 10, length: history + 200),
                    "round \(round), seed \(initial)")
            for _ in 0..<200 {
                let windowEnd = next((end - history - 20)...(end + 20)), length = next(0...history)
                #expect(series.totals(endingAt: windowEnd, length: length) == rebuilt.totals(endingAt: windowEnd, length: length),
                        "round \(round), window [\(windowEnd - length), \(windowEnd)), seed \(initial)")
            }
            #expect(series.bucket(at: since - 1) == nil)
        }
    }

    @Test func droppingSketchesKeepsCounts() {
        let buckets = (0..<10).map { MinuteBucket(minute: $0, calls: 2, latencySketch: Self.sketch(100),
                                                   ttftSketch: Self.sketch(10)) }
        var series = MinuteSeries(scope: Traffic.chat, since: 0, buckets: buckets)
        series.dropSketches(from: -5, to: 4)
        let kept = series.buckets(endingAt: 10, length: 10)
        #expect(kept.map(\.calls) == Array(repeating: 2, count: 10))
        #expect(kept.filter { $0.latencySketch != nil }.map(\.minute) == Array(4..<10))
        #expect(kept.filter { $0.ttftSketch != nil }.map(\.minute) == Array(4..<10))
        #expect(series.totals(endingAt: 10, length: 10)?.calls == 20)
    }
}
