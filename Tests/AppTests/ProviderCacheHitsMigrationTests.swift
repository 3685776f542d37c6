import Foundation
import Postgres
import Store
import Testing

/// Migration 0019 adds provider prompt-cache hits (calls with cached input tokens) to the usage and
/// per-user rollups. Folded rows take their count from the raw events; rows still pending take 0, and
/// their events are counted in the folded tables instead (a key only pending rows hold gets a row of
/// zeros with its count). The views must then give exactly the raw counts, before and after the
/// pending rows are folded, and a bucket no table holds any more must not come back.
struct ProviderCacheHitsMigrationTests {
    /// Calls as a 0018 server stored them: (time, feature, model, user, cached tokens).
    static let calls: [(ts: String, feature: String, model: String, user: String, cached: Int)] = [
        ("2026-11-01T09:00:00Z", "chat", "a", "ann", 10),    // past retention: no rollup row holds it any more
        ("2026-11-20T10:05:10Z", "chat", "a", "ann", 100),
        ("2026-11-20T10:05:40Z", "chat", "a", "ann", 0),
        ("2026-11-20T10:07:00Z", "chat", "a", "bob", 50),
        ("2026-11-20T11:30:00Z", "search", "b", "ann", 20),  // pending
        ("2026-11-20T11:31:00Z", "chat", "a", "ann", 30),    // pending
    ]

