import Foundation
import Postgres
import Store
import Testing

/// Migration 0014 adds usage by feature alone and by model alone, filled from the (feature, model)
/// family a 0013 server folded: every level must hold exactly those rows summed per key.
struct SingleKeyRollupMigrationTests {
    @Test func byFeatureAndByModelAreFilledFromTheFeatureModelFamily() throws {
        let schema = try OlderSchema(before: 14, project: "m14")
        defer { schema.connection.close() }
        let (connection, project) = (schema.connection, schema.project)
        // Folded (feature, model) rows as a 0013 server left them, at every level: chat × a, chat × b, search × a.
        for level in ["hour", "day", "week"] {
            _ = try connection.query(PostgresQuery(sql: """
                INSERT INTO rollup_feature_model_\(level)_folded (project_id, bucket, feature, model, calls, tokens_in, tokens_out,
                    cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits, latency_sum_ms,
                    latency_count, cache_savings_pico, miss_calls, miss_priced_calls, miss_cost_pico, ttft_sum_ms, ttft_count)
                SELECT $1, date_trunc('\(level)', '2026-11-18T10:00:00Z'::timestamptz, 'UTC'), f, m, c, c * 10, c, 0, 0, c * 1000, 0, c - 1, 0, 0, 0,
                       c * 1.5, c, 0, c, c, c * 1000, 0, 0
                FROM (VALUES ('chat', 'a', 1), ('chat', 'b', 2), ('search', 'a', 4)) AS v (f, m, c)
                """, binds: [.int(project)]))
        }

        _ = try schema.all.migrate(connection)
        let rows = schema.rows
        for level in ["hour", "day", "week"] {
            #expect(try rows("""
                SELECT feature, calls, tokens_in, cost_pico, errors, latency_sum_ms, miss_cost_pico FROM rollup_by_feature_\(level)_folded
                WHERE project_id = $1 ORDER BY 1
                """) == ["chat 3 30 3000 1 4.5 3000", "search 4 40 4000 3 6 4000"], "\(level)")
            #expect(try rows("SELECT model, calls, cost_pico FROM rollup_by_model_\(level) WHERE project_id = $1 ORDER BY 1")
                    == ["a 5 5000", "b 2 2000"], "\(level)")
        }
    }
}
