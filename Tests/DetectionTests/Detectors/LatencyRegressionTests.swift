import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct LatencyRegressionTests {
    /// Wednesday 15:00 of the fifth week.
    static let now = Traffic.monday + 4 * Minutes.perWeek + 2 * Minutes.perDay + 15 * 60

    /// Four weeks at `calls` a minute; p95 `usual` ms (±10%), `peakFactor` × during office
    /// hours; the last `recentMinutes` at `recent` ms. TTFT is a third of latency.
    static func series(calls: Int = 10, usual: Double = 800, peakFactor: Double = 1,
                       recent: Double? = nil, recentMinutes: Int = 15) -> MinuteSeries {
        let since = now - 28 * Minutes.perDay
        let buckets = (since..<now).map { minute -> MinuteBucket in
            let seasonal = Traffic.shape(minute, peak: peakFactor) * usual * (1 + 0.1 * Traffic.noise(minute, 3))
            let p95 = recent.flatMap { minute >= now - recentMinutes ? $0 : nil } ?? seasonal
            return MinuteBucket(minute: minute, calls: calls, latencyP95: p95, ttftP95: p95 / 3)
        }
        return MinuteSeries(scope: Traffic.chat.adding("model", "gpt-4o"), since: since, buckets: buckets)
    }

    @Test func firesWhenP95DoublesForTheWholeWindow() throws {
        let finding = try #require(LatencyRegression.evaluate(Self.series(recent: 1600), now: Traffic.date(Self.now)).finding)
        #expect(finding.key.rule == .latencyRegression)
        #expect(finding.value == 1600)
        let baseline = try #require(finding.baseline)
        #expect(baseline > 720 && baseline < 880)
        #expect(finding.threshold >= baseline + 500)
        #expect(finding.pendingFor == 600)
        #expect(finding.annotations["baseline_mode"] == "weekly")
    }

    @Test func aModestSlowdownIsElevatedOnly() {
        #expect(LatencyRegression.evaluate(Self.series(recent: 1100), now: Traffic.date(Self.now)).condition == .elevated)
    }

    @Test func aFastModelNeedsHalfASecondMore() {
        // 200 → 400 ms is ×2 but only +200 ms.
        let series = Self.series(usual: 200, recent: 400)
        #expect(LatencyRegression.evaluate(series, now: Traffic.date(Self.now)).finding == nil)
    }

    @Test func aFewSlowMinutesDoNotMoveTheWindow() {
        // Five slow minutes out of fifteen: the call-weighted median is still normal.
        let series = Self.series(recent: 4000, recentMinutes: 5)
        #expect(LatencyRegression.evaluate(series, now: Traffic.date(Self.now)).condition == .clear)
    }

    @Test func theUsualAfternoonSlowdownIsNotARegression() {
        // Every weekday 09–18 runs at 2× the night's p95; Wednesday 15:00 is one of them.
        let series = Self.series(peakFactor: 2)
        #expect(LatencyRegression.evaluate(series, now: Traffic.date(Self.now)).condition == .clear)
    }

    @Test func tooFewCallsAreNoData() {
        // 3 calls a minute: 45 in the window, under 50.
        let series = Self.series(calls: 3, recent: 5000)
        #expect(LatencyRegression.evaluate(series, now: Traffic.date(Self.now)).condition == .noData)
    }

    @Test func timeToFirstTokenIsItsOwnRule() throws {
        // TTFT follows latency at a third: 2400 ms latency gives 800 vs ~267 ms TTFT.
        let series = Self.series(recent: 2400)
        let finding = try #require(LatencyRegression.evaluate(series, metric: .timeToFirstToken, now: Traffic.date(Self.now)).finding)
        #expect(finding.key.rule == .ttftRegression)
        #expect(finding.value == 800)
    }

    /// Four weeks of minutes with sketches: `calls` a minute at ~`usual` ms (lognormal-ish
    /// spread from a fixed pattern); in the last 15 minutes, `slowMinute` (minutes before now)
    /// adds `slowCalls` calls at `slowMs` (one slow trace's steps), or every minute runs at
    /// `recentFactor` × its usual latency.
    static func sketchSeries(calls: Int = 5, usual: Double = 700, slowMinute: Int? = nil, slowCalls: Int = 6,
                             slowMs: Double = 2600, recentFactor: Double = 1) -> MinuteSeries {
        sketchSeries(calls: calls, usual: usual, slowMinutes: slowMinute.map { [$0] } ?? [], slowCalls: slowCalls, slowMs: slowMs,
                     recentFactor: recentFactor)
    }

    static func sketchSeries(calls: Int = 5, usual: Double = 700, slowMinutes: Set<Int>, slowCalls: Int = 6,
                             slowMs: Double = 2600, recentFactor: Double = 1) -> MinuteSeries {
        let since = now - 28 * Minutes.perDay
        let spread: [Double] = [0.55, 0.7, 0.85, 1.0, 1.2, 1.45, 1.8]
        let buckets = (since..<now).map { minute -> MinuteBucket in
            var sketch = LatencySketch()
            let factor = minute >= now - 15 ? recentFactor : 1
            for i in 0..<calls { sketch.add(usual * factor * spread[(minute + i) % spread.count] * (1 + 0.05 * Traffic.noise(minute, UInt64(i)))) }
            var count = calls
            if slowMinutes.contains(now - minute) {
                for _ in 0..<slowCalls { sketch.add(slowMs) }
                count += slowCalls
            }
            return MinuteBucket(minute: minute, calls: count, latencyP95: sketch.quantile(0.95), latencySketch: sketch)
        }
        return MinuteSeries(scope: Traffic.chat.adding("model", "gpt-4o-mini"), since: since, buckets: buckets)
    }

    @Test func oneSlowTraceInOneMinuteIsNotARegression() {
        // 81 calls in the window; one trace's 6 steps at 2.6 s in one minute are its top 7%,
        // so the window's p95 is 2.6 s (> 1.5× and +500 ms) for as long as that minute is in it.
        let series = Self.sketchSeries(slowMinute: 11)
        let full = LatencyRegression.value(series, .latency, end: Self.now, .init()) ?? 0
        #expect(abs(full - 2600) / 2600 < 0.02)
        #expect(LatencyRegression.evaluate(series, now: Traffic.date(Self.now)).condition == .elevated)
    }

    @Test func slowTracesInAFewMinutesAreNotARegression() {
        // Three traces' steps at 2.6 s in three minutes of a quiet hour: the window's p95 is theirs
        // with or without its slowest minute, but most minutes run as usual.
        let series = Self.sketchSeries(slowMinutes: [11, 7, 3])
        let end = Self.now
        let withoutSlowest = LatencyRegression.valueWithoutSlowestMinute(series, .latency, end: end, .init()) ?? 0
        #expect(abs(withoutSlowest - 2600) / 2600 < 0.02)
        #expect(LatencyRegression.evaluate(series, now: Traffic.date(end)).condition == .elevated)
        // The minute test alone: usual minutes pass it at chance level; all 15 slow ones do not.
        let baseline = LatencyRegression.value(series, .latency, end: end - 60, .init()) ?? 0
        #expect(!LatencyRegression.mostMinutesAboveBaseline(series, .latency, end: end, baseline: baseline, .init()))
        #expect(LatencyRegression.mostMinutesAboveBaseline(Self.sketchSeries(recentFactor: 1.6), .latency, end: end, baseline: baseline, .init()))
    }

    @Test func aRegressionOfEveryMinuteStillFires() throws {
        // +100% on every call: dropping the slowest minute changes nothing.
        let finding = try #require(LatencyRegression.evaluate(Self.sketchSeries(recentFactor: 2), now: Traffic.date(Self.now)).finding)
        #expect(finding.value >= finding.threshold)
        // …and with one slow trace on top of it too.
        #expect(LatencyRegression.evaluate(Self.sketchSeries(slowMinute: 3, recentFactor: 2), now: Traffic.date(Self.now)).finding != nil)
    }

    @Test func aSpreadComputedEarlierInTheHourGivesTheSameAnswer() {
        // The evaluator keeps each scope's spread for an hour; handing it in changes nothing.
        for series in [Self.series(recent: 1600), Self.series(recent: 1100), Self.sketchSeries(recentFactor: 2), Self.sketchSeries(slowMinute: 11)] {
            let now = Traffic.date(Self.now)
            let spread = LatencyRegression.spread(series, now: now)
            #expect(spread >= LatencyRegressionParameters().minimumLogSpread)
            #expect(LatencyRegression.evaluate(series, spread: spread, now: now) == LatencyRegression.evaluate(series, now: now))
        }
    }

    @Test func mergedSketchesGiveTheExactWindowP95() throws {
        // 15 minutes of 10 calls: 14 minutes at 800 ms, one at 5000 ms. 10 of 150 calls are
        // slow, so the window p95 (rank 143) is 5000; the median of minute p95s says 800.
        let end = Traffic.monday + 60
        func bucket(_ minute: Int, _ ms: Double, sketch: Bool) -> MinuteBucket {
            var histogram = LatencySketch()
            for _ in 0..<10 { histogram.add(ms) }
            return MinuteBucket(minute: minute, calls: 10, latencyP95: ms, latencySketch: sketch ? histogram : nil)
        }
        func series(sketches: Bool) -> MinuteSeries {
            MinuteSeries(scope: Traffic.chat, since: Traffic.monday, buckets: ((end - 15)..<end).map {
                bucket($0, $0 == end - 1 ? 5000 : 800, sketch: sketches)
            })
        }
        let exact = try #require(LatencyRegression.value(series(sketches: true), .latency, end: end, .init()))
        #expect(abs(exact - 5000) / 5000 < 0.01)
        #expect(LatencyRegression.value(series(sketches: false), .latency, end: end, .init()) == 800)
    }
}
