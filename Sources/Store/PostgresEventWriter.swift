import Foundation
import Postgres
import TokenmeterCore

/// Writes batches of events in one transaction:
/// 1. register the batch's ids in `event_ids` (one statement over bound arrays); Postgres answers
///    which ones were new, the ids already stored are skipped from here on;
/// 2. COPY exactly the new events straight into `events` (and their text through a staging table);
/// 3. aggregate exactly those in Swift (`BatchRollup`) and COPY the usage, per-user and sketch cells
///    into their pending tables, one row of arrays per bucket (folded later by `RollupCompactor`).
///    Ingest never updates a row, so concurrent writers never wait for each other.
/// Re-sending a batch therefore never double counts, which also makes retrying a batch after a lost
/// connection safe. Registering first keeps the wide rows out of any staging table: they are parsed
/// and written once, which is most of Postgres's work per event.
public final class PostgresEventWriter: EventWriter {
    private let pool: PostgresPool
    /// Off only to measure what maintaining the rollups costs ingest (`bench/ingest --compare-rollups`):
    /// the events are stored, but no rollup, per-user or sketch cell counts them.
    private let rollups: Bool

    public init(pool: PostgresPool, rollups: Bool = true) {
        self.pool = pool
        self.rollups = rollups
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
        CREATE TEMP TABLE IF NOT EXISTS tm_stage_texts (LIKE event_texts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
        """

    /// Aggregates of the rollup levels, as (column, expression over the inserted rows).
    static let rollupAggregates: [(String, String)] = [
        ("calls", "count(*)"), ("tokens_in", "sum(tokens_in)"), ("tokens_out", "sum(tokens_out)"),
        ("cached_tokens", "sum(cached_tokens)"), ("cache_write_tokens", "sum(cache_write_tokens)"),
        ("cost_pico", "coalesce(sum(cost_pico), 0)"), ("unpriced_calls", "count(*) FILTER (WHERE cost_pico IS NULL)"),
        ("errors", "count(*) FILTER (WHERE status = 'error')"), ("retries", "sum(retries)"),
        ("fallbacks", "count(*) FILTER (WHERE fallback_triggered)"), ("cache_hits", "count(*) FILTER (WHERE cache_hit)"),
        // Calls the provider's prompt cache served some input tokens of (migration 0019).
        ("provider_cache_hits", "count(*) FILTER (WHERE cached_tokens > 0)"),
        ("latency_sum_ms", "coalesce(sum(latency_ms), 0)"), ("latency_count", "count(latency_ms)"),
        ("cache_savings_pico", "coalesce(sum(cache_savings_pico), 0)"), ("miss_calls", "count(*) FILTER (WHERE NOT cache_hit)"),
        ("miss_priced_calls", "count(*) FILTER (WHERE NOT cache_hit AND cost_pico IS NOT NULL)"),
        ("miss_cost_pico", "coalesce(sum(cost_pico) FILTER (WHERE NOT cache_hit), 0)"),
        ("ttft_sum_ms", "coalesce(sum(ttft_ms), 0)"), ("ttft_count", "count(ttft_ms)"),
    ]
    /// The per-user family keeps the counters (through `provider_cache_hits`), not latency or cache savings.
    static let userAggregates = Array(rollupAggregates.prefix(12))


    static let rollupKeys = ["feature", "model", "provider", "environment", "status", "step_type"]
    static let userKeys = ["user_id", "feature", "model", "environment"]

    /// Registers ids ($1 project ids, $2 event ids, $3 timestamps: parallel array literals) and
    /// returns the ones that were new. `events` is partitioned by time, so it cannot hold a unique key
    /// on (project, event id): the registry (migration 0011) decides what is new. Concurrent writers
    /// of one id serialize on its registry key, and the loser sees it as already stored.
    static let registerSQL = """
        INSERT INTO event_ids (project_id, event_id, ts)
        SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[])
        ON CONFLICT (project_id, event_id) DO NOTHING
        RETURNING project_id, event_id
        """

    /// The staged texts of new events; a text row can outlive its id in the registry by a retention
    /// pass, so a conflict keeps the stored one instead of failing the batch.
    static let insertTextsSQL = """
        INSERT INTO event_texts (\(textColumns.joined(separator: ", ")))
        SELECT \(textColumns.joined(separator: ", ")) FROM tm_stage_texts
        ON CONFLICT (project_id, event_id) DO NOTHING
        """

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
                    let fresh: [ProjectEvent]
                    switch try PostgresEventWriter.register(unique, tx) {
                    case .all: fresh = unique
                    case .only(let new): fresh = unique.filter { new.contains(EventKey(project: $0.project.rawValue, id: $0.event.eventID)) }
                    }
                    if fresh.isEmpty { return 0 }
                    _ = try tx.copyIn("COPY events (\(PostgresEventWriter.eventColumns.joined(separator: ", "))) FROM STDIN") { writer in
                        for item in fresh { PostgresEventWriter.writeRow(item, &writer) }
                    }
                    if fresh.contains(where: { $0.event.text != nil }) {
                        _ = try tx.copyIn("COPY tm_stage_texts (\(PostgresEventWriter.textColumns.joined(separator: ", "))) FROM STDIN") { writer in
                            for item in fresh {
                                guard let text = item.event.text else { continue }
                                writer.writeRow([String(item.project.rawValue), item.event.eventID.postgresText, text.prompt, text.response,
                                                 text.toolInput, text.toolOutput, text.intermediateOutput, text.truncated ? "t" : "f"])
                            }
                        }
                        _ = try tx.query(PostgresQuery(sql: "EXECUTE tm_insert_texts", binds: []))
                    }
                    if !rollups { return fresh.count }
                    let rollup = BatchRollup(fresh)
                    try PostgresEventWriter.copy(rollup.usagePendingRows, into: "rollup_usage_pending", columns: PostgresEventWriter.pendingUsageColumns, tx)
                    try PostgresEventWriter.copy(rollup.userPendingRows, into: "rollup_user_pending", columns: PostgresEventWriter.pendingUserColumns, tx)
                    try PostgresEventWriter.copy(rollup.sketchPendingRows, into: "sketch_pending", columns: PostgresEventWriter.pendingSketchColumns, tx)
                    return fresh.count
                }
            }
        }
    }

    /// Inserts the ids of `events` into the registry; returns those that were not there yet.
    private static func register(_ events: [ProjectEvent], _ tx: PostgresConnection) throws -> Registered {
        var projects = "{", ids = "{", times = "{"
        projects.reserveCapacity(events.count * 4)
        ids.reserveCapacity(events.count * 37)
        times.reserveCapacity(events.count * 28)
        for (i, item) in events.enumerated() {
            if i > 0 { projects += ","; ids += ","; times += "," }
            projects += String(item.project.rawValue)
            ids += item.event.eventID.postgresText
            times += "\"" + item.event.timestamp.postgresText + "\""   // the text holds a space
        }
        projects += "}"; ids += "}"; times += "}"
        let rows = try tx.query(PostgresQuery(sql: registerSQL, binds: [.text(projects), .text(ids), .text(times)])).rows
        // The usual answer: every id was new (the ids are distinct), so nothing needs decoding.
        if rows.count == events.count { return .all }
        var new = Set<EventKey>(minimumCapacity: rows.count)
        for row in rows {
            new.insert(EventKey(project: try row.decode(Int64.self, column: "project_id"), id: try row.decode(UUID.self, column: "event_id")))
        }
        return .only(new)
    }

    /// The text staging table and its prepared insert, once per server session and outside any transaction
    /// (a rolled-back transaction would take them along). Preparing saves planning the insert on
    /// every commit.
    static func setUpSession(_ connection: PostgresConnection) throws {
        guard !connection.sessionSetUp.contains("event-writer") else { return }
        try connection.execute(stagingDDL)
        // A set-up that failed half way may have prepared one of them already.
        let prepared = Set(try connection.query(PostgresQuery(sql: "SELECT name FROM pg_prepared_statements", binds: [])).rows.compactMap { $0["name"] })
        for (name, sql) in [("tm_insert_texts", insertTextsSQL)] where !prepared.contains(name) {
            try connection.execute("PREPARE \(name) AS " + sql)
        }
        connection.sessionSetUp.insert("event-writer")
    }

    /// Which of a batch's (distinct) ids the registry took as new.
    private enum Registered {
        case all
        case only(Set<EventKey>)
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

    /// One `events` row in `eventColumns` order, written field by field (no per-row array).
    static func writeRow(_ item: ProjectEvent, _ w: inout CopyWriter) {
        let e = item.event
        w.field(item.project.rawValue); w.field(e.eventID); w.field(e.timestamp)
        w.field(e.requestID); w.field(e.parentRequestID); w.field(e.traceID); w.field(e.sessionID); w.field(e.userID)
        w.field(e.feature); w.field(e.environment); w.field(e.provider); w.field(e.model); w.field(e.pricedModel)
        w.field(e.status.rawValue); w.field(e.errorType); w.field(e.httpStatus.map { Int64($0) })
        w.field(Int64(e.usage.input)); w.field(Int64(e.usage.output)); w.field(Int64(e.usage.cachedInput)); w.field(Int64(e.usage.cacheWrite))
        w.field(e.cost.map { Int64($0.picodollars) }); w.field(e.costSource?.rawValue); w.field(e.latencyMs); w.field(e.ttftMs)
        w.field(Int64(e.retries)); w.field(e.fallbackTriggered); w.field(e.cacheHit); w.field(e.stepIndex.map { Int64($0) })
        w.field(e.stepType); w.field(e.toolName); w.field(e.totalCost.map { Int64($0.picodollars) }); w.field(e.terminatedEarly)
        w.field(e.loopCount.map { Int64($0) }); w.field(arrayLiteral(e.tags)); w.field(e.metadata); w.field(e.text != nil)
        w.field(e.cacheSavings.map { Int64($0.picodollars) })
        w.endRow()
    }

    /// A Postgres array literal with every element quoted: `{"a","b \"c\""}`; nil when empty.
    static func arrayLiteral(_ values: [String]) -> String? {
        values.isEmpty ? nil : BatchRollup.textArray(values)
    }
}
