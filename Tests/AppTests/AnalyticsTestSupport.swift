import Foundation
import JSON
import Postgres
import Testing

/// Reading the analytics endpoints' answers and checking the stored rollups against raw events.
extension RunningServer {
    /// GET a read endpoint; records an issue unless it answers 200 with a JSON object.
    func answer(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let response = try get(path)
        #expect(response.status == 200, "\(path): \(response.text)", sourceLocation: sourceLocation)
        return try #require(response.json, "\(path): \(response.text)", sourceLocation: sourceLocation)
    }

    /// The `rows` of an answer.
    func rows(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [JSONValue] {
        try answer(path, sourceLocation: sourceLocation)["rows"]?.arrayValue ?? []
    }

    /// POSTs events and requires every one to be accepted.
    func ingestAll(_ body: String, contentType: String = "application/json", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let response = try ingest(body, contentType: contentType)
        #expect(response.status == 200, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.json?["rejected"]?.arrayValue?.isEmpty == true, "\(response.text)", sourceLocation: sourceLocation)
    }

    /// The error field of a 400 answer (nil when the status is not 400).
    func badRequestField(_ path: String) throws -> String? {
        let response = try get(path)
        guard response.status == 400 else { return nil }
        return response.json?["error"]?["field"]?.stringValue
    }

    /// One row of a SQL answer as column → text.
    func sqlRows(_ text: String, _ binds: [PostgresValue] = []) throws -> [[String: String?]] {
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        let result = try connection.query(PostgresQuery(sql: text, binds: binds))
        return result.rows.map { row in
            var values: [String: String?] = [:]
            for name in result.columns { values[name] = row[name] }
            return values
        }
    }

    func sqlValue(_ text: String, _ binds: [PostgresValue] = []) throws -> String? {
        try sqlRows(text, binds).first?.values.first ?? nil
    }

    /// For each rollup and sketch table, how many rows differ from the same aggregate recomputed from
    /// the raw events (0 everywhere means the rollups hold exactly the raw totals, nothing twice).
    func rollupMismatches() throws -> [String: Int] {
        var mismatches: [String: Int] = [:]
        let counters = """
            count(*) AS calls, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out, sum(cached_tokens) AS cached_tokens,
            sum(cache_write_tokens) AS cache_write_tokens, coalesce(sum(cost_pico), 0) AS cost_pico,
            count(*) FILTER (WHERE cost_pico IS NULL) AS unpriced_calls, count(*) FILTER (WHERE status = 'error') AS errors,
            sum(retries) AS retries, count(*) FILTER (WHERE fallback_triggered) AS fallbacks, count(*) FILTER (WHERE cache_hit) AS cache_hits,
            count(*) FILTER (WHERE cached_tokens > 0) AS provider_cache_hits
            """
        // Stored sides are summed per key: some are views over folded and pending rows (migration 0004),
        // which may hold one key several times.
        let counterColumns = ["calls", "tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "cost_pico", "unpriced_calls", "errors",
                              "retries", "fallbacks", "cache_hits", "provider_cache_hits"].map { "sum(\($0))" }.joined(separator: ", ")
        let rollupKeys = "coalesce(feature, ''), coalesce(model, ''), coalesce(provider, ''), coalesce(environment, ''), status, coalesce(step_type, '')"
        let userKeys = "coalesce(user_id, ''), coalesce(feature, ''), coalesce(model, ''), coalesce(environment, '')"
        func compare(_ table: String, raw: String, stored: String) throws {
            let sql = "SELECT count(*) AS n FROM (((\(raw)) EXCEPT ALL (\(stored))) UNION ALL ((\(stored)) EXCEPT ALL (\(raw)))) AS d"
            mismatches[table] = Int(try sqlValue(sql) ?? "-1") ?? -1
        }
        for level in ["minute", "hour", "day"] {
            let bucket = "date_trunc('\(level)', ts, 'UTC')"
            try compare("rollup_\(level)",
                        raw: "SELECT project_id, \(bucket), \(rollupKeys), \(counters), count(latency_ms), count(ttft_ms), coalesce(sum(cache_savings_pico), 0) FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
                        stored: "SELECT project_id, bucket, feature, model, provider, environment, status, step_type, \(counterColumns), sum(latency_count), sum(ttft_count), sum(cache_savings_pico) FROM rollup_\(level) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8")
            try compare("sketch_\(level)",
                        raw: """
                            SELECT project_id, \(bucket), coalesce(feature, ''), coalesce(model, ''), coalesce(provider, ''), coalesce(environment, ''),
                                   m.metric, tm_sketch_index(m.value), count(*)
                            FROM events CROSS JOIN LATERAL (VALUES (0::smallint, latency_ms), (1::smallint, ttft_ms)) AS m (metric, value)
                            WHERE m.value IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                            """,
                        stored: "SELECT project_id, bucket, feature, model, provider, environment, metric, idx, sum(count) FROM sketch_\(level) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8")
        }
        for level in ["hour", "day"] {
            try compare("rollup_user_\(level)",
                        raw: "SELECT project_id, date_trunc('\(level)', ts, 'UTC'), \(userKeys), \(counters) FROM events GROUP BY 1, 2, 3, 4, 5, 6",
                        stored: "SELECT project_id, bucket, user_id, feature, model, environment, \(counterColumns) FROM rollup_user_\(level) GROUP BY 1, 2, 3, 4, 5, 6")
        }
        // The narrow families of migrations 0010 and 0014, at hour, day and week (ISO weeks in UTC).
        let narrow: [(prefix: String, rawKeys: String, storedKeys: String, raw: String, stored: String, sketch: Bool)] = [
            ("rollup_feature_model", "coalesce(feature, ''), coalesce(model, '')", "feature, model",
             "\(counters), count(latency_ms), count(ttft_ms), coalesce(sum(cache_savings_pico), 0)",
             "\(counterColumns), sum(latency_count), sum(ttft_count), sum(cache_savings_pico)", false),
            ("rollup_by_user", "coalesce(user_id, '')", "user_id", counters, counterColumns, false),
            ("rollup_by_feature", "coalesce(feature, '')", "feature", counters, counterColumns, false),
            ("rollup_by_model", "coalesce(model, '')", "model", counters, counterColumns, false),
            ("sketch_by_model", "coalesce(model, '')", "model", "", "", true),
            ("sketch_by_feature", "coalesce(feature, '')", "feature", "", "", true),
        ]
        for family in narrow {
            // The packed sketches have minutes too (migration 0016), usage by feature and model 6-hour
            // buckets (0017) and fortnights (0018).
            let extra = family.sketch ? ["minute"] : family.prefix == "rollup_feature_model" ? ["6h", "2w"] : []
            for level in extra + ["hour", "day", "week"] {
                let bucket = ["6h": "date_bin('6 hours', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
                              "2w": "date_bin('14 days', ts, TIMESTAMPTZ '1970-01-05 00:00:00+00')"][level] ?? "date_trunc('\(level)', ts, 'UTC')"
                if family.sketch {
                    try compare("\(family.prefix)_\(level)",
                                raw: """
                                    SELECT project_id, \(bucket), \(family.rawKeys), m.metric, tm_sketch_index(m.value), count(*)
                                    FROM events CROSS JOIN LATERAL (VALUES (0::smallint, latency_ms), (1::smallint, ttft_ms)) AS m (metric, value)
                                    WHERE m.value IS NOT NULL GROUP BY 1, 2, 3, 4, 5
                                    """,
                                stored: "SELECT project_id, bucket, \(family.storedKeys), metric, idx, sum(count) FROM \(family.prefix)_\(level) GROUP BY 1, 2, 3, 4, 5")
                } else {
                    let positions = (1...(family.storedKeys.split(separator: ",").count + 2)).map(String.init).joined(separator: ", ")
                    try compare("\(family.prefix)_\(level)",
                                raw: "SELECT project_id, \(bucket), \(family.rawKeys), \(family.raw) FROM events GROUP BY \(positions)",
                                stored: "SELECT project_id, bucket, \(family.storedKeys), \(family.stored) FROM \(family.prefix)_\(level) GROUP BY \(positions)")
                }
            }
        }
        return mismatches
    }
}

extension JSONValue {
    /// A number member as its literal text ("0.00021"), for exact money comparisons.
    func text(_ key: String) -> String? { self[key]?.numberValue?.text }
    func int(_ key: String) -> Int64? { self[key]?.int64Value }
    func double(_ key: String) -> Double? { self[key]?.doubleValue }
    func string(_ key: String) -> String? { self[key]?.stringValue }
}

/// The same decimal, whatever its spelling ("0.50" and "0.5").
func sameDecimal(_ a: String?, _ b: String?) -> Bool {
    guard let a, let b, let x = Decimal(string: a), let y = Decimal(string: b) else { return a == b }
    return x == y
}
