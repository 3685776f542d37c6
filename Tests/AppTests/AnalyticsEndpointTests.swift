import Foundation
import JSON
import Testing
import TokenmeterCore

/// `/v1/latency`, `/v1/cache` and `/v1/top` against a real server, with figures computed by hand.
@Suite(.serialized)
struct AnalyticsEndpointTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    /// The exact nearest-rank quantile: the value of rank ⌈q·n⌉.
    static func exact(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[max(1, Int((q * Double(sorted.count)).rounded(.up))) - 1]
    }

    static func within1Percent(_ measured: Double?, _ exact: Double) -> Bool {
        guard let measured else { return false }
        return abs(measured - exact) <= 0.01 * exact
    }

    @Test func latencyPercentilesMergeAcrossBucketsAndLevels() throws {
        // 100 calls 37 minutes apart (three days, so day, hour and minute rollups and raw ends all
        // contribute), latency i ms and, for even i, TTFT i/2 ms; and ten slow calls of another model.
        var events: [String] = []
        let start = Timestamp.parseRFC3339("2026-10-05T00:00:00Z")!
        for i in 1...100 {
            let ts = Timestamp.rfc3339(start.addingTimeInterval(Double(i) * 37 * 60))
            let ttft = i % 2 == 0 ? #","ttft_ms":\#(Double(i) / 2)"# : ""
            events.append(#"{"request_id":"l\#(i)","timestamp":"\#(ts)","feature":"lat","model":"gpt-4o-mini","user_id":"u\#(i % 3)","latency_ms":\#(i)\#(ttft)}"#)
        }
        for i in 0..<10 {
            events.append(#"{"request_id":"s\#(i)","timestamp":"2026-10-06T12:00:0\#(i)Z","feature":"lat","model":"gpt-4o","latency_ms":\#(1000 + 100 * i)}"#)
        }
        events.append(#"{"request_id":"no-latency","timestamp":"2026-10-06T12:00:00Z","feature":"lat","model":"gpt-4o"}"#)
        try server.ingestAll("[" + events.joined(separator: ",") + "]")

        let fast = (1...100).map(Double.init)
        let fastTTFT = stride(from: 2, through: 100, by: 2).map { Double($0) / 2 }
        let slow = (0..<10).map { Double(1000 + 100 * $0) }
        for range in ["from=2026-10-05T00:00:00Z&to=2026-10-08T00:00:00Z", "from=2026-10-05T00:00:30Z&to=2026-10-07T23:59:30Z"] {
            for extra in ["", "&status=ok", "&group_by=model,status"] {   // status is not in the sketches: raw path
                let rows = try server.rows("/v1/latency?\(range)&feature=lat\(extra)\(extra.contains("group_by") ? "" : "&group_by=model")")
                #expect(rows.count == 2, "\(range)\(extra)")
                for (model, values) in [("gpt-4o-mini", fast), ("gpt-4o", slow)] {
                    let row = try #require(rows.first { $0.string("model") == model }, "\(range)\(extra)")
                    #expect(row.int("count") == Int64(values.count), "\(range)\(extra)")
                    for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
                        #expect(Self.within1Percent(row.double(name), Self.exact(values, q)), "\(model) \(name) \(range)\(extra): \(row)")
                    }
                }
            }
        }
        let ttft = try server.rows("/v1/latency?from=2026-10-05T00:00:00Z&to=2026-10-08T00:00:00Z&metric=ttft&model=gpt-4o-mini")
        #expect(ttft.count == 1)
        #expect(ttft.first?.int("count") == 50)
        for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
            #expect(Self.within1Percent(ttft.first?.double(name), Self.exact(fastTTFT, q)), "ttft \(name)")
        }
        // Per day: counts split by day, each day's percentiles from that day's calls only.
        let daily = try server.rows("/v1/latency?from=2026-10-05T00:00:00Z&to=2026-10-08T00:00:00Z&interval=day&model=gpt-4o-mini")
        let perDay = Dictionary(grouping: 1...100) { i in Int(Double(i) * 37 * 60 / 86_400) }
        #expect(daily.map { $0.int("count") } == (0..<3).map { Int64(perDay[$0]?.count ?? 0) })
        for (day, row) in daily.enumerated() {
            let values = (perDay[day] ?? []).map(Double.init)
            #expect(Self.within1Percent(row.double("p50"), Self.exact(values, 0.5)), "day \(day)")
        }
        #expect(try server.badRequestField("/v1/latency?metric=speed") == "metric")

        // The histogram: 100 calls of 1…100 ms in at most 5 log-scale bars, each holding exactly
        // the calls within its bounds.
        let histogram = try server.rows("/v1/latency?from=2026-10-05T00:00:00Z&to=2026-10-08T00:00:00Z&model=gpt-4o-mini&histogram=5")
        guard case .array(let bins)? = histogram.first?["histogram"] else {
            Issue.record("no histogram in \(histogram)")
            return
        }
        #expect((2...5).contains(bins.count))
        var total: Int64 = 0
        for bin in bins {
            let lower = try #require(bin["from_ms"]?.doubleValue), upper = try #require(bin["to_ms"]?.doubleValue)
            let count = try #require(bin["count"]?.int64Value)
            #expect(count == Int64((1...100).filter { Double($0) > lower && Double($0) <= upper }.count), "(\(lower), \(upper)]")
            total += count
        }
        #expect(total == 100)
        #expect(try server.rows("/v1/latency?from=2026-10-05T00:00:00Z&to=2026-10-08T00:00:00Z&model=gpt-4o-mini").first?["histogram"] == nil)
        #expect(try server.badRequestField("/v1/latency?histogram=101") == "histogram")
        #expect(try server.badRequestField("/v1/latency?histogram=-1") == "histogram")
    }

    @Test func cacheSavingsMatchHandComputedDollars() throws {
        try server.ingestAll("""
            [{"request_id":"m1","timestamp":"2026-10-11T01:00:00Z","feature":"cache","provider":"openai","model":"gpt-4o-mini","tokens_in":1000,"tokens_out":100},
             {"request_id":"m2","timestamp":"2026-10-11T01:30:00Z","feature":"cache","provider":"openai","model":"gpt-4o-mini","tokens_in":2000,"cached_tokens":1000,"tokens_out":200},
             {"request_id":"h1","timestamp":"2026-10-11T02:00:00Z","feature":"cache","provider":"openai","model":"gpt-4o-mini","cache_hit":true},
             {"request_id":"h2","timestamp":"2026-10-11T02:00:01Z","feature":"cache","provider":"openai","model":"gpt-4o-mini","cache_hit":true},
             {"request_id":"m3","timestamp":"2026-10-11T03:00:00Z","feature":"cache2","provider":"openai","model":"gpt-4o","tokens_in":1000,"cached_tokens":800},
             {"request_id":"m4","timestamp":"2026-10-11T03:00:00Z","feature":"cache2","model":"in-house","tokens_in":10},
             {"request_id":"h3","timestamp":"2026-10-11T03:10:00Z","feature":"cache2","provider":"openai","model":"gpt-4o","cache_hit":true},
             {"request_id":"h4","timestamp":"2026-10-11T04:00:00Z","feature":"cache3","cache_hit":true}]
            """)
        // cache:  misses cost 0.00021 (m1) and (1000×0.15 + 1000×0.075 + 200×0.60)/1e6 = 0.000345 (m2);
        //         m2's cached tokens saved 1000 × (0.15 − 0.075)/1e6 = 0.000075;
        //         the two hits are worth the misses' mean (0.0002775) each = 0.000555.
        // cache2: m3 = (200×2.5 + 800×1.25)/1e6 = 0.0015, its cache saved 800 × 1.25/1e6 = 0.001;
        //         m4 is unpriced, so the hit is worth the priced miss's mean, 0.0015.
        // cache3: a hit with no miss to value it by: unvalued.
        let rows = try server.rows("/v1/cache?from=2026-10-11T00:00:00Z&to=2026-10-12T00:00:00Z&group_by=feature")
        let byFeature = Dictionary(uniqueKeysWithValues: rows.compactMap { row in row.string("feature").map { ($0, row) } })
        struct Expected { var calls: Int64, hits: Int64, tokensIn: Int64, cached: Int64, cachedSaved: String, hitsSaved: String, unvalued: Int64, saved: String }
        let expected: [String: Expected] = [
            "cache": Expected(calls: 4, hits: 2, tokensIn: 3000, cached: 1000, cachedSaved: "0.000075", hitsSaved: "0.000555", unvalued: 0, saved: "0.00063"),
            "cache2": Expected(calls: 3, hits: 1, tokensIn: 1010, cached: 800, cachedSaved: "0.001", hitsSaved: "0.0015", unvalued: 0, saved: "0.0025"),
            "cache3": Expected(calls: 1, hits: 1, tokensIn: 0, cached: 0, cachedSaved: "0", hitsSaved: "0", unvalued: 1, saved: "0"),
        ]
        #expect(Set(byFeature.keys) == Set(expected.keys))
        for (feature, e) in expected {
            let row = try #require(byFeature[feature])
            #expect(row.int("calls") == e.calls, "\(feature)")
            #expect(row.int("cache_hits") == e.hits, "\(feature)")
            #expect(row.int("tokens_in") == e.tokensIn, "\(feature)")
            #expect(row.int("cached_tokens") == e.cached, "\(feature)")
            #expect(row.text("cached_tokens_saved_usd") == e.cachedSaved, "\(feature)")
            #expect(row.text("cache_hits_saved_usd") == e.hitsSaved, "\(feature)")
            #expect(row.int("cache_hits_unvalued") == e.unvalued, "\(feature)")
            #expect(row.text("saved_usd") == e.saved, "\(feature)")
            #expect(row.double("cache_hit_rate") == Double(e.hits) / Double(e.calls), "\(feature)")
        }
        #expect(byFeature["cache"]?.double("cached_token_share") == 1000.0 / 3000.0)
        #expect(byFeature["cache3"]?["cached_token_share"] == .null)
        // Provider prompt-cache hits: the calls with cached input tokens (m2, m3).
        #expect(byFeature["cache"]?.int("provider_cache_hits") == 1)
        #expect(byFeature["cache"]?.double("provider_cache_hit_rate") == 0.25)
        #expect(byFeature["cache2"]?.int("provider_cache_hits") == 1)
        #expect(byFeature["cache3"]?.int("provider_cache_hits") == 0)
        #expect(byFeature["cache3"]?.double("provider_cache_hit_rate") == 0)

        // Without grouping, the per-feature valuations add up.
        let total = try #require(try server.rows("/v1/cache?from=2026-10-11T00:00:00Z&to=2026-10-12T00:00:00Z").first)
        #expect(total.int("calls") == 8)
        #expect(total.int("cache_hits") == 4)
        #expect(total.text("cached_tokens_saved_usd") == "0.001075")
        #expect(total.text("cache_hits_saved_usd") == "0.002055")
        #expect(total.text("saved_usd") == "0.00313")
        #expect(total.int("cache_hits_unvalued") == 1)
        // A ragged range (raw ends) gives the same figures as the aligned one.
        let ragged = try #require(try server.rows("/v1/cache?from=2026-10-11T00:59:59.9Z&to=2026-10-11T04:00:00.1Z").first)
        #expect(ragged.text("saved_usd") == "0.00313")
        #expect(total.int("provider_cache_hits") == 2)
        #expect(ragged.int("provider_cache_hits") == 2)
        #expect(try server.badRequestField("/v1/cache?group_by=user_id") == "group_by")
    }

    @Test func topRanksByEachMetric() throws {
        var events: [String] = []
        for i in 0..<3 {
            events.append(#"{"request_id":"a\#(i)","timestamp":"2026-10-10T01:0\#(i):00Z","user_id":"ua","feature":"f1","provider":"openai","model":"gpt-4o-mini","tokens_in":1000000}"#)
        }
        events.append(#"{"request_id":"b0","timestamp":"2026-10-10T02:00:00Z","user_id":"ub","feature":"f2","provider":"openai","model":"gpt-4o","tokens_in":1000000}"#)
        for i in 0..<5 {
            let status = i < 2 ? #","status":"error""# : ""
            events.append(#"{"request_id":"c\#(i)","timestamp":"2026-10-10T03:0\#(i):00Z","user_id":"uc","feature":"f1","model":"in-house","tokens_in":10,"tokens_out":10\#(status)}"#)
        }
        events.append(#"{"request_id":"anon","timestamp":"2026-10-10T04:00:00Z","feature":"f2","provider":"openai","model":"gpt-4o","tokens_in":2000000}"#)
        try server.ingestAll("[" + events.joined(separator: ",") + "]")

        func top(_ query: String, range: String = "from=2026-10-10T00:00:00Z&to=2026-10-11T00:00:00Z") throws -> [String] {
            try server.rows("/v1/top?\(range)&\(query)").map { row in
                let key = row.string("user_id") ?? row.string("feature") ?? row.string("model") ?? "null"
                return "\(key)=\(row.text("cost_usd") ?? "")/\(row.int("calls") ?? -1)"
            }
        }
        // Events without a user (anon, $5) are not a "top user".
        #expect(try top("dimension=user_id&limit=2") == ["ub=2.5/1", "ua=0.45/3"])
        #expect(try top("dimension=user_id&limit=2", range: "from=2026-10-10T00:59:59.5Z&to=2026-10-10T23:00:00.5Z") == ["ub=2.5/1", "ua=0.45/3"])
        #expect(try top("dimension=user_id&metric=calls") == ["uc=0/5", "ua=0.45/3", "ub=2.5/1"])
        #expect(try top("dimension=user_id&metric=tokens") == ["ua=0.45/3", "ub=2.5/1", "uc=0/5"])
        #expect(try top("dimension=user_id&metric=errors") == ["uc=0/5", "ua=0.45/3", "ub=2.5/1"])
        #expect(try top("dimension=feature") == ["f2=7.5/2", "f1=0.45/8"])
        #expect(try top("dimension=model&metric=cost_usd&feature=f1") == ["gpt-4o-mini=0.45/3", "in-house=0/5"])
        #expect(try top("dimension=feature&user_id=uc") == ["f1=0/5"])

        #expect(try server.badRequestField("/v1/top") == "dimension")
        #expect(try server.badRequestField("/v1/top?dimension=status") == "dimension")
        #expect(try server.badRequestField("/v1/top?dimension=user_id&metric=joy") == "metric")
        #expect(try server.badRequestField("/v1/top?dimension=user_id&limit=0") == "limit")
        #expect(try server.badRequestField("/v1/top?dimension=user_id&group_by=model") == "group_by")
    }

    /// An edge answered as a day minus its other hours (`QueryPlan`, subtractive): the totals equal
    /// the raw events', and a feature seen only in the subtracted hours does not appear at all.
    @Test func usageEdgesBySubtractionMatchRawEvents() throws {
        let events = [
            #"{"request_id":"early","timestamp":"2026-10-12T02:00:00Z","feature":"early","model":"gpt-4o-mini","tokens_in":1000000}"#,
            #"{"request_id":"both-1","timestamp":"2026-10-12T03:30:00Z","feature":"both","model":"gpt-4o-mini","tokens_in":1000000}"#,
            #"{"request_id":"both-2","timestamp":"2026-10-12T21:15:00Z","feature":"both","model":"gpt-4o-mini","tokens_in":2000000}"#,
            #"{"request_id":"late","timestamp":"2026-10-12T20:00:00Z","feature":"late","model":"gpt-4o","tokens_in":1000000,"status":"error"}"#,
            #"{"request_id":"next","timestamp":"2026-10-13T01:00:00Z","feature":"next","model":"gpt-4o","tokens_in":1000000}"#,
        ]
        try server.ingestAll("[" + events.joined(separator: ",") + "]")
        func usage(_ query: String) throws -> [String] {
            try server.rows("/v1/usage?\(query)").map { row in
                "\(row.string("feature") ?? "null")=\(row.text("cost_usd") ?? "")/\(row.int("calls") ?? -1)/\(row.int("errors") ?? -1)"
            }
        }
        // 05:00–24:00 of the 12th is the day minus five hours (6 buckets instead of 19).
        let range = "from=2026-10-12T05:00:00Z&to=2026-10-14T00:00:00Z"
        #expect(try usage("\(range)&group_by=feature") == ["both=0.3/1/0", "late=2.5/1/1", "next=2.5/1/0"])
        #expect(try usage("\(range)&group_by=feature&model=gpt-4o") == ["late=2.5/1/1", "next=2.5/1/0"])
        let days = try server.rows("/v1/usage?\(range)&interval=day").map { "\($0.string("bucket") ?? "")=\($0.int("calls") ?? -1)" }
        #expect(days == ["2026-10-12T00:00:00Z=2", "2026-10-13T00:00:00Z=1"])
        // Totals without groups, and a range whose only events are in the subtracted hours.
        #expect(try usage(range) == ["null=5.3/3/1"])
        #expect(try usage("from=2026-10-12T04:00:00Z&to=2026-10-12T20:00:00Z&group_by=feature") == [])
        #expect(try usage("from=2026-10-12T04:00:00Z&to=2026-10-12T20:00:00Z") == ["null=0/0/0"])
    }
}
