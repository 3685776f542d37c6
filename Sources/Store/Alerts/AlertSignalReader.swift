import Detection
import Foundation
import Postgres
import TokenmeterCore

/// Loads what the detectors judge, for one project, as Detection's value types: closed-minute
/// series per scope (project, each feature, each model) from `rollup_minute` and `sketch_minute`,
/// hourly totals from `rollup_hour`, 10-second call samples, expensive requests and agent traces
/// from recent raw events. Every query is bounded by time and by project.
public struct AlertSignalReader: Sendable {
    /// Minutes of per-minute history loaded for the series detectors. Default 15 days: the
    /// same-minute-of-week baseline needs two weeks plus the longest window. With 3 days only
    /// the minute-of-day baseline applied, and a Monday was compared with the weekend
    /// (bench/anomaly: 4 false spend spikes in 7 h on a clean series). The evaluator keeps
    /// the series between rounds (``MinuteHistory`` in App), so the full load happens once
    /// per project and process; then only the last minutes are read again.
    public var historyMinutes: Int
    /// Minutes of latency/TTFT sketches loaded with it: the latency rule's minute-of-day
    /// baseline needs 2 days; sketches are ~10 rows per scope-minute, the bulk of a load.
    /// Older minutes carry counts only (their latency windows read as unknown).
    public var sketchHistoryMinutes = 3 * Minutes.perDay
    /// Days of hourly history for the hourly-cost rule (7 days of the same hour + the last hour).
    public var hourlyHistoryDays = 8
    /// Traces with a step in this window are judged for runaway loops.
    public var traceWindow: TimeInterval = 30 * 60
    /// Steps in `traceWindow` a trace needs to be judged at all (far below any runaway threshold).
    public var traceMinimumSteps = 10
    /// Candidates are the traces still stepping: at least `traceActiveSteps` steps in the last
    /// `traceActiveWindow`. Counting every trace's steps over all of `traceWindow` each round read
    /// half an hour of events a minute: 15 s and more of Postgres per round at 20k events/s.
    /// A loop that takes a step less often than every 90 s is not found (it would need over an
    /// hour to pass the 50-step cap).
    public var traceActiveWindow: TimeInterval = 3 * 60
    public var traceActiveSteps = 2
    /// At most this many traces per project and round (the busiest of the last minutes).
    public var traceLimit = 200
    /// A feature's trace norm (p99 steps, p95 cost) comes from its traces of this many days
    /// before the last hour (a trace still running must not pull its own norm up)...
    public var traceNormDays: Double = 7
    /// ...and only once it has this many of them: fewer say little about its p99.
    public var traceNormMinimumTraces = 20

    public init(historyMinutes: Int = 15 * Minutes.perDay) {
        self.historyMinutes = historyMinutes
    }

    /// Projects worth evaluating at `now`: traffic in the last day, a budget, or a live alert.
    public static func activeProjects(now: Date, on connection: PostgresConnection) throws -> [ProjectID] {
        try connection.query("""
            SELECT project_id FROM rollup_hour WHERE bucket >= \(now.addingTimeInterval(-86_400))
            UNION SELECT project_id FROM budgets
            UNION SELECT project_id FROM alert_instances WHERE state <> 'resolved'
            ORDER BY 1
            """).rows.map { ProjectID(try $0.decode(Int64.self, column: "project_id")) }
    }

