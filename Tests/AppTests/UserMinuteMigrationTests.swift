import Foundation
import Postgres
import Store
import Testing

/// Migration 0012 moves per-user pending cells from hour to minute buckets: the pending rows written
/// before it (hour buckets) must be folded exactly once, and the new per-user minute level must equal
/// the raw events, so no total changes across the upgrade.
struct UserMinuteMigrationTests {
    @Test func pendingHourRowsAreFoldedOnceAndMinutesEqualRawEvents() throws {
        let schema = try OlderSchema(before: 12, project: "m12")
        defer { schema.connection.close() }
        let (connection, project) = (schema.connection, schema.project)
        // Four calls, as a 0011 server stored them: raw events, and their per-user cells still pending
        // in hour buckets (10:00: ann twice, bob once; 11:00: no user).
        let calls: [(ts: String, user: String?, cost: Int64)] = [
            ("2026-11-20T10:05:10Z", "ann", 3), ("2026-11-20T10:05:50Z", "ann", 4), ("2026-11-20T10:06:00Z", "bob", 5),
            ("2026-11-20T11:30:00Z", nil, 7),
        ]
        for (i, call) in calls.enumerated() {
            _ = try connection.query(PostgresQuery(sql: """
                INSERT INTO events (project_id, event_id, ts, request_id, user_id, status, tokens_in, tokens_out, cached_tokens,
                                    cache_write_tokens, cost_pico, retries, fallback_triggered, cache_hit)
                VALUES ($1, gen_random_uuid(), $2::timestamptz, $3, $4, 'ok', 10, 1, 0, 0, $5, 0, false, false)
                """, binds: [.int(project), .text(call.ts), .text("r\(i)"), call.user.map { .text($0) } ?? .null, .int(call.cost)]))
        }
        func pending(_ bucket: String, users: String, calls: String, costs: String) throws {
            _ = try connection.query(PostgresQuery(sql: """
                INSERT INTO rollup_user_pending (project_id, bucket, user_id, feature, model, environment, calls, tokens_in, tokens_out,
                    cached_tokens, cache_write_tokens, cost_pico, unpriced_calls, errors, retries, fallbacks, cache_hits)
                SELECT $1, $2::timestamptz, u, f, f, f, c, t, o, z, z, p, z, z, z, z, z
                FROM (SELECT $3::text[] AS u, array_fill(''::text, ARRAY[cardinality($3::text[])]) AS f, $4::bigint[] AS c,
                             array_fill(0::bigint, ARRAY[cardinality($3::text[])]) AS z, $5::numeric[] AS p) a,
                     LATERAL (SELECT array_agg(x * 10) AS t, array_agg(x) AS o FROM unnest($4::bigint[]) x) b
                """, binds: [.int(project), .text(bucket), .text(users), .text(calls), .text(costs)]))
        }
        try pending("2026-11-20T10:00:00Z", users: #"{"ann","bob"}"#, calls: "{2,1}", costs: "{7,5}")
        try pending("2026-11-20T11:00:00Z", users: #"{""}"#, calls: "{1}", costs: "{7}")

        _ = try schema.all.migrate(connection)
        let rows = schema.rows
        #expect(try rows("SELECT count(*) AS n FROM rollup_user_pending WHERE project_id = $1") == ["0"])
        // Folded once at hour, day and week, exactly as the compactor of 0011 would have.
        #expect(try rows("SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') AS m, user_id, calls, cost_pico FROM rollup_user_hour_folded WHERE project_id = $1 ORDER BY 1, 2")
                == ["10:00 ann 2 7", "10:00 bob 1 5", "11:00  1 7"])
        #expect(try rows("SELECT user_id, calls, cost_pico, tokens_in FROM rollup_by_user_week_folded WHERE project_id = $1 ORDER BY 1")
                == [" 1 7 10", "ann 2 7 20", "bob 1 5 10"])
        // The new minute level equals the raw events, per minute and user.
        #expect(try rows("SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') AS m, user_id, calls, cost_pico FROM rollup_by_user_minute WHERE project_id = $1 ORDER BY 1, 2")
                == ["10:05 ann 2 7", "10:06 bob 1 5", "11:30  1 7"])
        // The hour views read minute-bucket pending rows from now on.
        try pending("2026-11-20T10:59:00Z", users: #"{"ann"}"#, calls: "{1}", costs: "{2}")
        #expect(try rows("SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') AS m, sum(calls) AS c, sum(cost_pico) AS p FROM rollup_by_user_hour WHERE project_id = $1 AND user_id = 'ann' GROUP BY 1")
                == ["10:00 3 9"])
        #expect(try rows("SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') AS m, sum(calls) AS c FROM rollup_user_hour WHERE project_id = $1 AND user_id = 'ann' GROUP BY 1")
                == ["10:00 3"])
    }
}
