import Foundation
@testable import Store
import Testing
import TokenmeterCore

/// The levels folded tables are kept at, as SQL buckets (`PendingRollup.bucket`), as planner
/// resolutions (`Resolution`) and for retention (`PendingRollup.extraDays`), must agree.
struct PendingRollupLevelsTests {
    @Test func everyFoldedLevelIsAPlannerResolution() {
        let levels = Set(PendingRollup.all.flatMap { $0.foldTargets.map(\.level) })
        #expect(levels == ["minute", "hour", "6h", "day", "week", "2w"])
        let names = Set(Resolution.allCases.map(\.name))
        #expect(levels.isSubset(of: names))
    }

    /// A week (fortnight) row is deleted only once all its days are past the cutoff.
    @Test func longBucketsKeepTheirLaterDays() {
        #expect(["minute", "hour", "6h", "day", "week", "2w"].map(PendingRollup.extraDays) == [0, 0, 0, 0, 6, 13])
    }

    /// Fortnights in SQL start where the planner's do: on the Mondays an even number of weeks after
    /// 1970-01-05 (`Resolution.origin`), which `date_bin` cuts from that origin.
    @Test func fortnightBucketsShareThePlannersOrigin() {
        #expect(PendingRollup.bucket("2w", of: "ts") == "date_bin('14 days', ts, TIMESTAMPTZ '1970-01-05 00:00:00+00')")
        #expect(Resolution.fortnight.origin == Resolution.week.origin && Resolution.week.origin == 4 * 86_400)
        let start = Timestamp.parseRFC3339("2026-11-09T00:00:00Z")!.timeIntervalSince1970
        #expect((Int64(start) - Resolution.fortnight.origin) % Resolution.fortnight.seconds == 0)
    }
}
