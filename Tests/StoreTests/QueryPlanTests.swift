import Foundation
@testable import Store
import Testing
import TokenmeterCore

/// How a query range is cut into rollup levels and raw ends.
struct QueryPlanTests {
    static func date(_ text: String) -> Date { Timestamp.parseRFC3339(text)! }
    static func range(_ from: String, _ to: String) -> TimeRange { TimeRange(from: date(from), to: date(to)) }

    @Test func coarsestLevelsInsideFinerOnesAtTheEdges() {
        let segments = QueryPlan.segments(Self.range("2026-10-01T10:30:15Z", "2026-10-03T12:00:01Z"), levels: [.minute, .hour, .day])
        let expected: [(Resolution, String, String)] = [
            (.raw, "2026-10-01T10:30:15Z", "2026-10-01T10:31:00Z"),
            (.minute, "2026-10-01T10:31:00Z", "2026-10-01T11:00:00Z"),
            (.hour, "2026-10-01T11:00:00Z", "2026-10-02T00:00:00Z"),
            (.day, "2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"),
            (.hour, "2026-10-03T00:00:00Z", "2026-10-03T12:00:00Z"),
            (.raw, "2026-10-03T12:00:00Z", "2026-10-03T12:00:01Z"),
        ]
        #expect(segments == expected.map { Segment(resolution: $0.0, from: Self.date($0.1), to: Self.date($0.2)) })
    }

    @Test func withoutRollupsEverythingIsRaw() {
        let range = Self.range("2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z")
        #expect(QueryPlan.segments(range, levels: []) == [Segment(resolution: .raw, from: range.from, to: range.to)])
        #expect(QueryPlan.segments(Self.range("2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z"), levels: [.day]).isEmpty)
    }

    @Test(arguments: 0..<200)
    func segmentsTileTheRangeAligned(_ seed: Int) {
        var rng = SystemRandomNumberGenerator()
        let from = Double(Int.random(in: 1_780_000_000...1_790_000_000, using: &rng)) + Double(Int.random(in: 0..<1000, using: &rng)) / 1000
        let to = from + [0.5, 59, 3599, 86_399, 4 * 86_400.25, 40 * 86_400][seed % 6] * Double.random(in: 0..<1.5, using: &rng)
        let range = TimeRange(from: Date(timeIntervalSince1970: from), to: Date(timeIntervalSince1970: to))
        let segments = QueryPlan.segments(range, levels: [[.minute, .hour, .day], [.minute, .hour, .day, .week], [.minute, .hour, .sixHours, .day, .week],
                                                                 [.minute, .hour, .sixHours, .day, .week, .fortnight]][seed % 4])
        guard range.from < range.to else { #expect(segments.isEmpty); return }
        #expect(segments.first?.from == range.from)
        #expect(segments.last?.to == range.to)
        for (a, b) in zip(segments, segments.dropFirst()) { #expect(a.to == b.from) }
        for segment in segments where segment.resolution != .raw {
            let size = Double(segment.resolution.seconds), origin = Double(segment.resolution.origin)
            #expect((segment.from.timeIntervalSince1970 - origin).truncatingRemainder(dividingBy: size) == 0)
            #expect((segment.to.timeIntervalSince1970 - origin).truncatingRemainder(dividingBy: size) == 0)
        }
        #expect(segments.filter { $0.resolution == .raw }.count <= 2)
    }

    /// 30 days ending on a Sunday at 07:00 UTC: three ISO weeks (Monday 00:00 UTC), days and hours around them.
    @Test func weeksStartOnMondayInUTC() {
        let segments = QueryPlan.segments(Self.range("2026-11-06T07:00:00Z", "2026-12-06T07:00:00Z"), levels: [.minute, .hour, .day, .week])
        let expected: [(Resolution, String, String)] = [
            (.hour, "2026-11-06T07:00:00Z", "2026-11-07T00:00:00Z"),
            (.day, "2026-11-07T00:00:00Z", "2026-11-09T00:00:00Z"),
            (.week, "2026-11-09T00:00:00Z", "2026-11-30T00:00:00Z"),
            (.day, "2026-11-30T00:00:00Z", "2026-12-06T00:00:00Z"),
            (.hour, "2026-12-06T00:00:00Z", "2026-12-06T07:00:00Z"),
        ]
        #expect(segments == expected.map { Segment(resolution: $0.0, from: Self.date($0.1), to: Self.date($0.2)) })
    }

    /// The same window with subtraction, asked at its end: the head is its day minus 7 hours, the tail
    /// the week in progress minus what is still to come (free: nothing is stored after now).
    @Test func subtractionReadsFewerBuckets() {
        let range = Self.range("2026-11-06T07:00:00Z", "2026-12-06T07:00:00Z")
        let segments = QueryPlan.segments(range, levels: [.minute, .hour, .day, .week], subtractive: true, now: range.to)
        let expected: [(Resolution, String, String, Int)] = [
            (.day, "2026-11-06T00:00:00Z", "2026-11-07T00:00:00Z", 1),
            (.hour, "2026-11-06T00:00:00Z", "2026-11-06T07:00:00Z", -1),
            (.day, "2026-11-07T00:00:00Z", "2026-11-09T00:00:00Z", 1),
            (.week, "2026-11-09T00:00:00Z", "2026-11-30T00:00:00Z", 1),
            (.week, "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", 1),
            (.hour, "2026-12-06T07:00:00Z", "2026-12-07T00:00:00Z", -1),
        ]
        #expect(segments == expected.map { Segment(resolution: $0.0, from: Self.date($0.1), to: Self.date($0.2), sign: $0.3) })
        // Asked a week later, the hours after the range hold data: the last week comes as the week
        // minus its last day plus that day's first 7 hours (9 buckets instead of 6 days and 7 hours).
        let later = QueryPlan.segments(range, levels: [.minute, .hour, .day, .week], subtractive: true,
                                       now: range.to.addingTimeInterval(7 * 86_400))
        #expect(later.suffix(3) == [Segment(resolution: .week, from: Self.date("2026-11-30T00:00:00Z"), to: Self.date("2026-12-07T00:00:00Z")),
                                    Segment(resolution: .day, from: Self.date("2026-12-06T00:00:00Z"), to: Self.date("2026-12-07T00:00:00Z"), sign: -1),
                                    Segment(resolution: .hour, from: Self.date("2026-12-06T00:00:00Z"), to: Self.date("2026-12-06T07:00:00Z"))])
        // Without subtraction nothing is negative.
        #expect(QueryPlan.segments(range, levels: [.minute, .hour, .day, .week], now: range.to).allSatisfy { $0.sign == 1 })
    }

