@testable import API
import Foundation
import HTTP
import Testing
import TokenmeterCore

/// Ranges relative to now cover whole minutes (so the rollups answer them end to end); explicit
/// times are taken exactly.
struct QueryParametersTests {
    /// 2026-12-06T10:20:30.250Z
    static let now = Date(timeIntervalSince1970: 1_796_552_430.25)

    func range(_ query: String) throws -> TimeRange {
        try QueryParameters(request: HTTPRequest(method: "GET", target: "/v1/usage?\(query)")).timeRange(now: Self.now)
    }

    func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    @Test func relativeTimesAreAlignedToWholeMinutes() throws {
        #expect(iso(Self.now) == "2026-12-06T10:20:30Z")
        let last24h = try range("from=-24h")
        #expect(iso(last24h.from) == "2026-12-05T10:20:00Z")
        #expect(iso(last24h.to) == "2026-12-06T10:21:00Z")
        // Without `from`: 24 hours ending with the current minute.
        let byDefault = try range("")
        #expect(iso(byDefault.from) == "2026-12-05T10:21:00Z")
        #expect(byDefault.to == last24h.to)
        let withNow = try range("from=-90s&to=now")
        #expect(iso(withNow.from) == "2026-12-06T10:19:00Z")
        #expect(iso(withNow.to) == "2026-12-06T10:21:00Z")
        // A relative `to` rounds up as well.
        #expect(iso(try range("from=-2h&to=-1h").to) == "2026-12-06T09:21:00Z")
    }

    @Test func explicitTimesAreExact() throws {
        let explicit = try range("from=2026-12-06T08:00:15.5Z&to=1796551200123")
        #expect(explicit.from.timeIntervalSince1970 == 1_796_544_015.5)
        #expect(explicit.to.timeIntervalSince1970 == 1_796_551_200.123)
        // A relative `from` with an explicit `to`: only the relative end moves.
        let mixed = try range("from=-1h&to=2026-12-06T10:00:30Z")
        #expect(iso(mixed.from) == "2026-12-06T09:20:00Z")
        #expect(iso(mixed.to) == "2026-12-06T10:00:30Z")
    }

    @Test func aTimeOnAMinuteStaysPut() throws {
        let onTheMinute = Date(timeIntervalSince1970: 1_796_551_200)
        let range = try QueryParameters(request: HTTPRequest(method: "GET", target: "/v1/usage?from=-1h")).timeRange(now: onTheMinute)
        #expect(range.to == onTheMinute)
        #expect(range.from == onTheMinute.addingTimeInterval(-3600))
    }
}
