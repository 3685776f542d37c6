import Foundation
import Postgres
import TokenmeterCore

extension PostgresUsageReader {
    /// The columns an `Event` is decoded from (events `e` joined with texts `x`).
    static let eventColumns = """
        e.event_id::text AS event_id, extract(epoch from e.ts)::float8 AS ts_epoch, e.request_id, e.parent_request_id,
        e.trace_id, e.session_id, e.user_id, e.feature, e.environment, e.provider, e.model, e.priced_model, e.status,
        e.error_type, e.http_status, e.tokens_in, e.tokens_out, e.cached_tokens, e.cache_write_tokens, e.cost_pico,
        e.cost_source, e.latency_ms, e.ttft_ms, e.retries, e.fallback_triggered, e.cache_hit, e.step_index, e.step_type,
        e.tool_name, e.total_cost_pico, e.terminated_early, e.loop_count, e.cache_savings_pico,
        array_to_string(e.tags, chr(31)) AS tags, e.metadata::text AS metadata,
        x.prompt, x.response, x.tool_input, x.tool_output, x.intermediate_output, x.truncated
        """

    public func recentEvents(_ query: RecentEventsQuery) throws -> [Event] {
        var binds: [PostgresValue] = [.int(query.project.rawValue), .timestamp(query.range.from), .timestamp(query.range.to)]
        func bind(_ value: PostgresValue) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var conditions = ["e.project_id = $1", "e.ts >= $2", "e.ts < $3"]
        for dimension in UsageDimension.allCases {
            guard let value = query.filters[dimension] else { continue }
            conditions.append("e.\(PostgresUsageReader.column(dimension)) = \(bind(.text(value)))")
        }
        if let session = query.sessionID { conditions.append("e.session_id = \(bind(.text(session)))") }
        if let minCost = query.minCost { conditions.append("e.cost_pico >= \(bind(.int(minCost.picodollars)))") }
        if let minLatency = query.minLatencyMs { conditions.append("e.latency_ms >= \(bind(.double(minLatency)))") }
        if let after = query.after {
            // Keyset pagination: strictly after the last row seen, in (ts, event_id) descending order.
            conditions.append("(e.ts, e.event_id) < ('epoch'::timestamptz + \(bind(.int(after.micros))) * interval '1 microsecond', \(bind(.text(after.eventID.uuidString)))::uuid)")
        }
        let sql = """
            SELECT \(PostgresUsageReader.eventColumns)
            FROM events e LEFT JOIN event_texts x ON x.project_id = e.project_id AND x.event_id = e.event_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY e.ts DESC, e.event_id DESC
            LIMIT \(bind(.int(Int64(query.limit))))
            """
        return try storage {
            try pool.withConnection { connection in
                try connection.query(PostgresQuery(sql: sql, binds: binds)).rows.map(PostgresUsageReader.event(from:))
            }
        }
    }

    static let requestTreeSQL = """
        WITH RECURSIVE tree (request_id, depth) AS (
            SELECT $2::text, 0
            UNION
            SELECT e.request_id, t.depth + 1
            FROM events e JOIN tree t ON e.parent_request_id = t.request_id
            WHERE e.project_id = $1 AND t.depth < 32
        )
        SELECT \(eventColumns)
        FROM events e
        LEFT JOIN event_texts x ON x.project_id = e.project_id AND x.event_id = e.event_id
        WHERE e.project_id = $1 AND e.request_id IN (SELECT request_id FROM tree)
        ORDER BY e.ts, e.step_index NULLS FIRST, e.event_id
        LIMIT 10000
        """

    public func requestTree(project: ProjectID, requestID: String) throws -> [Event] {
        try storage {
            try pool.withConnection { connection in
                let result = try connection.query(PostgresQuery(sql: PostgresUsageReader.requestTreeSQL, binds: [.int(project.rawValue), .text(requestID)]))
                return try result.rows.map(PostgresUsageReader.event(from:))
            }
        }
    }

    static func event(from row: PostgresRow) throws -> Event {
        guard let id = UUID(uuidString: try row.decode(String.self, column: "event_id")) else {
            throw PostgresError.decode(column: "event_id", type: "UUID", value: nil)
        }
        var e = Event(eventID: id, timestamp: Date(timeIntervalSince1970: try row.decode(Double.self, column: "ts_epoch")),
                      requestID: try row.decode(String.self, column: "request_id"))
        e.parentRequestID = row["parent_request_id"]
        e.traceID = row["trace_id"]
        e.sessionID = row["session_id"]
        e.userID = row["user_id"]
        e.feature = row["feature"]
        e.environment = row["environment"]
        e.provider = row["provider"]
        e.model = row["model"]
        e.pricedModel = row["priced_model"]
        e.status = EventStatus(rawValue: try row.decode(String.self, column: "status")) ?? .ok
        e.errorType = row["error_type"]
        e.httpStatus = try row.decode(Int?.self, column: "http_status")
        e.usage = TokenUsage(input: try row.decode(Int64.self, column: "tokens_in"), output: try row.decode(Int64.self, column: "tokens_out"),
                             cachedInput: try row.decode(Int64.self, column: "cached_tokens"),
                             cacheWrite: try row.decode(Int64.self, column: "cache_write_tokens"))
        e.cost = try row.decode(Int64?.self, column: "cost_pico").map(Money.init(picodollars:))
        e.costSource = row["cost_source"].flatMap(CostSource.init(rawValue:))
        e.latencyMs = try row.decode(Double?.self, column: "latency_ms")
        e.ttftMs = try row.decode(Double?.self, column: "ttft_ms")
        e.retries = try row.decode(Int.self, column: "retries")
        e.fallbackTriggered = try row.decode(Bool.self, column: "fallback_triggered")
        e.cacheHit = try row.decode(Bool.self, column: "cache_hit")
        e.stepIndex = try row.decode(Int?.self, column: "step_index")
        e.stepType = row["step_type"]
        e.toolName = row["tool_name"]
        e.totalCost = try row.decode(Int64?.self, column: "total_cost_pico").map(Money.init(picodollars:))
        e.cacheSavings = try row.decode(Int64?.self, column: "cache_savings_pico").map(Money.init(picodollars:))
        e.terminatedEarly = try row.decode(Bool?.self, column: "terminated_early")
        e.loopCount = try row.decode(Int?.self, column: "loop_count")
        if let tags = row["tags"], !tags.isEmpty { e.tags = tags.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) }
        e.metadata = row["metadata"]
        let text = EventText(prompt: row["prompt"], response: row["response"], toolInput: row["tool_input"],
                             toolOutput: row["tool_output"], intermediateOutput: row["intermediate_output"],
                             truncated: try row.decode(Bool?.self, column: "truncated") ?? false)
        e.text = text.isEmpty ? nil : text
        return e
    }
}