    /// Whatever the plan, every instant is counted exactly once inside the range and never outside it.
    @Test(arguments: 0..<200)
    func signedSegmentsCountEachInstantOnce(_ seed: Int) {
        var rng = SystemRandomNumberGenerator()
        let from = Double(Int.random(in: 1_780_000_000...1_790_000_000, using: &rng)) + Double(Int.random(in: 0..<1000, using: &rng)) / 1000
        let to = from + [0.5, 59, 3599, 86_399, 4 * 86_400.25, 40 * 86_400][seed % 6] * Double.random(in: 0..<1.5, using: &rng)
        let now = from + (to - from) * Double.random(in: -0.2..<1.5, using: &rng)
        let range = TimeRange(from: Date(timeIntervalSince1970: from), to: Date(timeIntervalSince1970: to))
        let levels: [Resolution] = [[.minute, .hour, .day], [.minute, .hour, .day, .week], [.hour, .day], [.minute, .hour, .sixHours, .day, .week],
                                    [.minute, .hour, .sixHours, .day, .week, .fortnight]][seed % 5]
        let segments = QueryPlan.segments(range, levels: levels, subtractive: true, now: Date(timeIntervalSince1970: now))
        let additive = QueryPlan.segments(range, levels: levels)
        #expect(segments.count <= additive.count + 8)
        for segment in segments where segment.resolution != .raw {
            let size = Double(segment.resolution.seconds), origin = Double(segment.resolution.origin)
            #expect((segment.from.timeIntervalSince1970 - origin).truncatingRemainder(dividingBy: size) == 0)
            #expect((segment.to.timeIntervalSince1970 - origin).truncatingRemainder(dividingBy: size) == 0)
        }
        // Probe the range's ends, every segment's ends and points just inside and outside of them.
        var probes = [from, to, from - 0.0005, to - 0.0005]
        for segment in segments { probes += [segment.from.timeIntervalSince1970, segment.to.timeIntervalSince1970 - 0.0005] }
        for _ in 0..<50 { probes.append(Double.random(in: (from - 8 * 86_400)...(to + 8 * 86_400), using: &rng)) }
        for t in probes {
            let counted = segments.reduce(0) { $0 + ($1.from.timeIntervalSince1970 <= t && t < $1.to.timeIntervalSince1970 ? $1.sign : 0) }
            #expect(counted == (from <= t && t < to ? 1 : 0), "instant \(t) in \(from)..<\(to)")
        }
        // The pending cells, read once over the rollup coverage, count as the rollup segments count them.
        let coverage = QueryPlan.rollupCoverage(segments)
        #expect(coverage.allSatisfy { $0.sign != 0 && $0.from < $0.to })
        #expect(zip(coverage, coverage.dropFirst()).allSatisfy { $0.to < $1.from || ($0.to == $1.from && $0.sign != $1.sign) })
        let signAt = { (pieces: [Segment], t: Double) in
            pieces.reduce(0) { $0 + ($1.resolution != .raw && $1.from.timeIntervalSince1970 <= t && t < $1.to.timeIntervalSince1970 ? $1.sign : 0) }
        }
        for t in probes {
            let minute = (t / 60).rounded(.down) * 60
            #expect(signAt(coverage, minute) == signAt(segments, minute), "minute \(minute) in \(from)..<\(to)")
        }
    }

