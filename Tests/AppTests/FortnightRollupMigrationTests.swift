import Foundation
import Postgres
import Store
import Testing

/// Migration 0018 adds fortnights to usage by feature and model, filled from the week rows a 0017
/// server folded: each fortnight must hold exactly its two ISO weeks summed per key, fortnights
/// starting on the Mondays an even number of weeks after 1970-01-05 (2026-11-09 is one, 2026-11-16 not).
struct FortnightRollupMigrationTests {
    @Test func fortnightsAreTheSumsOfTheirWeeks() throws {
        let schema = try OlderSchema(before: 18, project: "m18")
        defer { schema.connection.close() }
        let (connection, project) = (schema.connection, schema.project)
        // Weeks starting 2026-11-02 … 2026-11-23 (w = 0 … 3): chat × a every week with calls = w + 1,
        // search × b in the weeks of 11-16 and 11-23 only.
        _ = try connection.query(PostgresQuery(sql: """
            INSERT INTO rollup_feature_model_week_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out,
                cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms,
                latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count)
            SELECT $1, '2026-11-02T00:00:00Z'::timestamptz + w * interval '7 days', 'chat', 'a', w + 1, (w + 1) * 10, 1, 0, 0,
                   (w + 1) * 1000, 0, 1, 0, 0, 0, (w + 1) * 1.5, w + 1, 0, w + 1, w + 1, (w + 1) * 1000, 0, 0
            FROM generate_series(0, 3) AS w
            UNION ALL
            SELECT $1, '2026-11-02T00:00:00Z'::timestamptz + w * interval '7 days', 'search', 'b', 1, 1, 1, 0, 0, 7, 0, 0, 0, 0, 0,
                   1, 1, 0, 1, 1, 7, 0, 0
            FROM generate_series(2, 3) AS w
            """, binds: [.int(project)]))

        _ = try schema.all.migrate(connection)
        #expect(try schema.rows("""
            SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD'), feature, model, calls, tokens_in, tokens_out, cost_pico, errors,
                   latency_sum_ms, miss_cost_pico
            FROM rollup_feature_model_2w_folded WHERE project_id = $1 ORDER BY 1, 2
            """) == ["2026-10-26 chat a 1 10 1 1000 1 1.5 1000",    // the week of 11-02 alone
                     "2026-11-09 chat a 5 50 2 5000 2 7.5 5000",    // 11-09 + 11-16
                     "2026-11-09 search b 1 1 1 7 0 1 7",
                     "2026-11-23 chat a 4 40 1 4000 1 6 4000",      // 11-23 alone
                     "2026-11-23 search b 1 1 1 7 0 1 7"])
        // The view adds pending rows, none here.
        #expect(try schema.rows("SELECT sum(calls) FROM rollup_feature_model_2w WHERE project_id = $1") == ["12"])
    }
}
