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
        let segments = QueryPlan.segments(range, levels: seed % 2 == 0 ? [.minute, .hour, .day] : [.minute, .hour, .day, .week])
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
    }
}
