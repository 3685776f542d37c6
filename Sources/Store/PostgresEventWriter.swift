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
        "loop_count", "tags", "metadata", "has_text",
    ]
    static let textColumns = ["project_id", "event_id", "prompt", "response", "tool_input", "tool_output", "intermediate_output", "truncated"]

    static let stagingDDL = """
        CREATE TEMP TABLE IF NOT EXISTS tm_stage_events (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS tm_stage_texts (LIKE event_texts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        """

    static let mergeSQL: String = {
        let columns = eventColumns.joined(separator: ", ")
        let texts = textColumns.joined(separator: ", ")
        let textsFromStage = textColumns.map { "t.\($0)" }.joined(separator: ", ")
        let sums = ["calls", "tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "cost_pico", "unpriced_calls",
                    "errors", "retries", "fallbacks", "cache_hits", "latency_sum_ms", "latency_count"]
        let updates = sums.map { "\($0) = r.\($0) + EXCLUDED.\($0)" }.joined(separator: ", ")
        return """
            WITH ins AS (
                INSERT INTO events (\(columns))
                SELECT \(columns) FROM tm_stage_events
                ON CONFLICT (project_id, event_id) DO NOTHING
                RETURNING project_id, event_id, ts, feature, model, provider, environment, status, step_type, tokens_in,
                          tokens_out, cached_tokens, cache_write_tokens, cost_pico, retries, fallback_triggered, cache_hit, latency_ms
            ), texts AS (
                INSERT INTO event_texts (\(texts))
                SELECT \(textsFromStage) FROM tm_stage_texts t
                JOIN ins ON ins.project_id = t.project_id AND ins.event_id = t.event_id
                ON CONFLICT (project_id, event_id) DO NOTHING
            ), rolled AS (
                INSERT INTO rollup_minute AS r (project_id, bucket, feature, model, provider, environment, status, step_type,
                    \(sums.joined(separator: ", ")))
                SELECT project_id, date_trunc('minute', ts, 'UTC'), coalesce(feature, ''), coalesce(model, ''),
                       coalesce(provider, ''), coalesce(environment, ''), status, coalesce(step_type, ''),
                       count(*), sum(tokens_in), sum(tokens_out), sum(cached_tokens), sum(cache_write_tokens),
                       coalesce(sum(cost_pico), 0), count(*) FILTER (WHERE cost_pico IS NULL),
                       count(*) FILTER (WHERE status = 'error'), sum(retries), count(*) FILTER (WHERE fallback_triggered),
                       count(*) FILTER (WHERE cache_hit), coalesce(sum(latency_ms), 0), count(latency_ms)
                FROM ins
                GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
                ON CONFLICT (project_id, bucket, feature, model, provider, environment, status, step_type)
                DO UPDATE SET \(updates)
            )
            SELECT count(*) AS inserted FROM ins
            """
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
            arrayLiteral(e.tags), e.metadata, bool(e.text != nil),
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
