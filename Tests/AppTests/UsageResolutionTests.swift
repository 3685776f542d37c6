import Foundation
import Store
import Postgres
import JSON
import Testing

/// `GET /v1/usage` over ranges that the planner answers from day, hour and minute rollups and from
/// raw events, with hand-computed totals.
@Suite(.serialized)
struct UsageResolutionTests {
    let server: RunningServer

    // gpt-4o-mini: $0.15 in, $0.075 cached, $0.60 out per 1M; gpt-4o: $2.50, $1.25, $10.
    // e1 = (1000×0.15 + 100×0.60)/1e6 = 0.00021; e2 = (1000×2.5 + 1000×1.25 + 500×10)/1e6 = 0.00875;
    // e3 = 4000×0.15/1e6 = 0.0006; e4 unpriced (unknown model), an error with one retry.
    static let events = """
        [{"request_id":"e1","timestamp":"2026-10-01T00:00:00Z","feature":"res","provider":"openai","model":"gpt-4o-mini","tokens_in":1000,"tokens_out":100,"user_id":"u1"},
         {"request_id":"e2","timestamp":"2026-10-01T10:30:15.5Z","feature":"res","provider":"openai","model":"gpt-4o","tokens_in":2000,"cached_tokens":1000,"tokens_out":500,"user_id":"u2"},
         {"request_id":"e3","timestamp":"2026-10-02T23:59:59Z","feature":"res","provider":"openai","model":"gpt-4o-mini","tokens_in":4000,"tokens_out":0,"user_id":"u1"},
         {"request_id":"e4","timestamp":"2026-10-03T12:00:00Z","feature":"res","model":"in-house","tokens_in":10,"tokens_out":10,"status":"error","retries":1}]
        """

    init() throws {
        // The test folds pending rollups itself (rollupsAreReadForAlignedRanges).
        server = try RunningServer { $0.compactionIntervalSeconds = 3600 }
        try server.ingestAll(UsageResolutionTests.events)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var from: String, to: String, calls: Int64, cost: String, tokensIn: Int64, unpriced: Int64
        var testDescription: String { "[\(from), \(to))" }
    }

    @Test(arguments: [
        // whole days: the day rollup alone
        Case(from: "2026-10-01T00:00:00Z", to: "2026-10-04T00:00:00Z", calls: 4, cost: "0.00956", tokensIn: 7010, unpriced: 1),
        // days + hours; `to` is exclusive, so e4 at 12:00:00 is out
        Case(from: "2026-10-01T00:00:00Z", to: "2026-10-03T12:00:00Z", calls: 3, cost: "0.00956", tokensIn: 7000, unpriced: 0),
        // minutes + hours + a day + raw tail of one second
        Case(from: "2026-10-01T10:30:00Z", to: "2026-10-03T12:00:01Z", calls: 3, cost: "0.00935", tokensIn: 6010, unpriced: 1),
        // below a minute: raw only
        Case(from: "2026-10-01T10:30:15.4Z", to: "2026-10-01T10:30:15.6Z", calls: 1, cost: "0.00875", tokensIn: 2000, unpriced: 0),
        Case(from: "2026-10-01T10:30:15.6Z", to: "2026-10-02T23:59:59.5Z", calls: 1, cost: "0.0006", tokensIn: 4000, unpriced: 0),
    ])
    func totalsAgreeAtEveryResolution(_ c: Case) throws {
        for grouping in ["", "&group_by=user_id", "&group_by=status"] {
            let rows = try server.rows("/v1/usage?from=\(c.from)&to=\(c.to)&feature=res\(grouping)")
            let calls = rows.compactMap { $0.int("calls") }.reduce(0, +)
            let tokens = rows.compactMap { $0.int("tokens_in") }.reduce(0, +)
            let unpriced = rows.compactMap { $0.int("unpriced_calls") }.reduce(0, +)
            let cost = rows.compactMap { $0.text("cost_usd").flatMap { Decimal(string: $0) } }.reduce(Decimal(0), +)
            #expect(calls == c.calls, "\(grouping)")
            #expect(tokens == c.tokensIn, "\(grouping)")
            #expect(unpriced == c.unpriced, "\(grouping)")
            #expect(cost == Decimal(string: c.cost)!, "\(grouping)")
        }
    }

