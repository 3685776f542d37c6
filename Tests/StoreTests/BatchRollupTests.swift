import Foundation
@testable import Store
import Testing
import TokenmeterCore

/// The Swift aggregation of a batch into rollup cells: the same figures the raw-event SQL gives.
struct BatchRollupTests {
    static func event(_ id: Int, at timestamp: String, user: String? = "u1", feature: String? = "chat", model: String? = "gpt-4o",
                      cost: Int64? = 1_000, latency: Double? = 100, ttft: Double? = nil, cached: Int64 = 40) -> ProjectEvent {
        var e = Event(eventID: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", id))!,
                      timestamp: Timestamp.parseRFC3339(timestamp)!, requestID: "r\(id)")
        e.userID = user
        e.feature = feature
        e.model = model
        e.provider = "openai"
        e.usage = TokenUsage(input: 100, output: 10, cachedInput: cached, cacheWrite: 0)
        e.cost = cost.map { Money(picodollars: $0) }
        e.latencyMs = latency
        e.ttftMs = ttft
        return ProjectEvent(project: ProjectID(7), event: e)
    }

    @Test func bucketsFloorTowardsThePastAndFollowTheWrittenMicroseconds() {
        #expect(BatchRollup.bucket(0, seconds: 60) == 0)
        #expect(BatchRollup.bucket(59_999_999, seconds: 60) == 0)
        #expect(BatchRollup.bucket(60_000_000, seconds: 60) == 60)
        #expect(BatchRollup.bucket(-1, seconds: 60) == -60)
        #expect(BatchRollup.bucket(-60_000_000, seconds: 60) == -60)
        #expect(BatchRollup.bucket(-60_000_001, seconds: 3600) == -3600)
        // 0.4 µs before a minute is written to Postgres as the minute itself: the cell must agree.
        let almost = Date(timeIntervalSince1970: 1_764_000_060 - 0.000_000_4)
        #expect(Timestamp.rfc3339(almost) == "2025-11-24T16:01:00Z")
        #expect(BatchRollup.bucket(BatchRollup.micros(almost), seconds: 60) == 1_764_000_060)
    }

    @Test func usageCellsSumExactly() throws {
        var error = BatchRollupTests.event(2, at: "2026-11-20T10:00:30Z", cost: nil, latency: 300, ttft: 50).event
        error.status = .error
        error.retries = 3
        error.cacheHit = true
        error.cacheSavings = Money(picodollars: 25)
        let rollup = BatchRollup([
            BatchRollupTests.event(1, at: "2026-11-20T10:00:01Z", cost: 6_000_000_000_000_000_000, latency: 100),
            ProjectEvent(project: ProjectID(7), event: error),
            BatchRollupTests.event(3, at: "2026-11-20T10:00:59.5Z", cost: 6_000_000_000_000_000_000, latency: nil, ttft: 20, cached: 0),
        ])
        let rows = rollup.usagePendingRows
        #expect(rows.count == 1)        // one minute; ok and error are two cells of it
        let row = try #require(rows.first)
        #expect(Array(row.prefix(8)) == ["7", "2026-11-20T10:00:00Z", #"{"chat","chat"}"#, #"{"gpt-4o","gpt-4o"}"#,
                                         #"{"openai","openai"}"#, #"{"",""}"#, #"{"ok","error"}"#, #"{"",""}"#])
        // calls, tokens in/out, cached, cache write, cost (beyond Int64 when summed), unpriced, errors,
        // retries, fallbacks, app-cache hits, provider-cache hits (calls with cached tokens), latency
        // sum/count, savings, misses, priced misses, miss cost, TTFT sum/count: the ok cell first, then
        // the error cell.
        #expect(Array(row.dropFirst(8)) == ["{2,1}", "{200,100}", "{20,10}", "{40,40}", "{0,0}", "{12000000000000000000,0}", "{0,1}",
                                            "{0,1}", "{0,3}", "{0,0}", "{0,1}", "{1,1}", "{100.0,300.0}", "{1,1}", "{0,25}", "{2,0}", "{2,0}",
                                            "{12000000000000000000,0}", "{20.0,50.0}", "{1,1}"])
    }

    @Test func pendingRowsKeepCellsAligned() throws {
        let rollup = BatchRollup([
            BatchRollupTests.event(1, at: "2026-11-20T10:05:00Z", user: "ann", latency: 100, ttft: 10),
            BatchRollupTests.event(2, at: "2026-11-20T10:06:00Z", user: "bob", feature: nil, latency: 100),
            BatchRollupTests.event(3, at: "2026-11-20T10:05:30Z", user: "ann", latency: 100.5),
            BatchRollupTests.event(4, at: "2026-11-20T11:00:00Z", user: nil, feature: #"quote"and\back"#, latency: 0),
        ])
        let users = rollup.userPendingRows.sorted { $0[1]! < $1[1]! }
        #expect(users.count == 3)      // per minute (migration 0012): 10:05 (ann twice), 10:06 (bob), 11:00
        #expect(Array(users[0].prefix(6)) == ["7", "2026-11-20T10:05:00Z", #"{"ann"}"#, #"{"chat"}"#, #"{"gpt-4o"}"#, #"{""}"#])
        #expect(users[0][6] == "{2}")             // calls
        #expect(users[0][7] == "{200}")           // tokens in
        #expect(Array(users[1].prefix(4)) == ["7", "2026-11-20T10:06:00Z", #"{"bob"}"#, #"{""}"#])
        #expect(users[1][6] == "{1}")
        #expect(Array(users[2].prefix(4)) == ["7", "2026-11-20T11:00:00Z", #"{""}"#, #"{"quote\"and\\back"}"#])

        let sketches = rollup.sketchPendingRows.sorted { $0[1]! < $1[1]! }
        #expect(sketches.map { $0[1] } == ["2026-11-20T10:05:00Z", "2026-11-20T10:06:00Z", "2026-11-20T11:00:00Z"])
        // 10:05: latency 100 and 100.5 share bucket ⌈ln(100)/ln(1.02)⌉ = 233; TTFT 10 is bucket 117.
        #expect(sketches[0][6] == "{0,1}")
        #expect(sketches[0][7] == "{\(LatencySketch.index(of: 100)),\(LatencySketch.index(of: 10))}")
        #expect(LatencySketch.index(of: 100) == LatencySketch.index(of: 100.5))
        #expect(sketches[0][8] == "{2,1}")
        #expect(sketches[2][7] == "{\(LatencySketch.zeroIndex)}")
    }

    @Test func textArraysQuoteEveryElement() {
        #expect(BatchRollup.textArray([]) == "{}")
        #expect(BatchRollup.textArray(["", "NULL", "a,b", #"x"y\z"#, "é{}"]) == #"{"","NULL","a,b","x\"y\\z","é{}"}"#)
        #expect(PostgresEventWriter.arrayLiteral([]) == nil)
        #expect(PostgresEventWriter.arrayLiteral(["t"]) == #"{"t"}"#)
    }
}
