import Foundation
import Postgres
import TokenmeterCore

/// Writes batches of events in one transaction: COPY into session-local staging tables, then one
/// statement that inserts the new events (skipping ids already stored), their text, and folds exactly
/// those new rows into the per-minute rollup. Re-sending a batch therefore never double counts, which
/// also makes retrying a batch after a lost connection safe.
public final class PostgresEventWriter: EventWriter {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    static let eventColumns = [
        "project_id", "event_id", "ts", "request_id", "parent_request_id", "trace_id", "session_id", "user_id", "feature",
        "environment", "provider", "model", "priced_model", "status", "error_type", "http_status", "tokens_in", "tokens_out",
        "cached_tokens", "cache_write_tokens", "cost_pico", "cost_source", "latency_ms", "ttft_ms", "retries",
        "fallback_triggered", "cache_hit", "step_index", "step_type", "tool_name", "total_cost_pico", "terminated_early",
        "loop_count", "tags", "metadata", "has_text", "cache_savings_pico",
    ]
    static let textColumns = ["project_id", "event_id", "prompt", "response", "tool_input", "tool_output", "intermediate_output", "truncated"]

    static let stagingDDL = """
        CREATE TEMP TABLE IF NOT EXISTS tm_stage_events (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tm_stage_texts (LIKE event_texts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        """

    /// Aggregates of the rollup levels, as (column, expression over the inserted rows).
    static let rollupAggregates: [(String, String)] = [
        ("calls", "count(*)"), ("tokens_in", "sum(tokens_in)"), ("tokens_out", "sum(tokens_out)"),
        ("cached_tokens", "sum(cached_tokens)"), ("cache_write_tokens", "sum(cache_write_tokens)"),
        ("cost_pico", "coalesce(sum(cost_pico), 0)"), ("unpriced_calls", "count(*) FILTER (WHERE cost_pico IS NULL)"),
        ("errors", "count(*) FILTER (WHERE status = 'error')"), ("retries", "sum(retries)"),
        ("fallbacks", "count(*) FILTER (WHERE fallback_triggered)"), ("cache_hits", "count(*) FILTER (WHERE cache_hit)"),
        ("latency_sum_ms", "coalesce(sum(latency_ms), 0)"), ("latency_count", "count(latency_ms)"),
        ("cache_savings_pico", "coalesce(sum(cache_savings_pico), 0)"), ("miss_calls", "count(*) FILTER (WHERE NOT cache_hit)"),
        ("miss_priced_calls", "count(*) FILTER (WHERE NOT cache_hit AND cost_pico IS NOT NULL)"),
        ("miss_cost_pico", "coalesce(sum(cost_pico) FILTER (WHERE NOT cache_hit), 0)"),
        ("ttft_sum_ms", "coalesce(sum(ttft_ms), 0)"), ("ttft_count", "count(ttft_ms)"),
    ]
    static let userAggregates = Array(rollupAggregates.prefix(11))

    /// One upsert CTE that folds the inserted rows into a rollup table. Rows are produced in key order
    /// so concurrent writers lock rollup rows in the same order (no deadlocks).
    static func upsert(name: String, table: String, level: String, keys: [(String, String)], aggregates: [(String, String)],
                       from source: String = "ins") -> String {
        let keyColumns = ["project_id", "bucket"] + keys.map(\.0)
        let keyExpressions = ["project_id", "date_trunc('\(level)', ts, 'UTC')"] + keys.map(\.1)
        let positions = (1...keyColumns.count).map(String.init).joined(separator: ", ")
        let updates = aggregates.map { "\($0.0) = r.\($0.0) + EXCLUDED.\($0.0)" }.joined(separator: ", ")
        return """
            \(name) AS (
                INSERT INTO \(table) AS r (\((keyColumns + aggregates.map(\.0)).joined(separator: ", ")))
                SELECT \((keyExpressions + aggregates.map(\.1)).joined(separator: ", "))
                FROM \(source)
                GROUP BY \(positions) ORDER BY \(positions)
                ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE SET \(updates)
            )
            """
    }

    static let rollupKeys = [("feature", "coalesce(feature, '')"), ("model", "coalesce(model, '')"), ("provider", "coalesce(provider, '')"),
                             ("environment", "coalesce(environment, '')"), ("status", "status"), ("step_type", "coalesce(step_type, '')")]
    static let userKeys = [("user_id", "coalesce(user_id, '')"), ("feature", "coalesce(feature, '')"), ("model", "coalesce(model, '')"),
                           ("environment", "coalesce(environment, '')")]
    static let sketchKeys = [("feature", "coalesce(feature, '')"), ("model", "coalesce(model, '')"), ("provider", "coalesce(provider, '')"),
                             ("environment", "coalesce(environment, '')"), ("metric", "metric"), ("idx", "tm_sketch_index(value)")]

