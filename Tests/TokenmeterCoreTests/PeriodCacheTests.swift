import Testing
import TokenmeterCore

/// Slow-moving summaries are computed once per key and period, again when the period changes, and
/// a failed computation keeps nothing.
struct PeriodCacheTests {
    struct Failure: Error {}

    @Test func computesOncePerKeyAndPeriod() throws {
        let cache = PeriodCache<String, Int>(limit: 3)
        var computed = 0
        func value(_ key: String, _ period: Int) -> Int {
            cache.value(key, period: period) { computed += 1; return key.count * 100 + period }
        }
        #expect(value("a", 1) == 101)
        #expect(value("a", 1) == 101)
        #expect(value("bb", 1) == 201)
        #expect(computed == 2)
        #expect(value("a", 2) == 102)
        #expect(computed == 3)
        #expect(value("a", 2) == 102)
        #expect(computed == 3)
        // A throwing computation answers the error and keeps the last good value's period out.
        #expect(throws: Failure.self) { try cache.value("a", period: 3) { throw Failure() } }
        #expect(value("a", 3) == 103)
        #expect(computed == 4)
        // Past the limit the cache starts over: every key is computed again.
        _ = value("ccc", 3)
        _ = value("dddd", 3)
        let before = computed
        _ = value("a", 3)
        #expect(computed == before + 1)
    }
}