    /// Per-minute series of the project, each feature and each model, over the `historyMinutes`
    /// before the minute containing `watermark`; with `loadingFrom`, only the minutes from there
    /// on are read (a caller keeping the older ones merges them), `since` still describes the
    /// whole history.
    public func minuteSeries(project: ProjectID, watermark: Date, loadingFrom: Int? = nil,
                             on connection: PostgresConnection) throws -> [MinuteSeries] {
        let end = Minutes.of(watermark)
        let history = end - historyMinutes
        let start = min(max(history, loadingFrom ?? history), end)
        let width = end - start
        let from = Minutes.date(start), to = Minutes.date(end)
        let since = max(history, try Self.firstMinute(project: project, on: connection) ?? end)

        // One array of minutes per scope, indexed by scope then minute offset: rows are folded
        // in place (nested dictionaries would copy a scope's whole history on every write).
        var scopes: [Scope] = [Scope(project: project)]
        var scopeIndex: [Scope: Int] = [scopes[0]: 0]
        var indicesByKey: [String: [Int]] = [:]
        var buckets: [[MinuteBucket?]] = [Array(repeating: nil, count: width)]
        func indices(feature: String, model: String) -> [Int] {
            let key = feature + "\u{1F}" + model
            if let known = indicesByKey[key] { return known }
            var result = [0]
            for scope in [feature.isEmpty ? nil : scopes[0].adding("feature", feature),
                          model.isEmpty ? nil : scopes[0].adding("model", model)].compactMap({ $0 }) {
                if let index = scopeIndex[scope] { result.append(index); continue }
                scopeIndex[scope] = scopes.count
                result.append(scopes.count)
                scopes.append(scope)
                buckets.append(Array(repeating: nil, count: width))
            }
            indicesByKey[key] = result
            return result
        }
        for row in try connection.query("""
            SELECT bucket, feature, model, sum(calls)::bigint AS calls, sum(cost_pico)::bigint AS cost,
                   sum(tokens_in + tokens_out)::bigint AS tokens, sum(errors)::bigint AS errors,
                   sum(retries)::bigint AS retries, sum(fallbacks)::bigint AS fallbacks
            FROM rollup_minute WHERE project_id = \(project.rawValue) AND bucket >= \(from) AND bucket < \(to)
            GROUP BY bucket, feature, model
            """).rows {
            let minute = Minutes.of(try row.decode(Date.self, column: "bucket"))
            guard (start..<end).contains(minute) else { continue }
            let calls: Int = try row.decode(column: "calls"), cost = Money(picodollars: try row.decode(Int64.self, column: "cost"))
            let tokens: Int64 = try row.decode(column: "tokens"), errors: Int = try row.decode(column: "errors")
            let retries: Int = try row.decode(column: "retries"), fallbacks: Int = try row.decode(column: "fallbacks")
            for index in indices(feature: try row.decode(column: "feature"), model: try row.decode(column: "model")) {
                var bucket = buckets[index][minute - start] ?? MinuteBucket(minute: minute)
                bucket.calls += calls
                bucket.cost = bucket.cost + cost
                bucket.tokens += tokens
                bucket.errors += errors
                bucket.retries += retries
                bucket.fallbacks += fallbacks
                buckets[index][minute - start] = bucket
            }
        }
        // Latency and TTFT histograms per minute: windows then get an exact p95 by merging.
        var sketches: [[(latency: LatencySketch?, ttft: LatencySketch?)]] =
            Array(repeating: Array(repeating: (nil, nil), count: width), count: scopes.count)
        let sketchFrom = Minutes.date(max(start, end - sketchHistoryMinutes))
        for row in try connection.query("""
            SELECT bucket, feature, model, metric, idx, sum(count)::bigint AS n
            FROM sketch_minute WHERE project_id = \(project.rawValue) AND bucket >= \(sketchFrom) AND bucket < \(to)
            GROUP BY bucket, feature, model, metric, idx
            """).rows {
            let minute = Minutes.of(try row.decode(Date.self, column: "bucket"))
            guard (start..<end).contains(minute) else { continue }
            let metric = try row.decode(Int.self, column: "metric")
            let index = try row.decode(Int.self, column: "idx"), count = try row.decode(Int64.self, column: "n")
            for scope in indices(feature: try row.decode(column: "feature"), model: try row.decode(column: "model")) where scope < sketches.count {
                if metric == 0 {
                    if sketches[scope][minute - start].latency == nil { sketches[scope][minute - start].latency = LatencySketch() }
                    sketches[scope][minute - start].latency!.add(index: index, count: count)
                } else {
                    if sketches[scope][minute - start].ttft == nil { sketches[scope][minute - start].ttft = LatencySketch() }
                    sketches[scope][minute - start].ttft!.add(index: index, count: count)
                }
            }
        }
        return scopes.indices.map { index in
            var present: [MinuteBucket] = []
            for offset in 0..<width {
                guard var bucket = buckets[index][offset] else { continue }
                if index < sketches.count {
                    bucket.latencySketch = sketches[index][offset].latency
                    bucket.ttftSketch = sketches[index][offset].ttft
                }
                present.append(bucket)
            }
            return MinuteSeries(scope: scopes[index], since: since, buckets: present)
        }.sorted { $0.scope.description < $1.scope.description }
    }

