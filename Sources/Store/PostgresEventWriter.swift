import Foundation
import Postgres
import TokenmeterCore

/// Writes batches of events in one transaction:
/// 1. COPY the batch into a session-local staging table and insert the events that are new (ids
///    already stored are skipped) with their text, returning which ones were inserted;
/// 2. aggregate exactly those in Swift (`BatchRollup`) and COPY the usage, per-user and sketch cells
///    into their pending tables, one row of arrays per bucket (folded later by `RollupCompactor`).
///    Ingest never updates a row, so concurrent writers never wait for each other.
/// Re-sending a batch therefore never double counts, which also makes retrying a batch after a lost
/// connection safe.
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


    static let rollupKeys = ["feature", "model", "provider", "environment", "status", "step_type"]
    static let userKeys = ["user_id", "feature", "model", "environment"]

    /// Inserts the staged events that are new, and the text of exactly those; returns their ids.
    /// `events` is partitioned by time, so it cannot hold a unique key on (project, event id): the
    /// id registry `event_ids` (migration 0011) decides what is new, and only those rows are inserted.
    /// Concurrent writers of one id serialize on its registry key, as they did on the events key.
    static let insertSQL: String = {
        let columns = eventColumns.joined(separator: ", ")
        return """
            WITH fresh AS (
                INSERT INTO event_ids (project_id, event_id, ts)
                SELECT project_id, event_id, ts FROM tm_stage_events
                ON CONFLICT (project_id, event_id) DO NOTHING
                RETURNING project_id, event_id
            ), ins AS (
                INSERT INTO events (\(columns))
                SELECT \(eventColumns.map { "s.\($0)" }.joined(separator: ", ")) FROM tm_stage_events s
                JOIN fresh f ON f.project_id = s.project_id AND f.event_id = s.event_id
            ), texts AS (
                INSERT INTO event_texts (\(textColumns.joined(separator: ", ")))
                SELECT \(textColumns.map { "t.\($0)" }.joined(separator: ", ")) FROM tm_stage_texts t
                JOIN fresh f ON f.project_id = t.project_id AND f.event_id = t.event_id
                ON CONFLICT (project_id, event_id) DO NOTHING
            )
            SELECT project_id, event_id FROM fresh
            """
    }()

    static let pendingUsageColumns = ["project_id", "bucket"] + rollupKeys + rollupAggregates.map(\.0)
    static let pendingUserColumns = ["project_id", "bucket"] + userKeys + userAggregates.map(\.0)
    static let pendingSketchColumns = ["project_id", "bucket", "feature", "model", "provider", "environment", "metric", "idx", "count"]

    public func write(_ batch: [ProjectEvent]) throws -> Int {
        // Within one batch the first of several events with the same id wins, as it would across batches.
        var seen = Set<EventKey>()
        let unique = batch.filter { seen.insert(EventKey(project: $0.project.rawValue, id: $0.event.eventID)).inserted }
        if unique.isEmpty { return 0 }
        return try storage {
            try pool.withConnection { connection in
                try PostgresEventWriter.setUpSession(connection)
                return try connection.transaction { tx in
                    _ = try tx.copyIn("COPY tm_stage_events (\(PostgresEventWriter.eventColumns.joined(separator: ", "))) FROM STDIN") { writer in
                        for item in unique { writer.writeRow(PostgresEventWriter.row(item)) }
                    }
                    if unique.contains(where: { $0.event.text != nil }) {
                        _ = try tx.copyIn("COPY tm_stage_texts (\(PostgresEventWriter.textColumns.joined(separator: ", "))) FROM STDIN") { writer in
                            for item in unique {
                                guard let text = item.event.text else { continue }
                                writer.writeRow([String(item.project.rawValue), item.event.eventID.uuidString, text.prompt, text.response,
                                                 text.toolInput, text.toolOutput, text.intermediateOutput, text.truncated ? "t" : "f"])
                            }
                        }
                    }
                    var inserted = Set<EventKey>()
                    for row in try tx.query(PostgresQuery(sql: "EXECUTE tm_insert_events", binds: [])).rows {
                        inserted.insert(EventKey(project: try row.decode(Int64.self, column: "project_id"),
                                                 id: try row.decode(UUID.self, column: "event_id")))
                    }
                    if inserted.isEmpty { return 0 }
                    let rollup = BatchRollup(unique.lazy.filter { inserted.contains(EventKey(project: $0.project.rawValue, id: $0.event.eventID)) })
                    try PostgresEventWriter.copy(rollup.usagePendingRows, into: "rollup_usage_pending", columns: PostgresEventWriter.pendingUsageColumns, tx)
                    try PostgresEventWriter.copy(rollup.userPendingRows, into: "rollup_user_pending", columns: PostgresEventWriter.pendingUserColumns, tx)
                    try PostgresEventWriter.copy(rollup.sketchPendingRows, into: "sketch_pending", columns: PostgresEventWriter.pendingSketchColumns, tx)
                    return inserted.count
                }
            }
        }
    }

    /// Staging tables and the prepared insert, once per server session and outside any transaction
    /// (a rolled-back transaction would take them along). Preparing saves planning the insert on
    /// every commit.
    static func setUpSession(_ connection: PostgresConnection) throws {
        guard !connection.sessionSetUp.contains("event-writer") else { return }
        try connection.execute(stagingDDL)
        // A set-up that failed half way may have prepared one of them already.
        let prepared = Set(try connection.query(PostgresQuery(sql: "SELECT name FROM pg_prepared_statements", binds: [])).rows.compactMap { $0["name"] })
        for (name, sql) in [("tm_insert_events", insertSQL)] where !prepared.contains(name) {
            try connection.execute("PREPARE \(name) AS " + sql)
        }
        connection.sessionSetUp.insert("event-writer")
    }

    private struct EventKey: Hashable {
        var project: Int64
        var id: UUID
    }

    private static func copy(_ rows: [[String?]], into table: String, columns: [String], _ tx: PostgresConnection) throws {
        guard !rows.isEmpty else { return }
        _ = try tx.copyIn("COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN") { writer in
            for row in rows { writer.writeRow(row) }
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

    /// A Postgres array literal with every element quoted: `{"a","b \"c\""}`; nil when empty.
    static func arrayLiteral(_ values: [String]) -> String? {
        values.isEmpty ? nil : BatchRollup.textArray(values)
    }
}
