import Foundation
import Postgres
@testable import Store
import Synchronization
import Testing
import TokenmeterCore

/// Usage and per-user rollups and latency sketches are written as pending rows by ingest and folded
/// by the `RollupCompactor` (migrations 0004 and 0006). Whatever has been folded, the views must show every stored
/// event exactly once, equal to the same figures computed from the raw events.
@Suite(.serialized)
struct PendingRollupTests {
    let server: RunningServer

    init() throws {
        // Compaction only when a test asks for it.
        server = try RunningServer { $0.compactionIntervalSeconds = 3600 }
    }

    /// 600 events over two days and three hours a day, 40 users, 3 features, 2 models, latencies and
    /// TTFTs with a wide spread; ids are stable, so `events(from:)` can be re-sent.
    private func events(_ range: Range<Int>) -> String {
        let lines = range.map { i -> String in
            let day = 20 + i % 2, hour = 8 + i % 3, minute = i % 60
            let latency = Double((i * 7919) % 20_000) / 3 + 0.5
            var line = #"{"request_id":"pr-\#(i)","timestamp":"2026-11-\#(day)T\#(pad(hour)):\#(pad(minute)):\#(pad(i % 50)).25Z","#
            line += #""user_id":"user-\#(i % 40)","feature":"f\#((i / 6) % 3)","model":"\#(i % 2 == 0 ? "gpt-4o-mini" : "gpt-4o")","provider":"openai","#
            line += #""tokens_in":\#(100 + i),"tokens_out":\#(i % 17),"latency_ms":\#(latency)"#
            if i % 4 != 0 { line += #","ttft_ms":\#(latency / 4)"# }
            if i % 11 == 0 { line += #","status":"error","retries":2"# }
            return line + "}"
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private func ingest(_ range: Range<Int>) throws {
        let response = try server.ingest(events(range), contentType: "application/x-ndjson")
        #expect(response.status == 200, "\(response.text)")
    }

    /// Per-user totals by day from the rollup view and from the raw events.
    private func userTotals() throws -> (rollup: [String], raw: [String]) {
        let rollup = try server.sql("""
            SELECT bucket, user_id, feature, model, sum(calls) AS calls, sum(tokens_in) AS tin, sum(tokens_out) AS tout,
                   sum(cost_pico) AS cost, sum(errors) AS errors, sum(retries) AS retries
            FROM rollup_user_day GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """)
        let raw = try server.sql("""
            SELECT date_trunc('day', ts, 'UTC') AS bucket, user_id, feature, model, count(*) AS calls, sum(tokens_in) AS tin,
                   sum(tokens_out) AS tout, sum(cost_pico) AS cost, count(*) FILTER (WHERE status = 'error') AS errors, sum(retries) AS retries
            FROM events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """)
        let render = { (result: PostgresResult) in
            result.rows.map { row in
                ["bucket", "user_id", "feature", "model", "calls", "tin", "tout", "cost", "errors", "retries"].map { row[$0] ?? "∅" }.joined(separator: "|")
            }
        }
        return (render(rollup), render(raw))
    }

    /// Sketch cells per hour and group from the view and from the raw events.
    private func sketchCells(level: String) throws -> (rollup: [String], raw: [String]) {
        let rollup = try server.sql("""
            SELECT bucket, feature, model, metric, idx, sum(count) AS n FROM sketch_\(level) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            """)
        let raw = try server.sql("""
            SELECT date_trunc('\(level)', ts, 'UTC') AS bucket, feature, model, m.metric, tm_sketch_index(m.value) AS idx, count(*) AS n
            FROM events CROSS JOIN LATERAL (VALUES (0, latency_ms), (1, ttft_ms)) AS m (metric, value)
            WHERE m.value IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            """)
        let render = { (result: PostgresResult) in
            result.rows.map { row in ["bucket", "feature", "model", "metric", "idx", "n"].map { row[$0] ?? "∅" }.joined(separator: "|") }
        }
        return (render(rollup), render(raw))
    }

    /// The first line where the two renderings differ (nil when equal), so a failure stays readable.
    private func firstDifference(_ a: [String], _ b: [String]) -> String? {
        for (x, y) in zip(a, b) where x != y { return "rollup \(x) ≠ raw \(y)" }
        return a.count == b.count ? nil : "\(a.count) rollup rows ≠ \(b.count) raw rows"
    }

    /// Usage cells per hour from the rollup view and from the raw events.
    private func usageTotals() throws -> (rollup: [String], raw: [String]) {
        let columns = ["bucket", "feature", "model", "status", "calls", "tin", "cost", "misses", "ttft"]
        let rollup = try server.sql("""
            SELECT bucket, feature, model, status, sum(calls) AS calls, sum(tokens_in) AS tin, sum(cost_pico) AS cost,
                   sum(miss_calls) AS misses, sum(ttft_count) AS ttft
            FROM rollup_hour GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """)
        let raw = try server.sql("""
            SELECT date_trunc('hour', ts, 'UTC') AS bucket, feature, model, status, count(*) AS calls, sum(tokens_in) AS tin,
                   coalesce(sum(cost_pico), 0) AS cost, count(*) FILTER (WHERE NOT cache_hit) AS misses, count(ttft_ms) AS ttft
            FROM events GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """)
        let render = { (result: PostgresResult) in result.rows.map { row in columns.map { row[$0] ?? "∅" }.joined(separator: "|") } }
        return (render(rollup), render(raw))
    }

    private func expectViewsMatchRawEvents(_ note: Comment) throws {
        let usage = try usageTotals()
        #expect(usage.rollup.count >= 30, note)
        #expect(firstDifference(usage.rollup, usage.raw) == nil, note)
        let users = try userTotals()
        #expect(users.rollup.count > 100, note)
        #expect(firstDifference(users.rollup, users.raw) == nil, note)
        for level in ["minute", "hour", "day"] {
            let cells = try sketchCells(level: level)
            #expect(cells.rollup.count > 100, note)
            #expect(firstDifference(cells.rollup, cells.raw) == nil, "\(level): \(note)")
        }
        // Every family (wide and narrow, every level) against the raw events, and the narrow ones
        // against the wide ones they summarize.
        let mismatches = try server.rollupMismatches()
        #expect(mismatches.count == 30, note)
        #expect(mismatches.values.allSatisfy { $0 == 0 }, "\(mismatches) \(note)")
        #expect(try narrowMinusWide() == 0, note)
        try expectUsageMatchesRawEvents(note)
    }

    /// `/v1/usage` against the raw events, for ranges with ragged minutes and seconds at their ends and
    /// one answered as a day minus its first hours: the reader reads folded tables per piece and the
    /// pending cells once, which must count every event once whatever has been folded.
    private func expectUsageMatchesRawEvents(_ note: Comment) throws {
        let ranges = [("2026-11-20T08:30:00Z", "2026-11-21T09:15:30Z"), ("2026-11-20T09:00:00Z", "2026-11-22T00:00:00Z"),
                      ("2026-11-20T08:10:20.5Z", "2026-11-20T10:00:00Z")]
        let figures = ["calls", "tokens_in", "errors", "retries"]
        for (from, to) in ranges {
            for keys in [["feature", "model"], ["user_id"], ["user_id", "model"], ["feature", "status"]] {
                let api = try server.rows("/v1/usage?from=\(from)&to=\(to)&group_by=\(keys.joined(separator: ","))").map { row in
                    (keys.map { row.string($0) ?? "∅" } + figures.map { "\(row.int($0) ?? -1)" } + [row.text("cost_usd") ?? "?"]).joined(separator: "|")
                }
                let raw = try server.sqlRows("""
                    SELECT \(keys.joined(separator: ", ")), count(*) AS calls, sum(tokens_in) AS tokens_in,
                           count(*) FILTER (WHERE status = 'error') AS errors, sum(retries) AS retries,
                           trim_scale(coalesce(sum(cost_pico), 0) / 1000000000000)::text AS cost
                    FROM events WHERE ts >= $1::timestamptz AND ts < $2::timestamptz
                    GROUP BY \(keys.joined(separator: ", ")) ORDER BY \(keys.map { "\($0) NULLS FIRST" }.joined(separator: ", "))
                    """, [.text(from), .text(to)]).map { row in (keys + figures + ["cost"]).map { (row[$0] ?? nil) ?? "∅" }.joined(separator: "|") }
                #expect(raw.count > 1, "\(from)..<\(to) by \(keys)")
                #expect(api == raw, "\(from)..<\(to) by \(keys): \(note)")
            }
        }
    }

    /// Rows where a narrow family differs from its wide family summed to the same keys (hour and day;
    /// the week level from the wide day level).
    private func narrowMinusWide() throws -> Int {
        var differing = 0
        let pairs: [(narrow: String, wide: String, keys: String, sums: String)] = [
            ("rollup_feature_model", "rollup", "feature, model", "sum(calls), sum(cost_pico), sum(errors), sum(latency_count), sum(miss_cost_pico), sum(ttft_count)"),
            ("rollup_by_user", "rollup_user", "user_id", "sum(calls), sum(tokens_in), sum(cost_pico), sum(retries), sum(cache_hits)"),
            ("rollup_by_feature", "rollup", "feature", "sum(calls), sum(cost_pico), sum(errors), sum(latency_count), sum(miss_cost_pico), sum(ttft_count)"),
            ("rollup_by_model", "rollup", "model", "sum(calls), sum(tokens_in), sum(cost_pico), sum(retries), sum(cache_savings_pico)"),
            ("sketch_by_model", "sketch", "model, metric, idx", "sum(count)"),
            ("sketch_by_feature", "sketch", "feature, metric, idx", "sum(count)"),
        ]
        for pair in pairs {
            for (level, wideLevel, bucket) in [("hour", "hour", "bucket"), ("day", "day", "bucket"), ("week", "day", "date_trunc('week', bucket, 'UTC')")] {
                let narrow = "SELECT project_id, bucket, \(pair.keys), \(pair.sums) FROM \(pair.narrow)_\(level) GROUP BY project_id, bucket, \(pair.keys)"
                let wide = "SELECT project_id, \(bucket) AS bucket, \(pair.keys), \(pair.sums) FROM \(pair.wide)_\(wideLevel) GROUP BY 1, 2, \(pair.keys)"
                let sql = "SELECT count(*) AS n FROM (((\(narrow)) EXCEPT ALL (\(wide))) UNION ALL ((\(wide)) EXCEPT ALL (\(narrow)))) AS d"
                differing += try server.sql(sql).rows[0].decode(Int.self, column: "n")
            }
        }
        return differing
    }

    private func count(_ table: String) throws -> Int {
        try server.sql("SELECT count(*) AS n FROM \(table)").rows[0].decode(Int.self, column: "n")
    }

    /// The fold sums each key's cells once and casts the sums back to the column types it reads
    /// them from; every pending and folded table must have exactly those types.
    @Test func foldCastsMatchTheTables() throws {
        for family in PendingRollup.all {
            for table in [family.pendingTable] + family.foldTargets.map(\.table) {
                let columns = try server.sqlRows("""
                    SELECT column_name, CASE WHEN data_type = 'ARRAY' THEN ltrim(udt_name, '_') ELSE data_type END AS type
                    FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1
                    """, [.text(table)])
                let types = Dictionary(uniqueKeysWithValues: columns.compactMap { row in (row["column_name"] ?? nil).map { ($0, (row["type"] ?? nil) ?? "") } })
                #expect(!types.isEmpty, "\(table)")
                for aggregate in family.aggregates {
                    let expected = ["bigint": ["bigint", "int8"], "numeric": ["numeric"], "double precision": ["double precision", "float8"]][PendingRollup.type(of: aggregate)] ?? []
                    #expect(expected.contains(types[aggregate] ?? "missing"), "\(table).\(aggregate): \(types[aggregate] ?? "missing")")
                }
            }
        }
    }

    @Test func foldingKeepsEveryFigureAndNeverDoubleCounts() throws {
        try ingest(0..<300)
        try ingest(200..<600)        // 100 re-sent events, overlapping the first batch
        #expect(try count("events") == 600)
        #expect(try count("rollup_user_pending") > 0)
        #expect(try count("rollup_user_day_folded") == 0)
        try expectViewsMatchRawEvents("before folding")

        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let compactor = RollupCompactor(pool: pool)
        let pass = try compactor.compactOnce()
        #expect(pass.ran)
        #expect(pass.movedRows > 0)
        #expect(!pass.backlog)
        #expect(try count("rollup_user_pending") == 0)
        #expect(try count("sketch_pending") == 0)
        #expect(try count("rollup_usage_pending") == 0)
        // One folded row per key: as many as the distinct keys of the raw events.
        let keys = try server.sql("""
            SELECT count(DISTINCT (date_trunc('day', ts, 'UTC'), user_id, feature, model, environment)) AS n FROM events
            """).rows[0].decode(Int.self, column: "n")
        #expect(try count("rollup_user_day_folded") == keys)
        try expectViewsMatchRawEvents("after folding")

        // New and re-sent events after a fold land in pending rows again; folding twice changes nothing.
        try ingest(550..<700)
        try expectViewsMatchRawEvents("folded plus pending")
        try compactor.compactOnce()
        try compactor.compactOnce()
        #expect(try count("events") == 700)
        try expectViewsMatchRawEvents("after the second fold")
    }

    @Test func foldingWhileIngestingLosesNothing() throws {
        let pool = PostgresPool(connectionString: server.connectionString, size: 2)
        defer { pool.close() }
        let compactor = RollupCompactor(pool: pool, rowsPerPass: 3)
        let done = DispatchSemaphore(value: 0)
        let failures = Mutex<[String]>([])
        let writer = Thread { [server] in
            for chunk in stride(from: 0, to: 1200, by: 60) {
                do {
                    let response = try server.ingest(PendingRollupTests.plain(chunk..<(chunk + 60)), contentType: "application/x-ndjson")
                    if response.status != 200 { failures.withLock { $0.append(response.text) } }
                } catch { failures.withLock { $0.append("\(error)") } }
            }
            done.signal()
        }
        writer.start()
        var passes = 0
        while done.wait(timeout: .now() + 0.02) == .timedOut {
            if try compactor.compactOnce().ran { passes += 1 }
        }
        while try compactor.compactOnce().backlog {}
        #expect(failures.withLock { $0 } == [])
        #expect(passes > 0)
        #expect(try count("events") == 1200)
        #expect(try count("rollup_user_pending") == 0)
        let totals = try server.sql("SELECT sum(calls) AS calls, sum(tokens_in) AS tin FROM rollup_user_hour")
        let raw = try server.sql("SELECT count(*) AS calls, sum(tokens_in) AS tin FROM events")
        #expect(totals.rows[0]["calls"] == raw.rows[0]["calls"])
        #expect(totals.rows[0]["tin"] == raw.rows[0]["tin"])
        let sketches = try server.sql("SELECT sum(count) AS n FROM sketch_day")
        let timings = try server.sql("SELECT count(latency_ms) + count(ttft_ms) AS n FROM events")
        #expect(sketches.rows[0]["n"] == timings.rows[0]["n"])
        // The narrow families were folded by the same passes, concurrently with ingest.
        let mismatches = try server.rollupMismatches()
        #expect(mismatches.values.allSatisfy { $0 == 0 }, "\(mismatches)")
        #expect(try narrowMinusWide() == 0)
    }

    @Test func onlyOneSessionFoldsAtATime() throws {
        try ingest(0..<50)
        let holder = try PostgresConnection(connectionString: server.connectionString)
        defer { holder.close() }
        try holder.execute("BEGIN")
        _ = try holder.query(PostgresQuery(sql: "SELECT pg_advisory_xact_lock($1)", binds: [.int(0x746D_5F72_6F6C_6C)]))
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let blocked = try RollupCompactor(pool: pool).compactOnce()
        #expect(!blocked.ran)
        #expect(try count("rollup_user_pending") > 0)
        try holder.execute("COMMIT")
        #expect(try RollupCompactor(pool: pool).compactOnce().ran)
        #expect(try count("rollup_user_pending") == 0)
    }

    /// A family whose lock another session holds is skipped; the others are folded. Once a backlog has
    /// lasted `sideBySideAfter`, the families fold side by side, each on its own connection.
    @Test func familiesFoldSideBySideAndOneLockedFamilyWaits() throws {
        try ingest(0..<300)
        let pending = { (table: String) in try self.count(table) }
        #expect(try pending("rollup_usage_pending") > 0 && pending("rollup_user_pending") > 0 && pending("sketch_pending") > 0)
        let holder = try PostgresConnection(connectionString: server.connectionString)
        defer { holder.close() }
        try holder.execute("BEGIN")
        let users = try #require(PendingRollup.all.firstIndex { $0.pendingTable == "rollup_user_pending" })
        _ = try holder.query(PostgresQuery(sql: "SELECT pg_advisory_xact_lock($1)", binds: [.int(0x746D_5F72_6F6C_6C + 1 + Int64(users))]))
        let pool = PostgresPool(connectionString: server.connectionString, size: RollupCompactor.familyCount)
        defer { pool.close() }
        // A pass of one pending row per family leaves a backlog; once it has lasted 300 ms, the next
        // passes fold side by side.
        let compactor = RollupCompactor(pool: pool, rowsPerPass: 1, sideBySideAfter: .milliseconds(300))
        let first = try compactor.compactOnce()
        #expect(first.ran && first.backlog && first.movedRows == 2)
        #expect(pool.stats.open == 1, "a pass after no backlog folds on one connection")
        let second = try compactor.compactOnce()
        #expect(second.backlog && second.movedRows == 2)
        #expect(pool.stats.open == 1, "a backlog younger than sideBySideAfter still folds on one connection")
        Thread.sleep(forTimeInterval: 0.35)
        while try compactor.compactOnce().backlog {}
        #expect(try pending("rollup_usage_pending") == 0 && pending("sketch_pending") == 0)
        #expect(try pending("rollup_user_pending") > 0)
        #expect(pool.stats.open >= 2, "side by side on more than one connection")
        try holder.execute("COMMIT")
        while try compactor.compactOnce().backlog {}
        #expect(try pending("rollup_user_pending") == 0)
        let mismatches = try server.rollupMismatches()
        #expect(mismatches.values.allSatisfy { $0 == 0 }, "\(mismatches)")
        #expect(try narrowMinusWide() == 0)
    }

    /// Minimal events for the concurrency test: distinct users so the folds have work.
    static func plain(_ range: Range<Int>) -> String {
        range.map { i in
            #"{"request_id":"c-\#(i)","timestamp":"2026-11-22T10:\#(i % 50 + 10):00Z","user_id":"u\#(i % 97)","feature":"c","tokens_in":\#(i),"latency_ms":\#(i + 1)}"#
        }.joined(separator: "\n")
    }
}