    /// The minute of the project's first event: silence after it is zero traffic, before it
    /// unknown (a baseline must not average in the hours before a project existed). The day
    /// rollup finds the day, the minute rollup the minute within it.
    static func firstMinute(project: ProjectID, on connection: PostgresConnection) throws -> Int? {
        try connection.query("""
            WITH first_day AS (SELECT min(bucket) AS day FROM rollup_day WHERE project_id = \(project.rawValue))
            SELECT min(m.bucket) AS first FROM rollup_minute m, first_day d
            WHERE m.project_id = \(project.rawValue) AND m.bucket >= d.day AND m.bucket < d.day + interval '1 day'
            """).rows.first?.decode(Date?.self, column: "first").map { Minutes.of($0) }
    }

    /// The project's cost per hour over the last days, as a minute series holding each hour's
    /// totals in its first minute (what ``HourlyCost`` sums over 60-minute spans).
    public func hourlySeries(project: ProjectID, watermark: Date, on connection: PostgresConnection) throws -> MinuteSeries {
        let end = Minutes.of(watermark) / Minutes.perHour * Minutes.perHour
        let start = end - hourlyHistoryDays * Minutes.perDay
        let first = try Self.firstMinute(project: project, on: connection)
        let buckets = try connection.query("""
            SELECT bucket, sum(calls)::bigint AS calls, sum(cost_pico)::bigint AS cost
            FROM rollup_hour WHERE project_id = \(project.rawValue) AND bucket >= \(Minutes.date(start)) AND bucket < \(Minutes.date(end))
            GROUP BY bucket
            """).rows.map { row in
            MinuteBucket(minute: Minutes.of(try row.decode(Date.self, column: "bucket")), calls: try row.decode(column: "calls"),
                         cost: Money(picodollars: try row.decode(Int64.self, column: "cost")))
        }
        // Hours before the project's first event are unknown, not zero.
        let since = max(start, first.map { $0 / Minutes.perHour * Minutes.perHour } ?? end)
        return MinuteSeries(scope: Scope(project: project), since: since, buckets: buckets)
    }

