import Foundation
import JSON
import Postgres
import Testing
import TokenmeterCore

/// Issue 4, part 5: a generated month of traffic (≥ 200k events) ingested through the HTTP API; every
/// endpoint's numbers equal the same figures computed by SQL directly from the raw `events` table.
/// The month is loaded once and shared by the tests below, which only read.
@Suite(.serialized)
struct WorkloadCorrectnessTests {
    final class Loaded: Sendable {
        let server: RunningServer
        let workload: Workload
        init() throws {
            server = try RunningServer()
            workload = Workload(minimumEvents: 200_000)
            let failures = workload.send(to: server)
            guard failures.isEmpty else { throw TestSetupError("ingest failed: \(failures.prefix(3))") }
        }
    }
    nonisolated(unsafe) static var shared: Result<Loaded, any Error>?
    static let lock = NSLock()

    let loaded: Loaded
    var server: RunningServer { loaded.server }

    init() throws {
        loaded = try Self.lock.withLock {
            if Self.shared == nil { Self.shared = Result { try Loaded() } }
            return try Self.shared!.get()
        }
    }

    static let month = "from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z"
    static let ragged = "from=2026-09-03T05:17:23.5Z&to=2026-09-27T18:42:10Z"

    static func bounds(_ range: String) -> (PostgresValue, PostgresValue) {
        let parts = range.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
        return (.timestamp(Timestamp.parseRFC3339(parts[0][1])!), .timestamp(Timestamp.parseRFC3339(parts[1][1])!))
    }

    static let usageFields = ["calls", "tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "cost_usd", "unpriced_calls",
                              "errors", "retries", "fallbacks", "cache_hits", "provider_cache_hits"]