    /// Thirty days ending on the hour, by subtraction or not: the pending cells are read once, over the range.
    /// With 6-hour buckets (usage by feature and model, migration 0017) each edge of that window takes
    /// a day minus a 6-hour block and an hour, or the blocks after the range (free at its end), instead
    /// of 7 hours: 9 buckets read instead of 14.
    @Test func sixHourBlocksShortenTheEdges() {
        let range = Self.range("2026-11-06T07:00:00Z", "2026-12-06T07:00:00Z")
        let segments = QueryPlan.segments(range, levels: [.minute, .hour, .sixHours, .day, .week], subtractive: true, now: range.to)
        let expected: [(Resolution, String, String, Int)] = [
            (.day, "2026-11-06T00:00:00Z", "2026-11-07T00:00:00Z", 1),
            (.sixHours, "2026-11-06T00:00:00Z", "2026-11-06T06:00:00Z", -1),
            (.hour, "2026-11-06T06:00:00Z", "2026-11-06T07:00:00Z", -1),
            (.day, "2026-11-07T00:00:00Z", "2026-11-09T00:00:00Z", 1),
            (.week, "2026-11-09T00:00:00Z", "2026-11-30T00:00:00Z", 1),
            (.week, "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", 1),
            (.hour, "2026-12-06T07:00:00Z", "2026-12-06T12:00:00Z", -1),
            (.sixHours, "2026-12-06T12:00:00Z", "2026-12-07T00:00:00Z", -1),
        ]
        #expect(segments == expected.map { Segment(resolution: $0.0, from: Self.date($0.1), to: Self.date($0.2), sign: $0.3) })
        // Asked a week later (nothing free): the tail is the week minus its last day plus a 6-hour block
        // and an hour of that day, not 7 hours.
        let later = QueryPlan.segments(range, levels: [.minute, .hour, .sixHours, .day, .week], subtractive: true,
                                       now: range.to.addingTimeInterval(7 * 86_400))
        #expect(later.suffix(4) == [Segment(resolution: .week, from: Self.date("2026-11-30T00:00:00Z"), to: Self.date("2026-12-07T00:00:00Z")),
                                    Segment(resolution: .day, from: Self.date("2026-12-06T00:00:00Z"), to: Self.date("2026-12-07T00:00:00Z"), sign: -1),
                                    Segment(resolution: .sixHours, from: Self.date("2026-12-06T00:00:00Z"), to: Self.date("2026-12-06T06:00:00Z")),
                                    Segment(resolution: .hour, from: Self.date("2026-12-06T06:00:00Z"), to: Self.date("2026-12-06T07:00:00Z"))])
    }

    /// Fortnights (usage by feature and model, migration 0018) are pairs of ISO weeks counted from Monday
    /// 1970-01-05: 2026-11-09 starts one (week 2,966 since then), 2026-11-16 does not. Thirty days
    /// holding four whole weeks read two fortnights when the weeks start a fortnight, and a week, a
    /// fortnight and a week when they do not.
    @Test func fortnightsHalveTheWeeksOfAMonth() {
        let levels: [Resolution] = [.minute, .hour, .sixHours, .day, .week, .fortnight]
        let even = Self.range("2026-11-07T02:00:00Z", "2026-12-07T02:00:00Z")
        // Asked a month later, so that no bucket after the range is free.
        let later = { (range: TimeRange) in range.to.addingTimeInterval(30 * 86_400) }
        let evenPlan = QueryPlan.segments(even, levels: levels, subtractive: true, now: later(even))
        #expect(evenPlan.filter { $0.resolution >= .week } == [
            Segment(resolution: .fortnight, from: Self.date("2026-11-09T00:00:00Z"), to: Self.date("2026-12-07T00:00:00Z"))])
        let odd = Self.range("2026-11-14T02:00:00Z", "2026-12-14T02:00:00Z")
        let oddPlan = QueryPlan.segments(odd, levels: levels, subtractive: true, now: later(odd))
        #expect(oddPlan.filter { $0.resolution >= .week } == [
            Segment(resolution: .week, from: Self.date("2026-11-16T00:00:00Z"), to: Self.date("2026-11-23T00:00:00Z")),
            Segment(resolution: .fortnight, from: Self.date("2026-11-23T00:00:00Z"), to: Self.date("2026-12-07T00:00:00Z")),
            Segment(resolution: .week, from: Self.date("2026-12-07T00:00:00Z"), to: Self.date("2026-12-14T00:00:00Z"))])
        for (range, plan) in [(even, evenPlan), (odd, oddPlan)] {
            let weeksOnly = QueryPlan.segments(range, levels: Array(levels.dropLast()), subtractive: true, now: later(range))
            #expect(QueryPlan.bucketsRead(plan, now: later(range).timeIntervalSince1970)
                    == QueryPlan.bucketsRead(weeksOnly, now: later(range).timeIntervalSince1970) - (plan == evenPlan ? 2 : 1))
        }
        #expect(Resolution.fortnight.name == "2w" && Resolution.fortnight.seconds == 14 * 86_400)
    }

    @Test func rollupCoverageOfAThirtyDayRangeIsTheRange() {
        let range = Self.range("2026-11-06T07:00:00Z", "2026-12-06T07:00:00Z")
        for subtractive in [false, true] {
            let segments = QueryPlan.segments(range, levels: [.minute, .hour, .day, .week], subtractive: subtractive, now: range.to)
            #expect(QueryPlan.rollupCoverage(segments) == [Segment(resolution: .minute, from: range.from, to: range.to)])
        }
    }

    @Test func levelsFollowTheIntervalAndZone() {
        let range = Self.range("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
        let all: [Resolution] = [.minute, .hour, .day]
        #expect(QueryPlan.levels(interval: .none, timeZone: nil, range: range, available: all) == all)
        #expect(QueryPlan.levels(interval: .hour, timeZone: nil, range: range, available: all) == [.minute, .hour])
        #expect(QueryPlan.levels(interval: .minute, timeZone: nil, range: range, available: all) == [.minute])
        // UTC days only come from the day rollup in UTC; whole-hour zones (DST included) use hours.
        #expect(QueryPlan.levels(interval: .day, timeZone: "Europe/Berlin", range: range, available: all) == [.minute, .hour])
        #expect(QueryPlan.levels(interval: .day, timeZone: "Asia/Kolkata", range: range, available: all) == [.minute])
        #expect(QueryPlan.levels(interval: .hour, timeZone: "Asia/Kolkata", range: range, available: all) == [.minute])
        // Without buckets the zone does not matter.
        #expect(QueryPlan.levels(interval: .none, timeZone: "Asia/Kolkata", range: range, available: all) == all)
        #expect(QueryPlan.levels(interval: .day, timeZone: nil, range: range, available: [.hour, .day]) == [.hour, .day])
        // Weeks only serve answers without buckets.
        let narrow: [Resolution] = [.minute, .hour, .day, .week]
        #expect(QueryPlan.levels(interval: .none, timeZone: "Asia/Kolkata", range: range, available: narrow) == narrow)
        #expect(QueryPlan.levels(interval: .day, timeZone: nil, range: range, available: narrow) == all)
        #expect(QueryPlan.levels(interval: .day, timeZone: "Europe/Berlin", range: range, available: narrow) == [.minute, .hour])
        // 6-hour blocks are cut in UTC: they serve UTC days, not hours, and no day of another zone.
        let withBlocks: [Resolution] = [.minute, .hour, .sixHours, .day, .week]
        #expect(QueryPlan.levels(interval: .day, timeZone: nil, range: range, available: withBlocks) == [.minute, .hour, .sixHours, .day])
        #expect(QueryPlan.levels(interval: .hour, timeZone: nil, range: range, available: withBlocks) == [.minute, .hour])
        #expect(QueryPlan.levels(interval: .day, timeZone: "Europe/Berlin", range: range, available: withBlocks) == [.minute, .hour])
        #expect(QueryPlan.levels(interval: .day, timeZone: "Asia/Tokyo", range: range, available: withBlocks) == [.minute, .hour])
        #expect(QueryPlan.levels(interval: .none, timeZone: "Asia/Kolkata", range: range, available: withBlocks) == withBlocks)
        // Fortnights, like weeks, only serve answers without buckets.
        let withFortnights = withBlocks + [.fortnight]
        #expect(QueryPlan.levels(interval: .none, timeZone: nil, range: range, available: withFortnights) == withFortnights)
        #expect(QueryPlan.levels(interval: .day, timeZone: nil, range: range, available: withFortnights) == [.minute, .hour, .sixHours, .day])
    }
}