    /// Calls, errors and retries over `[end − window, end)` from raw events, one sample per
    /// scope (project, each feature, each model): the error-surge and retry-storm rules judge
    /// the freshest minute with it instead of the last closed rollup minute. Requests are
    /// distinct traces (or request ids outside a trace), counted exactly over the window.
    public func recentActivity(project: ProjectID, end: Date, window: TimeInterval,
                               on connection: PostgresConnection) throws -> [Scope: CallSample] {
        let from = end.addingTimeInterval(-window)
        let projectScope = Scope(project: project)
        var samples: [Scope: CallSample] = [:]
        // Each request's calls first, hashed by (scope, request): three COUNT(DISTINCT …) over
        // grouping sets sorted a minute of events three times (7 s a round at 14k events/s).
        // The hash tables need memory beyond the default 4 MB at such rates.
        _ = try connection.query("SET LOCAL work_mem = '128MB'")
        for row in try connection.query("""
            WITH per_request AS (
                SELECT grouping(feature)::int AS by_feature, grouping(model)::int AS by_model,
                       coalesce(feature, '') AS feature, coalesce(model, '') AS model,
                       coalesce(trace_id, request_id) AS request,
                       count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors,
                       coalesce(sum(retries), 0) AS retries,
                       count(*) FILTER (WHERE http_status = 429) AS http429,
                       count(*) FILTER (WHERE http_status >= 500) AS http5xx,
                       count(*) FILTER (WHERE fallback_triggered) AS fallbacks
                FROM events WHERE project_id = \(project.rawValue) AND ts >= \(from) AND ts < \(end)
                GROUP BY GROUPING SETS ((coalesce(trace_id, request_id)), (feature, coalesce(trace_id, request_id)),
                                        (model, coalesce(trace_id, request_id))))
            SELECT by_feature, by_model, feature, model,
                   sum(calls)::bigint AS calls, sum(errors)::bigint AS errors,
                   count(request)::bigint AS requests, count(request) FILTER (WHERE errors > 0)::bigint AS failed_requests,
                   sum(retries)::bigint AS retries, count(request) FILTER (WHERE retries > 0)::bigint AS retrying_requests,
                   sum(http429)::bigint AS http429, sum(http5xx)::bigint AS http5xx, sum(fallbacks)::bigint AS fallbacks
            FROM per_request GROUP BY by_feature, by_model, feature, model
            """).rows {
            // grouping() is 0 for a column the set groups by, 1 for one it rolls up.
            let byFeature = try row.decode(Int.self, column: "by_feature") == 0
            let byModel = try row.decode(Int.self, column: "by_model") == 0
            let feature: String = try row.decode(column: "feature"), model: String = try row.decode(column: "model")
            let scope: Scope
            if byFeature {
                guard !feature.isEmpty else { continue }
                scope = projectScope.adding("feature", feature)
            } else if byModel {
                guard !model.isEmpty else { continue }
                scope = projectScope.adding("model", model)
            } else {
                scope = projectScope
            }
            samples[scope] = CallSample(
                start: from, seconds: window, calls: try row.decode(Int.self, column: "calls"),
                errors: try row.decode(Int.self, column: "errors"), requests: try row.decode(Int.self, column: "requests"),
                failedRequests: try row.decode(Int.self, column: "failed_requests"), retries: try row.decode(Int.self, column: "retries"),
                retryingRequests: try row.decode(Int.self, column: "retrying_requests"),
                http429: try row.decode(Int.self, column: "http429"), http5xx: try row.decode(Int.self, column: "http5xx"),
                fallbacks: try row.decode(Int.self, column: "fallbacks"))
        }
        return samples
    }

    /// Requests over `threshold` in the `window` before `watermark` (the costliest 100).
    public func expensiveRequests(project: ProjectID, watermark: Date, window: TimeInterval, threshold: Money,
                                  on connection: PostgresConnection) throws -> [RequestCost] {
        try connection.query("""
            SELECT request_id, cost_pico, ts FROM events
            WHERE project_id = \(project.rawValue) AND ts >= \(watermark.addingTimeInterval(-window)) AND ts < \(watermark)
              AND cost_pico > \(threshold.picodollars)
            ORDER BY cost_pico DESC LIMIT 100
            """).rows.map { row in
            RequestCost(scope: Scope(project: project), requestID: try row.decode(column: "request_id"),
                        cost: Money(picodollars: try row.decode(Int64.self, column: "cost_pico")), at: try row.decode(column: "ts"))
        }
    }

