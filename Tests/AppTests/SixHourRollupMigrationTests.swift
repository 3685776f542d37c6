import Foundation
import Postgres
import Store
import Testing

/// Migration 0017 adds 6-hour buckets to usage by feature and model, filled from the hour rows a 0016
/// server folded: each block must hold exactly its six hours summed per key, in blocks starting at
/// 00:00, 06:00, 12:00 and 18:00 UTC.
struct SixHourRollupMigrationTests {
    @Test func sixHourBlocksAreTheSumsOfTheirHours() throws {
        let schema = try OlderSchema(before: 17, project: "m17")
        defer { schema.connection.close() }
        let (connection, project) = (schema.connection, schema.project)
        // Hours 04:00 … 13:00 of one day: chat × a every hour with calls = the hour, search × b at 05:00 and 06:00.
        _ = try connection.query(PostgresQuery(sql: """
            INSERT INTO rollup_feature_model_hour_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out,
                cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms,
                latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count)
            SELECT $1, '2026-11-18T00:00:00Z'::timestamptz + h * interval '1 hour', f, m, h, h * 10, h, 0, 0, h * 1000, 0, 1, 0, 0, 0,
                   h * 1.5, h, 0, h, h, h * 1000, 0, 0
            FROM generate_series(4, 13) AS h CROSS JOIN (VALUES ('chat', 'a')) AS v (f, m)
            UNION ALL
            SELECT $1, '2026-11-18T00:00:00Z'::timestamptz + h * interval '1 hour', 'search', 'b', 1, 1, 1, 0, 0, 7, 0, 0, 0, 0, 0,
                   1, 1, 0, 1, 1, 7, 0, 0
            FROM generate_series(5, 6) AS h
            """, binds: [.int(project)]))

        _ = try schema.all.migrate(connection)
        #expect(try schema.rows("""
            SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI'), feature, model, calls, tokens_in, cost_pico, errors, latency_sum_ms, miss_cost_pico
            FROM rollup_feature_model_6h_folded WHERE project_id = $1 ORDER BY 1, 2
            """) == ["00:00 chat a 9 90 9000 2 13.5 9000",      // 04:00 + 05:00
                     "00:00 search b 1 1 7 0 1 7",
                     "06:00 chat a 51 510 51000 6 76.5 51000",  // 06:00 … 11:00
                     "06:00 search b 1 1 7 0 1 7",
                     "12:00 chat a 25 250 25000 2 37.5 25000"]) // 12:00 + 13:00
        // The view adds pending rows, none here.
        #expect(try schema.rows("SELECT sum(calls) FROM rollup_feature_model_6h WHERE project_id = $1") == ["87"])
    }
}