    /// `bucket|dim…` → the usage figures, from the API.
    func apiUsage(_ query: String, dimensions: [String]) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try server.rows("/v1/usage?\(query)") {
            let bucket = row.string("bucket").flatMap(Timestamp.parseRFC3339).map { String(Int64($0.timeIntervalSince1970)) } ?? "-"
            let key = ([bucket] + dimensions.map { row.string($0) ?? "∅" }).joined(separator: "|")
            #expect(result[key] == nil, "duplicate group \(key)")
            result[key] = Self.usageFields.map { row.text($0) ?? "?" }
        }
        return result
    }

    /// The same from raw events.
    func sqlUsage(range: String, dimensions: [String], interval: String?, zone: String = "UTC", filter: (column: String, value: String)? = nil) throws -> [String: [String]] {
        let (from, to) = Self.bounds(range)
        var binds: [PostgresValue] = [from, to, .text(zone)]
        let bucket = interval.map { "extract(epoch from date_trunc('\($0)', ts, $3))::bigint::text" } ?? "'-'"
        var condition = "ts >= $1 AND ts < $2 AND $3 <> ''"
        if let filter {
            binds.append(.text(filter.value))
            condition += " AND \(filter.column) = $4"
        }
        let keys = ([bucket] + dimensions.map { "coalesce(\($0), '∅')" }).joined(separator: " || '|' || ")
        let rows = try server.sqlRows("""
            SELECT \(keys) AS key, count(*)::text AS calls, sum(tokens_in)::text AS tokens_in, sum(tokens_out)::text AS tokens_out,
                   sum(cached_tokens)::text AS cached_tokens, sum(cache_write_tokens)::text AS cache_write_tokens,
                   trim_scale(coalesce(sum(cost_pico), 0) / 1e12)::text AS cost_usd, count(*) FILTER (WHERE cost_pico IS NULL)::text AS unpriced_calls,
                   count(*) FILTER (WHERE status = 'error')::text AS errors, sum(retries)::text AS retries,
                   count(*) FILTER (WHERE fallback_triggered)::text AS fallbacks, count(*) FILTER (WHERE cache_hit)::text AS cache_hits,
                   count(*) FILTER (WHERE cached_tokens > 0)::text AS provider_cache_hits
            FROM events WHERE \(condition) GROUP BY 1
            """, binds)
        var result: [String: [String]] = [:]
        for row in rows { result[(row["key"] ?? nil) ?? ""] = Self.usageFields.map { (row[$0] ?? nil) ?? "?" } }
        return result
    }

    @Test func theWorkloadIsWhatItClaims() throws {
        let stats = try #require(try server.sqlRows("""
            SELECT count(*) AS n, count(DISTINCT feature) AS features, count(DISTINCT user_id) AS users, count(DISTINCT model) AS models,
                   count(*) FILTER (WHERE status = 'error') AS errors, count(*) FILTER (WHERE retries > 0) AS retried,
                   count(*) FILTER (WHERE cache_hit) AS hits, count(*) FILTER (WHERE cost_pico IS NULL) AS unpriced,
                   count(DISTINCT date_trunc('day', ts, 'UTC')) AS days, count(*) FILTER (WHERE parent_request_id IS NOT NULL) AS children
            FROM events
            """).first)
        func n(_ name: String) -> Int { Int((stats[name] ?? nil) ?? "") ?? -1 }
        #expect(n("n") == loaded.workload.events.count)
        #expect(n("n") >= 200_000)
        #expect(loaded.workload.deliveries.count > n("n"))   // some events were delivered twice
        #expect(n("features") == 50)
        #expect(n("users") > 5000 && n("users") <= 10_000)
        #expect(n("models") == 20)
        #expect(n("days") == 30)
        #expect(n("errors") > 1000 && n("retried") > 1000 && n("hits") > 1000 && n("unpriced") > 1000 && n("children") > 1000)
        let mismatches = try server.rollupMismatches()
        #expect(mismatches.values.allSatisfy { $0 == 0 }, "\(mismatches)")
    }

    struct UsageCase: Sendable, CustomTestStringConvertible {
        var query: String, range: String, dimensions: [String], interval: String?, zone: String = "UTC", filter: (column: String, value: String)? = nil
        var testDescription: String { query }
    }

    @Test(arguments: [
        UsageCase(query: "group_by=feature,model", range: month, dimensions: ["feature", "model"], interval: nil),
        UsageCase(query: "group_by=model&interval=day", range: month, dimensions: ["model"], interval: "day"),
        UsageCase(query: "group_by=feature", range: ragged, dimensions: ["feature"], interval: nil),
        UsageCase(query: "group_by=provider,environment,status,step_type", range: ragged, dimensions: ["provider", "environment", "status", "step_type"], interval: nil),
        UsageCase(query: "group_by=user_id&feature=f07", range: month, dimensions: ["user_id"], interval: nil, filter: ("feature", "f07")),
        UsageCase(query: "group_by=feature,user_id&model=gpt-4o-mini", range: ragged, dimensions: ["feature", "user_id"], interval: nil, filter: ("model", "gpt-4o-mini")),
        UsageCase(query: "group_by=environment&interval=hour", range: "from=2026-09-10T00:00:00Z&to=2026-09-12T06:30:00Z", dimensions: ["environment"], interval: "hour"),
        UsageCase(query: "group_by=model&interval=day&tz=America/New_York", range: "from=2026-09-02T04:00:00Z&to=2026-09-29T04:00:00Z",
                  dimensions: ["model"], interval: "day", zone: "America/New_York"),
        UsageCase(query: "group_by=feature&interval=day&tz=Asia/Kolkata", range: "from=2026-09-01T18:30:00Z&to=2026-09-20T18:30:00Z",
                  dimensions: ["feature"], interval: "day", zone: "Asia/Kolkata"),
        UsageCase(query: "interval=minute", range: "from=2026-09-15T11:59:30Z&to=2026-09-15T14:00:00Z", dimensions: [], interval: "minute"),
    ])
    func usageEqualsRawSQL(_ c: UsageCase) throws {
        let api = try apiUsage("\(c.range)&\(c.query)", dimensions: c.dimensions)
        let sql = try sqlUsage(range: c.range, dimensions: c.dimensions, interval: c.interval, zone: c.zone, filter: c.filter)
        #expect(!sql.isEmpty)
        #expect(api.count == sql.count)
        let wrong = sql.filter { api[$0.key] != $0.value }.prefix(3).map { "\($0.key): api \(api[$0.key] ?? []) sql \($0.value)" }
        #expect(wrong.isEmpty, "\(wrong)")
    }

    @Test(arguments: [("latency", "latency_ms"), ("ttft", "ttft_ms")])
    func percentilesWithinOnePercentOfRawSQL(_ metric: String, _ column: String) throws {
        for (range, grouping) in [(Self.month, "model"), (Self.ragged, "feature"), (Self.month, "environment"), (Self.ragged, "user_id")] {
            let (from, to) = Self.bounds(range)
            let sql = try server.sqlRows("""
                SELECT coalesce(\(grouping), '∅') AS key, count(\(column))::text AS n, max(\(column)) AS max,
                       percentile_disc(0.5) WITHIN GROUP (ORDER BY \(column)) AS p50, percentile_disc(0.9) WITHIN GROUP (ORDER BY \(column)) AS p90,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY \(column)) AS p95, percentile_disc(0.99) WITHIN GROUP (ORDER BY \(column)) AS p99
                FROM events WHERE ts >= $1 AND ts < $2 AND \(column) IS NOT NULL GROUP BY 1
                """, [from, to])
            let api = try server.rows("/v1/latency?\(range)&metric=\(metric)&group_by=\(grouping)")
            let byKey = Dictionary(uniqueKeysWithValues: api.map { ($0.string(grouping) ?? "∅", $0) })
            #expect(byKey.count == sql.count, "\(metric) by \(grouping)")
            var worst = 0.0
            for row in sql {
                let key = (row["key"] ?? nil) ?? ""
                guard let answer = byKey[key] else { Issue.record("\(key) missing"); continue }
                #expect(answer.int("count").map(String.init) == row["n"] ?? nil, "\(key)")
                for name in ["p50", "p90", "p95", "p99", "max"] {
                    let exact = Double((row[name] ?? nil) ?? "") ?? .nan
                    let estimate = answer.double(name) ?? .infinity
                    let error = exact == 0 ? abs(estimate) : abs(estimate - exact) / exact
                    worst = max(worst, error)
                }
            }
            #expect(worst <= 0.01, "\(metric) by \(grouping): worst relative error \(worst)")
        }
        // All groups merged into one sketch.
        let (from, to) = Self.bounds(Self.month)
        let all = try #require(try server.sqlRows("""
            SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY \(column)) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY \(column)) AS p99
            FROM events WHERE ts >= $1 AND ts < $2
            """, [from, to]).first)
        let merged = try #require(try server.rows("/v1/latency?\(Self.month)&metric=\(metric)").first)
        for name in ["p50", "p99"] {
            let exact = Double((all[name] ?? nil) ?? "") ?? .nan
            #expect(abs((merged.double(name) ?? 0) - exact) / exact <= 0.01, "\(metric) \(name) merged")
        }
    }

    @Test func cacheFiguresEqualRawSQL() throws {
        let (from, to) = Self.bounds(Self.ragged)
        let sql = try server.sqlRows("""
            SELECT feature, count(*)::text AS calls, count(*) FILTER (WHERE cache_hit)::text AS hits, sum(tokens_in)::text AS tokens_in,
                   sum(cached_tokens)::text AS cached, trim_scale(coalesce(sum(cache_savings_pico), 0) / 1e12)::text AS cached_saved,
                   (coalesce(sum(cost_pico) FILTER (WHERE NOT cache_hit), 0) * count(*) FILTER (WHERE cache_hit)
                       / nullif(count(*) FILTER (WHERE NOT cache_hit AND cost_pico IS NOT NULL), 0) / 1e12)::text AS hits_saved
            FROM events WHERE ts >= $1 AND ts < $2 GROUP BY feature
            """, [from, to])
        let api = try server.rows("/v1/cache?\(Self.ragged)&group_by=feature")
        let byFeature = Dictionary(uniqueKeysWithValues: api.map { ($0.string("feature") ?? "∅", $0) })
        #expect(byFeature.count == sql.count)
        for row in sql {
            let feature = (row["feature"] ?? nil) ?? ""
            let answer = try #require(byFeature[feature])
            #expect(answer.int("calls").map(String.init) == row["calls"] ?? nil, "\(feature)")
            #expect(answer.int("cache_hits").map(String.init) == row["hits"] ?? nil, "\(feature)")
            #expect(answer.int("tokens_in").map(String.init) == row["tokens_in"] ?? nil, "\(feature)")
            #expect(answer.int("cached_tokens").map(String.init) == row["cached"] ?? nil, "\(feature)")
            #expect(sameDecimal(answer.text("cached_tokens_saved_usd"), row["cached_saved"] ?? nil), "\(feature)")
            // A mean is a division: equal to the picodollar.
            let exact = Decimal(string: (row["hits_saved"] ?? nil) ?? "0") ?? 0
            let given = Decimal(string: answer.text("cache_hits_saved_usd") ?? "") ?? -1
            #expect(abs(NSDecimalNumber(decimal: exact - given).doubleValue) <= 1e-12, "\(feature): \(given) vs \(exact)")
        }
    }

    struct TopCase: Sendable, CustomTestStringConvertible {
        var dimension: String, metric: String, expression: String
        var testDescription: String { "\(dimension) by \(metric)" }
    }

    @Test(arguments: [
        TopCase(dimension: "user_id", metric: "cost_usd", expression: "coalesce(sum(cost_pico), 0)"),
        TopCase(dimension: "user_id", metric: "calls", expression: "count(*)"),
        TopCase(dimension: "feature", metric: "tokens", expression: "sum(tokens_in) + sum(tokens_out)"),
        TopCase(dimension: "model", metric: "errors", expression: "count(*) FILTER (WHERE status = 'error')"),
        TopCase(dimension: "user_id", metric: "errors", expression: "count(*) FILTER (WHERE status = 'error')"),
    ])
    func topEqualsRawSQL(_ c: TopCase) throws {
        let (dimension, metric, expression) = (c.dimension, c.metric, c.expression)
        for range in [Self.month, Self.ragged] {
            let (from, to) = Self.bounds(range)
            let sql = try server.sqlRows("""
                SELECT \(dimension) AS key, (\(expression))::text AS value FROM events
                WHERE ts >= $1 AND ts < $2 AND \(dimension) IS NOT NULL
                GROUP BY 1 ORDER BY \(expression) DESC, 1 LIMIT 10
                """, [from, to]).map { "\(($0["key"] ?? nil) ?? "")=\(($0["value"] ?? nil) ?? "")" }
            let api = try server.rows("/v1/top?\(range)&dimension=\(dimension)&metric=\(metric)&limit=10").map { row -> String in
                let value: String
                switch metric {
                case "cost_usd": value = (row.text("cost_usd").flatMap { Decimal(string: $0) }.map { "\($0 * 1_000_000_000_000)" }) ?? "?"
                case "tokens": value = String((row.int("tokens_in") ?? 0) + (row.int("tokens_out") ?? 0))
                default: value = row.text(metric) ?? "?"
                }
                return "\(row.string(dimension) ?? "∅")=\(value)"
            }
            #expect(api == sql, "\(dimension) by \(metric) over \(range)")
        }
    }

    @Test func requestListingsEqualRawSQL() throws {
        let heavy = try #require(try server.sqlValue("SELECT user_id FROM events WHERE user_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"))
        let cases: [(query: String, condition: String, binds: [PostgresValue])] = [
            ("user_id=\(heavy)", "user_id = $3", [.text(heavy)]),
            ("feature=f03&status=error", "feature = $3 AND status = $4", [.text("f03"), .text("error")]),
            ("min_cost_usd=0.2", "cost_pico >= $3", [.int(200_000_000_000)]),
            ("model=o3&min_latency_ms=3000", "model = $3 AND latency_ms >= $4", [.text("o3"), .double(3000)]),
        ]
        for c in cases {
            let (from, to) = Self.bounds(Self.ragged)
            let expected = try server.sqlRows("SELECT event_id::text AS id FROM events WHERE ts >= $1 AND ts < $2 AND \(c.condition) ORDER BY ts DESC, event_id DESC",
                                              [from, to] + c.binds).compactMap { $0["id"] ?? nil }
            var listed: [String] = []
            var cursor: String?
            repeat {
                let page = try server.answer("/v1/requests?\(Self.ragged)&\(c.query)&limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
                listed += page["requests"]?.arrayValue?.compactMap { $0.string("event_id") } ?? []
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil && listed.count <= expected.count
            #expect(!expected.isEmpty, "\(c.query)")
            #expect(listed == expected, "\(c.query): \(listed.count) listed, \(expected.count) expected")
        }
    }

    @Test func requestTreesSessionsAndUsersEqualRawSQL() throws {
        #expect(loaded.workload.agentRoots.count >= 10)
        for root in loaded.workload.agentRoots.prefix(10) {
            let sql = try #require(try server.sqlRows("""
                WITH RECURSIVE tree (request_id) AS (
                    SELECT $1::text UNION SELECT e.request_id FROM events e JOIN tree t ON e.parent_request_id = t.request_id
                )
                SELECT count(*)::text AS events, count(DISTINCT request_id)::text AS requests, sum(tokens_in)::text AS tokens_in,
                       trim_scale(coalesce(sum(cost_pico), 0) / 1e12)::text AS cost, count(*) FILTER (WHERE cost_pico IS NULL)::text AS unpriced
                FROM events WHERE request_id IN (SELECT request_id FROM tree)
                """, [.text(root)]).first)
            let tree = try server.answer("/v1/requests/\(root)")
            let totals = try #require(tree["totals"])
            #expect(totals.int("events").map(String.init) == sql["events"] ?? nil, "\(root)")
            #expect(totals.int("requests").map(String.init) == sql["requests"] ?? nil, "\(root)")
            #expect(totals.int("tokens_in").map(String.init) == sql["tokens_in"] ?? nil, "\(root)")
            #expect(totals.text("cost_usd") == sql["cost"] ?? nil, "\(root)")
            #expect(totals.int("unpriced_events").map(String.init) == sql["unpriced"] ?? nil, "\(root)")
            #expect((tree["root"]?["children"]?.arrayValue?.count ?? 0) >= 1, "\(root)")
        }
        let entityTotals = """
            SELECT count(*)::text AS calls, sum(tokens_in)::text AS tokens_in, trim_scale(coalesce(sum(cost_pico), 0) / 1e12)::text AS cost,
                   count(*) FILTER (WHERE status = 'error')::text AS errors, count(*) FILTER (WHERE cache_hit)::text AS hits
            FROM events WHERE ts >= $1 AND ts < $2 AND
            """
        let (from, to) = Self.bounds(Self.month)
        let users = try server.sqlRows("SELECT user_id FROM events WHERE user_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3")
            .compactMap { $0["user_id"] ?? nil }
        for (path, column, id) in loaded.workload.sessions.prefix(5).map({ ("sessions", "session_id", $0) }) + users.map({ ("users", "user_id", $0) }) {
            let sql = try #require(try server.sqlRows(entityTotals + " \(column) = $3", [from, to, .text(id)]).first)
            let answer = try server.answer("/v1/\(path)/\(id)?\(Self.month)&limit=5")
            let totals = try #require(answer["totals"])
            #expect(totals.int("calls").map(String.init) == sql["calls"] ?? nil, "\(path)/\(id)")
            #expect(totals.int("tokens_in").map(String.init) == sql["tokens_in"] ?? nil, "\(path)/\(id)")
            #expect(totals.text("cost_usd") == sql["cost"] ?? nil, "\(path)/\(id)")
            #expect(totals.int("errors").map(String.init) == sql["errors"] ?? nil, "\(path)/\(id)")
            #expect(totals.int("cache_hits").map(String.init) == sql["hits"] ?? nil, "\(path)/\(id)")
            let recent = try server.sqlRows("SELECT event_id::text AS id FROM events WHERE ts >= $1 AND ts < $2 AND \(column) = $3 ORDER BY ts DESC, event_id DESC LIMIT 5",
                                            [from, to, .text(id)]).compactMap { $0["id"] ?? nil }
            #expect(answer["recent_requests"]?.arrayValue?.compactMap { $0.string("event_id") } == recent, "\(path)/\(id)")
        }
    }
}