    static let mergeSQL: String = {
        let columns = eventColumns.joined(separator: ", ")
        let texts = textColumns.joined(separator: ", ")
        let textsFromStage = textColumns.map { "t.\($0)" }.joined(separator: ", ")
        var ctes = [
            """
            ins AS (
                INSERT INTO events (\(columns))
                SELECT \(columns) FROM tm_stage_events
                ON CONFLICT (project_id, event_id) DO NOTHING
                RETURNING project_id, event_id, ts, user_id, feature, model, provider, environment, status, step_type, tokens_in,
                          tokens_out, cached_tokens, cache_write_tokens, cost_pico, retries, fallback_triggered, cache_hit,
                          latency_ms, ttft_ms, cache_savings_pico
            )
            """,
            """
            texts AS (
                INSERT INTO event_texts (\(texts))
                SELECT \(textsFromStage) FROM tm_stage_texts t
                JOIN ins ON ins.project_id = t.project_id AND ins.event_id = t.event_id
                ON CONFLICT (project_id, event_id) DO NOTHING
            )
            """,
            """
            timings AS (
                SELECT ins.*, m.metric, m.value FROM ins
                CROSS JOIN LATERAL (VALUES (0::smallint, ins.latency_ms), (1::smallint, ins.ttft_ms)) AS m (metric, value)
                WHERE m.value IS NOT NULL
            )
            """,
        ]
        for level in ["minute", "hour", "day"] {
            ctes.append(upsert(name: "r_\(level)", table: "rollup_\(level)", level: level, keys: rollupKeys, aggregates: rollupAggregates))
            ctes.append(upsert(name: "s_\(level)", table: "sketch_\(level)", level: level, keys: sketchKeys,
                               aggregates: [("count", "count(*)")], from: "timings"))
        }
        for level in ["hour", "day"] {
            ctes.append(upsert(name: "u_\(level)", table: "rollup_user_\(level)", level: level, keys: userKeys,
                               aggregates: userAggregates))
        }
        return "WITH " + ctes.joined(separator: ",\n") + "\nSELECT count(*) AS inserted FROM ins"
    }()

    public func write(_ batch: [ProjectEvent]) throws -> Int {
        if batch.isEmpty { return 0 }
        return try storage {
            try pool.withConnection { connection in
                try connection.transaction { tx in
                    try tx.execute(PostgresEventWriter.stagingDDL)
                    _ = try tx.copyIn("COPY tm_stage_events (\(PostgresEventWriter.eventColumns.joined(separator: ", "))) FROM STDIN") { writer in
                        for item in batch { writer.writeRow(PostgresEventWriter.row(item)) }
                    }
                    if batch.contains(where: { $0.event.text != nil }) {
                        _ = try tx.copyIn("COPY tm_stage_texts (\(PostgresEventWriter.textColumns.joined(separator: ", "))) FROM STDIN") { writer in
                            for item in batch {
                                guard let text = item.event.text else { continue }
                                writer.writeRow([String(item.project.rawValue), item.event.eventID.uuidString, text.prompt, text.response,
                                                 text.toolInput, text.toolOutput, text.intermediateOutput, text.truncated ? "t" : "f"])
                            }
                        }
                    }
                    let result = try tx.query(PostgresQuery(sql: PostgresEventWriter.mergeSQL, binds: []))
                    return try result.rows.first?.decode(Int.self, column: "inserted") ?? 0
                }
            }
        }
    }

    static func row(_ item: ProjectEvent) -> [String?] {
        let e = item.event
        func bool(_ b: Bool?) -> String? { b.map { $0 ? "t" : "f" } }
        func number(_ d: Double?) -> String? { d.map { String($0) } }
        return [
            String(item.project.rawValue), e.eventID.uuidString, Timestamp.rfc3339(e.timestamp), e.requestID, e.parentRequestID,
            e.traceID, e.sessionID, e.userID, e.feature, e.environment, e.provider, e.model, e.pricedModel, e.status.rawValue,
            e.errorType, e.httpStatus.map(String.init), String(e.usage.input), String(e.usage.output), String(e.usage.cachedInput),
            String(e.usage.cacheWrite), e.cost.map { String($0.picodollars) }, e.costSource?.rawValue, number(e.latencyMs),
            number(e.ttftMs), String(e.retries), bool(e.fallbackTriggered), bool(e.cacheHit), e.stepIndex.map(String.init),
            e.stepType, e.toolName, e.totalCost.map { String($0.picodollars) }, bool(e.terminatedEarly), e.loopCount.map(String.init),
            arrayLiteral(e.tags), e.metadata, bool(e.text != nil), e.cacheSavings.map { String($0.picodollars) },
        ]
    }

    /// A Postgres array literal with every element quoted: `{"a","b \"c\""}`.
    static func arrayLiteral(_ values: [String]) -> String? {
        guard !values.isEmpty else { return nil }
        let quoted = values.map { value -> String in
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }
}