    @Test func foldedRowsCountRawEventsAndPendingKeysAreNotLost() throws {
        let schema = try OlderSchema(before: 19, project: "m19")
        defer { schema.connection.close() }
        let (connection, project) = (schema.connection, schema.project)
        func run(_ sql: String, _ binds: [PostgresValue] = []) throws {
            _ = try connection.query(PostgresQuery(sql: sql, binds: [.int(project)] + binds))
        }
        for (i, call) in Self.calls.enumerated() {
            try run("""
                INSERT INTO events (project_id, event_id, ts, request_id, user_id, feature, model, status, tokens_in, tokens_out,
                                    cached_tokens, cache_write_tokens, cost_pico, retries, fallback_triggered, cache_hit)
                VALUES ($1, gen_random_uuid(), $2::timestamptz, $3, $4, $5, $6, 'ok', 200, 1, $7, 0, 1, 0, false, false)
                """, [.text(call.ts), .text("r\(i)"), .text(call.user), .text(call.feature), .text(call.model), .int(Int64(call.cached))])
        }
        // A folded row of `table` with `calls` and every other counter 0.
        func folded(_ table: String, _ bucket: String, _ keys: [String: String], calls: Int) throws {
            let others = try connection.query(PostgresQuery(sql: """
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = $1 AND NOT (column_name = ANY($2::text[]))
                ORDER BY ordinal_position
                """, binds: [.text(table), .textArray(["project_id", "bucket", "calls"] + keys.keys)])).rows.map { try $0.decode(String.self, column: "column_name") }
            let names = ["project_id", "bucket", "calls"] + keys.keys.sorted() + others
            let values = ["$1", "$2::timestamptz", "\(calls)"] + keys.keys.sorted().map { "'\(keys[$0]!)'" } + others.map { _ in "0" }
            try run("INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))", [.text(bucket)])
        }
        let wide = ["provider": "", "environment": "", "status": "ok", "step_type": ""]
        try folded("rollup_minute_folded", "2026-11-20T10:05:00Z", wide.merging(["feature": "chat", "model": "a"]) { $1 }, calls: 2)
        try folded("rollup_minute_folded", "2026-11-20T10:07:00Z", wide.merging(["feature": "chat", "model": "a"]) { $1 }, calls: 1)
        try folded("rollup_feature_model_hour_folded", "2026-11-20T10:00:00Z", ["feature": "chat", "model": "a"], calls: 3)
        try folded("rollup_feature_model_2w_folded", "2026-11-09T00:00:00Z", ["feature": "chat", "model": "a"], calls: 3)
        try folded("rollup_user_hour_folded", "2026-11-20T10:00:00Z", ["user_id": "ann", "feature": "chat", "model": "a", "environment": ""], calls: 2)
        try folded("rollup_user_hour_folded", "2026-11-20T10:00:00Z", ["user_id": "bob", "feature": "chat", "model": "a", "environment": ""], calls: 1)
        try folded("rollup_by_user_day_folded", "2026-11-20T00:00:00Z", ["user_id": "ann"], calls: 2)
        try folded("rollup_by_user_day_folded", "2026-11-20T00:00:00Z", ["user_id": "bob"], calls: 1)
        // The last two calls' cells, pending (one row each, as two batches wrote them).
        for call in Self.calls.suffix(2) {
            let minute = String(call.ts.prefix(16)) + ":00Z"
            try run("""
                INSERT INTO rollup_usage_pending (project_id, bucket, feature, model, provider, environment, status, step_type, calls, tokens_in,
                    tokens_out, cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits,
                    latency_sum_ms, latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count)
                VALUES ($1, $2::timestamptz, ARRAY[$3], ARRAY[$4], '{""}', '{""}', '{ok}', '{""}', '{1}', '{200}', '{1}', ARRAY[$5::bigint], '{0}',
                        '{1}', '{0}', '{0}', '{0}', '{0}', '{0}', '{0}', '{0}', '{0}', '{1}', '{1}', '{1}', '{0}', '{0}')
                """, [.text(minute), .text(call.feature), .text(call.model), .int(Int64(call.cached))])
            try run("""
                INSERT INTO rollup_user_pending (project_id, bucket, user_id, feature, model, environment, calls, tokens_in, tokens_out,
                    cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
                VALUES ($1, $2::timestamptz, ARRAY[$3], ARRAY[$4], ARRAY[$5], '{""}', '{1}', '{200}', '{1}', ARRAY[$6::bigint], '{0}', '{1}',
                        '{0}', '{0}', '{0}', '{0}', '{0}')
                """, [.text(minute), .text(call.user), .text(call.feature), .text(call.model), .int(Int64(call.cached))])
        }

        _ = try schema.all.migrate(connection)
        let rows = schema.rows
        // Folded rows count their raw events; pending-only keys got a row of zeros with their count.
        #expect(try rows("""
            SELECT to_char(bucket AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), feature, model, calls, provider_cache_hits
            FROM rollup_minute_folded WHERE project_id = $1 ORDER BY 1, 2
            """) == ["11-20 10:05 chat a 2 1", "11-20 10:07 chat a 1 1", "11-20 11:30 search b 0 1", "11-20 11:31 chat a 0 1"])
        #expect(try rows("""
            SELECT to_char(bucket AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), feature, model, calls, provider_cache_hits
            FROM rollup_feature_model_hour_folded WHERE project_id = $1 ORDER BY 1, 2
            """) == ["11-20 10:00 chat a 3 2", "11-20 11:00 chat a 0 1", "11-20 11:00 search b 0 1"])
        // The fortnight's row counts its pending call too (3 of its 4 calls had cached tokens).
        #expect(try rows("SELECT feature, calls, provider_cache_hits FROM rollup_feature_model_2w_folded WHERE project_id = $1 ORDER BY 1")
                == ["chat 3 3", "search 0 1"])
        #expect(try rows("SELECT user_id, feature, calls, provider_cache_hits FROM rollup_user_hour_folded WHERE project_id = $1 AND bucket < '2026-11-20T11:00:00Z' ORDER BY 1")
                == ["ann chat 2 1", "bob chat 1 1"])
        #expect(try rows("SELECT user_id, calls, provider_cache_hits FROM rollup_by_user_day_folded WHERE project_id = $1 ORDER BY 1")
                == ["ann 2 3", "bob 1 1"])
        // The call of 11-01 comes back nowhere.
        #expect(try rows("SELECT count(*) FROM rollup_by_user_week_folded WHERE project_id = $1 AND bucket < '2026-11-16'") == ["0"])
        #expect(try rows("SELECT provider_cache_hits FROM rollup_usage_pending WHERE project_id = $1 ORDER BY id") == ["{0}", "{0}"])

        // The views (folded + pending) answer the raw counts, before and after the fold.
        func expectViewsMatchRawEvents(_ when: Comment) throws {
            let fortnights = try rows("SELECT feature, sum(calls) AS c, sum(provider_cache_hits) AS h FROM rollup_feature_model_2w WHERE project_id = $1 GROUP BY 1 ORDER BY 1")
            #expect(fortnights == ["chat 4 3", "search 1 1"], when)
            let minutes = try rows("""
                SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI'), sum(calls) AS c, sum(provider_cache_hits) AS h FROM rollup_minute
                WHERE project_id = $1 AND bucket >= '2026-11-20T11:00:00Z' GROUP BY 1 ORDER BY 1
                """)
            #expect(minutes == ["11:30 1 1", "11:31 1 1"], when)
            let days = try rows("SELECT user_id, sum(calls) AS c, sum(provider_cache_hits) AS h FROM rollup_by_user_day WHERE project_id = $1 GROUP BY 1 ORDER BY 1")
            #expect(days == ["ann 4 3", "bob 1 1"], when)
        }
        try expectViewsMatchRawEvents("before the fold")
        let pool = PostgresPool(connectionString: schema.connectionString, size: 1)
        defer { pool.close() }
        #expect(try RollupCompactor(pool: pool).compactOnce().movedRows == 4)
        #expect(try rows("SELECT count(*) FROM rollup_usage_pending WHERE project_id = $1") == ["0"])
        try expectViewsMatchRawEvents("after the fold")
        #expect(try rows("""
            SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI'), calls, provider_cache_hits FROM rollup_minute_folded
            WHERE project_id = $1 AND bucket >= '2026-11-20T11:00:00Z' ORDER BY 1
            """) == ["11:30 1 1", "11:31 1 1"])
    }
}