    /// Agent traces still stepping (see `traceActiveWindow`) with at least `traceMinimumSteps`
    /// steps in the last `traceWindow`, with their steps of the last 6 hours up to `watermark`. A
    /// step's tool call counts toward "same tool, same input" only when its input text is stored
    /// (hashed here); without it repetition cannot be told.
    public func traces(project: ProjectID, watermark: Date, on connection: PostgresConnection) throws -> [TraceView] {
        let rows = try connection.query("""
            WITH active AS (
                SELECT trace_id FROM events
                WHERE project_id = \(project.rawValue) AND trace_id IS NOT NULL
                  AND ts >= \(watermark.addingTimeInterval(-traceActiveWindow)) AND ts < \(watermark)
                GROUP BY trace_id HAVING count(*) >= \(traceActiveSteps)
                ORDER BY count(*) DESC, trace_id LIMIT \(traceLimit))
            SELECT e.trace_id, coalesce(e.feature, '') AS feature, e.ts, e.tool_name, coalesce(e.cost_pico, 0) AS cost_pico,
                   coalesce(e.terminated_early, false) AS terminated, md5(t.tool_input) AS input_hash
            FROM events e JOIN active b ON b.trace_id = e.trace_id
            LEFT JOIN event_texts t ON t.project_id = e.project_id AND t.event_id = e.event_id
            WHERE e.project_id = \(project.rawValue) AND e.ts >= \(watermark.addingTimeInterval(-6 * 3600)) AND e.ts < \(watermark)
            ORDER BY e.trace_id, e.ts
            """).rows
        var traces: [String: TraceView] = [:]
        for row in rows {
            let id: String = try row.decode(column: "trace_id")
            let feature: String = try row.decode(column: "feature")
            let inputHash: String? = try row.decode(column: "input_hash")
            let tool: String? = inputHash == nil ? nil : try row.decode(column: "tool_name")
            var trace = traces[id] ?? TraceView(scope: feature.isEmpty ? Scope(project: project) : Scope(project: project).adding("feature", feature),
                                                traceID: id, steps: [])
            trace.steps.append(TraceStep(at: try row.decode(column: "ts"), toolName: tool, inputHash: inputHash,
                                         cost: Money(picodollars: try row.decode(Int64.self, column: "cost_pico"))))
            if try row.decode(Bool.self, column: "terminated") { trace.terminatedEarly = true }
            traces[id] = trace
        }
        let windowStart = watermark.addingTimeInterval(-traceWindow)
        return traces.values
            .filter { trace in trace.steps.lazy.filter { $0.at >= windowStart }.count >= traceMinimumSteps }
            .sorted { $0.traceID < $1.traceID }
    }

    /// What is normal for each feature's agent traces (keyed by feature, '' for traces without
    /// one): the p99 of their step counts and the p95 of their cost. A trace is grouped under
    /// each feature its steps name.
    public func traceNorms(project: ProjectID, watermark: Date, on connection: PostgresConnection) throws -> [String: TraceNorm] {
        let end = watermark.addingTimeInterval(-3600)
        let rows = try connection.query("""
            WITH traces AS (
                SELECT coalesce(feature, '') AS feature, trace_id, count(*) AS steps, coalesce(sum(cost_pico), 0) AS cost_pico
                FROM events
                WHERE project_id = \(project.rawValue) AND trace_id IS NOT NULL
                  AND ts >= \(end.addingTimeInterval(-traceNormDays * 86_400)) AND ts < \(end)
                GROUP BY 1, 2)
            SELECT feature, percentile_disc(0.99) WITHIN GROUP (ORDER BY steps) AS p99_steps,
                   percentile_disc(0.95) WITHIN GROUP (ORDER BY cost_pico)::bigint AS p95_cost_pico
            FROM traces GROUP BY feature HAVING count(*) >= \(Int64(traceNormMinimumTraces))
            """).rows
        var norms: [String: TraceNorm] = [:]
        for row in rows {
            norms[try row.decode(String.self, column: "feature")] = TraceNorm(
                p99Steps: Double(try row.decode(Int64.self, column: "p99_steps")),
                p95Cost: Money(picodollars: try row.decode(Int64.self, column: "p95_cost_pico")))
        }
        return norms
    }
}
