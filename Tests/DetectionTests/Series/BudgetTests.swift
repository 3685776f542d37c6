import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct BudgetTests {
    @Test(arguments: [
        (BudgetPeriod.daily, "2026-11-25T23:59:59Z", "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z"),
        (.monthly, "2026-11-25T12:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
        (.monthly, "2028-02-29T12:00:00Z", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),
    ])
    func periodsAreUTCCalendarDaysAndMonths(_ period: BudgetPeriod, _ at: String, _ start: String, _ end: String) throws {
        let interval = period.interval(containing: try #require(Timestamp.parseRFC3339(at)))
        #expect(Format.date(interval.start) == start)
        #expect(Format.date(interval.end) == end)
    }
}
