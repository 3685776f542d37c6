import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct SpendSpikeTests {
    /// Tuesday of the fifth week, 14:00 UTC: a daytime peak with four weeks of history.
    static let tuesdayAfternoon = Traffic.monday + 4 * Minutes.perWeek + Minutes.perDay + 14 * 60

    @Test(arguments: [3.0, 5.0])
    func firesOnAPeakHourSpikeAgainstTheWeeklyBaseline(_ factor: Double) throws {
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 28, calls: 10,
                                      adjust: Traffic.spike((now - 5)..<now, factor))
        let finding = try #require(SpendSpike.evaluate(series, now: Traffic.date(now)).finding)
        #expect(finding.key.rule == .spendSpike)
        #expect(finding.annotations["baseline_mode"] == "weekly")
        #expect(finding.annotations["window_minutes"] == "5")
        let baseline = try #require(finding.baseline)
        // Peak traffic: 50 calls/min × $0.002 × 5 min ≈ $0.50 expected.
        #expect(baseline > 0.4 && baseline < 0.6)
        #expect(finding.value / baseline > factor * 0.8)
        #expect(finding.value >= finding.threshold)
        // Five minutes of ×3 with little noise: the window breaches on any four of its minutes,
        // so it fires at once (the pending period is for borderline breaches).
        #expect(finding.pendingFor == 0)
        #expect(finding.severity == (factor >= 5 ? .critical : .warning))
        #expect(finding.summary.contains("feature=chat"))
    }

    @Test func aNormalDaytimeRiseAfterAQuietWeekendIsNotASpike() throws {
        // Monday 09:05: the last five minutes are 5× the night and 12× Sunday's level,
        // which a trailing baseline would flag; last Monday at 09:05 looked the same.
        let now = Traffic.monday + 4 * Minutes.perWeek + 9 * 60 + 5
        let series = Traffic.seasonal(end: now, days: 28, calls: 10)
        let window = try #require(series.totals(endingAt: now, length: 5)).cost.usd
        let night = try #require(series.totals(endingAt: now - 6 * 60, length: 5)).cost.usd
        #expect(window > 3 * night)
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now)).condition == .clear)
    }

    @Test func aDoublingIsElevatedNotBreachingWhenBelowTheLift() throws {
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 28, calls: 10, adjust: Traffic.spike((now - 5)..<now, 1.6))
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now)).condition == .elevated)
    }

    @Test func lowVolumeNoiseDoesNotFire() {
        // One call every five minutes, so even the 60-minute window holds 12 calls (< 20):
        // a ×10 cost burst in it is two expensive calls, not a spike.
        let now = Self.tuesdayAfternoon
        let since = now - 28 * Minutes.perDay
        let buckets = stride(from: since, to: now, by: 5).map { minute in
            MinuteBucket(minute: minute, calls: 1, cost: Traffic.dollars(now - minute <= 60 ? 0.5 : 0.05))
        }
        let series = MinuteSeries(scope: Traffic.chat, since: since, buckets: buckets)
        #expect(SpendSpike.windowLength(series, end: now, .init()) == 60)
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now)).finding == nil)
    }

    @Test func tinyDollarAmountsDoNotFire() {
        // A ×5 spike at $0.00001 a call: $0.01 over five minutes is below the $0.10 floor.
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 28, calls: 10, costPerCall: 0.000_01,
                                      adjust: Traffic.spike((now - 5)..<now, 5))
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now)).finding == nil)
    }

    @Test func anOverwhelmingSpikeTakesTheFastPath() throws {
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 28, calls: 10, adjust: Traffic.spike((now - 5)..<now, 12))
        let finding = try #require(SpendSpike.evaluate(series, now: Traffic.date(now)).finding)
        #expect(finding.pendingFor == 0)
        #expect(finding.severity == .critical)
    }

    @Test func clearsOnceTheSpikeHasPassed() {
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 28, calls: 10,
                                      adjust: Traffic.spike((now - 40)..<(now - 10), 5))
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now - 15)).finding != nil)
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now)).condition == .clear)
    }

    @Test func usesTheDailyBaselineWithDaysOfHistory() throws {
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 4, calls: 10, adjust: Traffic.spike((now - 5)..<now, 4))
        let finding = try #require(SpendSpike.evaluate(series, now: Traffic.date(now)).finding)
        #expect(finding.annotations["baseline_mode"] == "daily")
    }

    @Test func aNewScopeNeedsALargerLiftOnItsTrailingBaseline() throws {
        // Six hours of steady traffic (the same minute-of-day is unknown): trailing mode
        // asks for ×3 instead of ×2.
        let now = Self.tuesdayAfternoon
        func series(_ factor: Double) -> MinuteSeries {
            let since = now - 6 * 60
            let buckets = (since..<now).map { minute -> MinuteBucket in
                var bucket = Traffic.bucket(minute, calls: 40, costPerCall: 0.002)
                Traffic.spike((now - 5)..<now, factor)(&bucket)
                return bucket
            }
            return MinuteSeries(scope: Traffic.chat, since: since, buckets: buckets)
        }
        #expect(SpendSpike.evaluate(series(2.5), now: Traffic.date(now)).finding == nil)
        let finding = try #require(SpendSpike.evaluate(series(4), now: Traffic.date(now)).finding)
        #expect(finding.annotations["baseline_mode"] == "trailing")
    }

    @Test func withoutTwoHoursOfHistoryThereIsNoData() {
        let now = Self.tuesdayAfternoon
        let since = now - 90
        let buckets = (since..<now).map { Traffic.bucket($0, calls: 40, costPerCall: 0.01) }
        let series = MinuteSeries(scope: Traffic.chat, since: since, buckets: buckets)
        #expect(SpendSpike.evaluate(series, now: Traffic.date(now)).condition == .noData)
    }

    @Test func quietScopesUseAWiderWindow() throws {
        // 2 calls a minute at night, 10 at the peak: 10 per 5 min is below 20, so 15 minutes.
        let now = Traffic.monday + 4 * Minutes.perWeek + 3 * 60   // 03:00, night
        let series = Traffic.seasonal(end: now, days: 28, calls: 2, costPerCall: 0.05,
                                      adjust: Traffic.spike((now - 15)..<now, 5))
        #expect(SpendSpike.windowLength(series, end: now, .init()) == 15)
        let finding = try #require(SpendSpike.evaluate(series, now: Traffic.date(now)).finding)
        #expect(finding.annotations["window_minutes"] == "15")
    }

    /// Monday 10:00 with 15 days of history: the weekly baseline applies (last Monday and the
    /// one before), and ordinary Monday traffic does not breach. With 3 days (the evaluator's
    /// old history) the same minute's baseline is the weekend's, 40% of a weekday: the cause of
    /// the false alerts bench/anomaly saw on its clean series.
    @Test func fifteenDaysGiveAMondayItsWeeklyBaseline() throws {
        let now = Traffic.monday + 3 * Minutes.perWeek + 10 * 60
        let full = Traffic.seasonal(end: now, days: 15, calls: 10)
        #expect(SpendSpike.evaluate(full, now: Traffic.date(now)).finding == nil)
        #expect(SpendSpike.calibrate(full, now: Traffic.date(now)).mode == .weekly)
        let weekly = try #require(SpendSpike.Model(series: full, window: 5).expectation(at: now))
        let short = Traffic.seasonal(end: now, days: 3, calls: 10)
        let daily = try #require(SpendSpike.Model(series: short, window: 5).expectation(at: now))
        #expect(weekly.cost.mode == .weekly && daily.cost.mode == .daily)
        #expect(daily.cost.value < 0.5 * weekly.cost.value)
    }

    /// Calibration uses the residuals of the baseline kind in force: with a weekly baseline
    /// now, the week's daily-baseline residuals (a Monday against a weekend) do not widen it.
    @Test func calibrationIgnoresResidualsOfAnotherBaselineKind() {
        let now = Traffic.monday + 3 * Minutes.perWeek + 10 * 60
        let series = Traffic.seasonal(end: now, days: 15, calls: 10)
        let model = SpendSpike.Model(series: series, window: 5)
        let weekly = model.noiseFactor(end: now, .init(), mode: .weekly)
        let mixed = model.noiseFactor(end: now, .init(), mode: nil)
        #expect(weekly < mixed)
    }

    /// Heavy-tailed cost: one window in ten holds a $0.30 call (150× the usual one). The MAD
    /// sees the bulk only; the upper tail widens the spread, so such windows do not look like
    /// spikes.
    @Test func aHeavyUpperTailWidensTheSpread() {
        let now = Self.tuesdayAfternoon
        let plain = Traffic.seasonal(end: now, days: 28, calls: 10)
        let heavy = Traffic.seasonal(end: now, days: 28, calls: 10) { bucket in
            if bucket.minute % 50 == 0 { bucket.cost = bucket.cost + Traffic.dollars(0.3) }
        }
        let end = Minutes.of(Traffic.date(now))
        let plainFactor = SpendSpike.Model(series: plain, window: 5).noiseFactor(end: end, .init(), mode: .weekly)
        let heavyFactor = SpendSpike.Model(series: heavy, window: 5).noiseFactor(end: end, .init(), mode: .weekly)
        #expect(heavyFactor > 1.5 * plainFactor, "\(heavyFactor) vs \(plainFactor)")
    }
    /// The same extra $1.20 in the last five minutes: spread over four minutes it is a spike;
    /// in one minute (one heavy-tailed call) it is not, however many rounds it stays in the
    /// window.
    @Test func aBreachThatHingesOnOneMinuteIsNotASpike() throws {
        let now = Self.tuesdayAfternoon
        func series(_ minutes: Range<Int>, extra: Double = 1.2) -> MinuteSeries {
            Traffic.seasonal(end: now, days: 28, calls: 10) { bucket in
                if minutes.contains(bucket.minute) {
                    bucket.cost = bucket.cost + Traffic.dollars(extra / Double(minutes.count))
                }
            }
        }
        let broad = try #require(SpendSpike.evaluate(series((now - 4)..<now), now: Traffic.date(now)).finding)
        #expect(broad.value / (broad.baseline ?? 1) > 3)
        #expect(broad.pendingFor == 0, "it stands on three minutes of $0.40 more without the top one")
        // Half of it over two minutes (×2.2) breaches too, but leans on its top minute: one more round.
        let young = try #require(SpendSpike.evaluate(series((now - 2)..<now, extra: 0.6), now: Traffic.date(now)).finding)
        #expect(young.pendingFor == 60)
        for minute in (now - 5)..<now {
            let narrow = SpendSpike.evaluate(series(minute..<(minute + 1)), now: Traffic.date(now))
            #expect(narrow.condition == .elevated, "one expensive minute at \(minute - now)")
        }
    }

    /// A burst at the same minutes every day (a batch job at 13:55) is its own baseline: the
    /// neighbouring windows (±10 min, where the burst is absent) alone would call it a ×4
    /// spike every day; the plain same-minute median, kept in the union, expects it.
    @Test func aBurstThatRecursAtTheSameMinuteIsNotASpike() throws {
        let now = Self.tuesdayAfternoon
        func minuteOfDay(_ minute: Int) -> Int { ((minute % Minutes.perDay) + Minutes.perDay) % Minutes.perDay }
        let burst = Traffic.seasonal(end: now, days: 28, calls: 10) { bucket in
            let m = minuteOfDay(bucket.minute)
            if m >= minuteOfDay(now - 5) && m < minuteOfDay(now) { bucket.cost = Traffic.dollars(bucket.cost.usd * 4) }
        }
        #expect(SpendSpike.evaluate(burst, now: Traffic.date(now)).finding == nil)
        func cost(_ end: Int) -> Double? { burst.totals(endingAt: end, length: 5).map { $0.cost.usd } }
        let union = try #require(SeasonalBaseline.baseline(at: now, since: burst.since, trailingStep: 5,
                                                           smoothing: .init(neighbours: 2, step: 5), value: cost))
        let plain = try #require(SeasonalBaseline.baseline(at: now, since: burst.since, trailingStep: 5, value: cost))
        #expect(union.value == plain.value)
        #expect(union.samples > plain.samples)
        // An hour later the same neighbours are ordinary and the smoothed median is used.
        let later = try #require(SeasonalBaseline.baseline(at: now + 60, since: burst.since, trailingStep: 5,
                                                           smoothing: .init(neighbours: 2, step: 5), value: cost))
        #expect(later.value < plain.value / 2)
    }

    /// A ×8 spike two minutes in lifts the 5-minute window about ×3.8 only; its severity comes
    /// from the last two minutes, so it fires critical and does not escalate minutes later.
    @Test func severityComesFromTheLastTwoMinutesOfAFillingWindow() throws {
        let now = Self.tuesdayAfternoon
        let series = Traffic.seasonal(end: now, days: 28, calls: 10, adjust: Traffic.spike((now - 2)..<now, 8))
        let finding = try #require(SpendSpike.evaluate(series, now: Traffic.date(now)).finding)
        #expect(finding.value / (finding.baseline ?? 1) < 5)
        #expect(finding.severity == .critical)
        let mild = Traffic.seasonal(end: now, days: 28, calls: 10, adjust: Traffic.spike((now - 4)..<now, 3))
        let mildFinding = try #require(SpendSpike.evaluate(mild, now: Traffic.date(now)).finding)
        #expect(mildFinding.severity == .warning)
    }
}