    @Test func rollupsAreReadForAlignedRanges() throws {
        // Fold the pending rows (one keyed row per cell), then mark the stored rollups so the answer
        // reveals which level served it.
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        // The server's own compactor may hold the lock for a moment (it folds once at start).
        var folded = false
        for _ in 0..<100 where !folded {
            folded = try RollupCompactor(pool: pool).compactOnce().ran
            if !folded { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(folded)
        #expect(try server.sql("SELECT count(*) AS n FROM rollup_usage_pending").rows.first?["n"] == "0")
        // A feature filter is answered by the narrow by-feature family at hour, day and week level
        // (minutes from the wide one), a feature filter grouped by model by the (feature, model)
        // family, and grouping by status only by the wide family.
        for family in ["rollup_by_feature", "rollup_feature_model"] {
            _ = try server.sql("UPDATE \(family)_week_folded SET calls = calls + 1000000000000")
            _ = try server.sql("UPDATE \(family)_day_folded SET calls = calls + 1000000")
            _ = try server.sql("UPDATE \(family)_hour_folded SET calls = calls + 1000")
        }
        _ = try server.sql("UPDATE rollup_minute_folded SET calls = calls + 1")
        _ = try server.sql("UPDATE rollup_day_folded SET calls = calls + 1000000000")
        func calls(_ from: String, _ to: String, _ extra: String = "") throws -> Int64? {
            try server.rows("/v1/usage?from=\(from)&to=\(to)&feature=res\(extra)").map { $0.int("calls") ?? 0 }.reduce(0, +)
        }
        #expect(try calls("2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z") == 4 + 3 * 1_000_000)  // three day rows of the feature
        #expect(try calls("2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z", "&group_by=model") == 4 + 4 * 1_000_000)  // two models on the 1st
        // 13 hours cost more buckets than the day minus its 11 later (empty) hours: the day row serves.
        #expect(try calls("2026-10-03T00:00:00Z", "2026-10-03T13:00:00Z") == 1 + 1_000_000)
        // 3 hours are cheaper added than the day minus 21 hours.
        #expect(try calls("2026-10-03T10:00:00Z", "2026-10-03T13:00:00Z") == 1 + 1000)
        #expect(try calls("2026-10-03T11:00:30Z", "2026-10-03T12:01:00Z") == 1 + 1)
        #expect(try calls("2026-10-03T11:59:59.5Z", "2026-10-03T12:00:00.5Z") == 1)
        // The ISO week of Monday 2026-09-28 holds all four calls in one feature row, three (feature, model) rows.
        #expect(try calls("2026-09-28T00:00:00Z", "2026-10-05T00:00:00Z") == 4 + 1_000_000_000_000)
        #expect(try calls("2026-09-28T00:00:00Z", "2026-10-05T00:00:00Z", "&group_by=model") == 4 + 3 * 1_000_000_000_000)
        #expect(try calls("2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z", "&group_by=status") == 4 + 4 * 1_000_000_000)
    }

    @Test func bucketsFollowTheIntervalAndTimeZone() throws {
        let daily = try server.rows("/v1/usage?from=2026-10-01T00:00:00Z&to=2026-10-04T00:00:00Z&interval=day&feature=res")
        #expect(daily.map { $0.string("bucket") } == ["2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"])
        #expect(daily.map { $0.int("calls") } == [2, 1, 1])
        #expect(daily.map { $0.text("cost_usd") } == ["0.00896", "0.0006", "0"])

        let hourly = try server.rows("/v1/usage?from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z&interval=hour&group_by=model")
        #expect(hourly.map { "\($0.string("bucket") ?? "")|\($0.string("model") ?? "")" }
                == ["2026-10-01T00:00:00Z|gpt-4o-mini", "2026-10-01T10:00:00Z|gpt-4o"])

        let minutes = try server.rows("/v1/usage?from=2026-10-01T10:00:00Z&to=2026-10-01T11:00:00Z&interval=minute")
        #expect(minutes.map { $0.string("bucket") } == ["2026-10-01T10:30:00Z"])

        // India is UTC+5:30: local days start at 18:30Z, so day rollups cannot serve them.
        let india = try server.rows("/v1/usage?from=2026-09-30T18:30:00Z&to=2026-10-03T18:30:00Z&interval=day&tz=Asia/Kolkata")
        #expect(india.map { $0.string("bucket") } == ["2026-09-30T18:30:00Z", "2026-10-02T18:30:00Z"])
        #expect(india.map { $0.int("calls") } == [2, 2])
        let berlin = try server.rows("/v1/usage?from=2026-09-30T22:00:00Z&to=2026-10-03T22:00:00Z&interval=day&tz=Europe/Berlin")
        #expect(berlin.map { $0.string("bucket") } == ["2026-09-30T22:00:00Z", "2026-10-02T22:00:00Z"])
        #expect(berlin.map { $0.int("calls") } == [2, 2])
    }

    @Test(arguments: [
        ("interval=week", "interval"), ("group_by=colour", "group_by"), ("from=yesterday", "from"), ("to=-3x", "to"),
        ("from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", "from"), ("tz=Mars/Olympus", "tz"), ("status=maybe", "status"),
        ("feature=", "feature"), ("colour=red", "colour"), ("interval=minute&from=-90d", "interval"),
    ])
    func badParametersNameTheField(_ query: String, _ field: String) throws {
        for path in ["/v1/usage", "/v1/latency", "/v1/cache"] {
            #expect(try server.badRequestField("\(path)?\(query)") == field, "\(path)?\(query)")
        }
    }
}
