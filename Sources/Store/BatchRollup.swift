import Foundation
import TokenmeterCore

/// The rollup cells of a batch of newly stored events, aggregated in Swift.
///
/// Aggregating 2,500 events into ~50 usage cells, ~2,500 user cells and ~3,000 sketch cells took
/// Postgres 30–45 ms of executor time per batch, as much as inserting the events; here it is a
/// fraction of a millisecond. The writer aggregates only the events Postgres reported as newly
/// inserted, so a re-sent event is never counted twice. Every figure is defined exactly as the raw
/// event columns read by the query side (see `PostgresEventWriter.rollupAggregates`).
struct BatchRollup {
    /// The key of a usage cell; '' stands for an absent dimension, as in the rollup tables.
    struct UsageKey: Hashable {
        var project: Int64
        var minute: Int64
        var feature, model, provider, environment, status, stepType: String
    }

    struct UserKey: Hashable {
        var project: Int64
        var hour: Int64
        var user, feature, model, environment: String
    }

    struct SketchKey: Hashable {
        var feature, model, provider, environment: String
        var metric: Int16
        var index: Int
    }

    /// The pending rows of one (project, bucket): its cells in insertion order.
    struct PendingKey: Hashable {
        var project: Int64
        var bucket: Int64
    }

    struct Sums {
        var calls: Int64 = 0
        var tokensIn: Int64 = 0
        var tokensOut: Int64 = 0
        var cachedTokens: Int64 = 0
        var cacheWriteTokens: Int64 = 0
        var costPico: Int128 = 0
        var unpricedCalls: Int64 = 0
        var errors: Int64 = 0
        var retries: Int64 = 0
        var fallbacks: Int64 = 0
        var cacheHits: Int64 = 0
        var latencySumMs: Double = 0
        var latencyCount: Int64 = 0
        var cacheSavingsPico: Int128 = 0
        var missCalls: Int64 = 0
        var missPricedCalls: Int64 = 0
        var missCostPico: Int128 = 0
        var ttftSumMs: Double = 0
        var ttftCount: Int64 = 0

        mutating func add(_ e: Event) {
            calls += 1
            tokensIn += e.usage.input
            tokensOut += e.usage.output
            cachedTokens += e.usage.cachedInput
            cacheWriteTokens += e.usage.cacheWrite
            if let cost = e.cost { costPico += Int128(cost.picodollars) } else { unpricedCalls += 1 }
            if e.status == .error { errors += 1 }
            retries += Int64(e.retries)
            if e.fallbackTriggered { fallbacks += 1 }
            if e.cacheHit { cacheHits += 1 }
            if let latency = e.latencyMs { latencySumMs += latency; latencyCount += 1 }
            if let savings = e.cacheSavings { cacheSavingsPico += Int128(savings.picodollars) }
            if !e.cacheHit {
                missCalls += 1
                if let cost = e.cost { missPricedCalls += 1; missCostPico += Int128(cost.picodollars) }
            }
            if let ttft = e.ttftMs { ttftSumMs += ttft; ttftCount += 1 }
        }

        /// The columns of `PostgresEventWriter.rollupAggregates`, in its order, as COPY text.
        var usageFields: [String] {
            userFields + [String(latencySumMs), String(latencyCount), String(cacheSavingsPico), String(missCalls),
                          String(missPricedCalls), String(missCostPico), String(ttftSumMs), String(ttftCount)]
        }

        /// The columns of `PostgresEventWriter.userAggregates`, in its order.
        var userFields: [String] {
            [String(calls), String(tokensIn), String(tokensOut), String(cachedTokens), String(cacheWriteTokens), String(costPico),
             String(unpricedCalls), String(errors), String(retries), String(fallbacks), String(cacheHits)]
        }
    }

    private(set) var usage: [UsageKey: Sums] = [:]
    private(set) var users: [UserKey: Sums] = [:]
    private(set) var userOrder: [PendingKey: [UserKey]] = [:]
    private(set) var sketches: [PendingKey: [SketchKey: Int64]] = [:]
    private(set) var sketchOrder: [PendingKey: [SketchKey]] = [:]

    init(_ batch: some Sequence<ProjectEvent>) {
        for item in batch { add(item) }
    }

    /// Microseconds since the epoch, rounded as the event's timestamp is written to Postgres.
    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// The start of the `seconds`-long bucket holding `micros`, in seconds since the epoch.
    static func bucket(_ micros: Int64, seconds: Int64) -> Int64 {
        let unit = seconds * 1_000_000
        let floored = micros >= 0 ? micros / unit : (micros - unit + 1) / unit
        return floored * seconds
    }

    private mutating func add(_ item: ProjectEvent) {
        let e = item.event
        let project = item.project.rawValue
        let micros = BatchRollup.micros(e.timestamp)
        let minute = BatchRollup.bucket(micros, seconds: 60)
        let hour = BatchRollup.bucket(micros, seconds: 3600)
        let feature = e.feature ?? "", model = e.model ?? "", provider = e.provider ?? "", environment = e.environment ?? ""

        usage[UsageKey(project: project, minute: minute, feature: feature, model: model, provider: provider, environment: environment,
                       status: e.status.rawValue, stepType: e.stepType ?? ""), default: Sums()].add(e)

        let userKey = UserKey(project: project, hour: hour, user: e.userID ?? "", feature: feature, model: model, environment: environment)
        if users[userKey] == nil { userOrder[PendingKey(project: project, bucket: hour), default: []].append(userKey) }
        users[userKey, default: Sums()].add(e)

        let pending = PendingKey(project: project, bucket: minute)
        for (metric, value) in [(Int16(0), e.latencyMs), (Int16(1), e.ttftMs)] {
            guard let value else { continue }
            let key = SketchKey(feature: feature, model: model, provider: provider, environment: environment, metric: metric,
                                index: LatencySketch.index(of: value))
            if sketches[pending, default: [:]][key] == nil { sketchOrder[pending, default: []].append(key) }
            sketches[pending, default: [:]][key, default: 0] += 1
        }
    }

    // MARK: - Rows for COPY

    /// Rows of the usage staging table: project_id, bucket, the six dimensions, then the aggregates.
    var usageRows: [[String?]] {
        usage.map { key, sums in
            [String(key.project), Timestamp.rfc3339(Date(timeIntervalSince1970: Double(key.minute))), key.feature, key.model, key.provider,
             key.environment, key.status, key.stepType] + sums.usageFields
        }
    }

    /// Rows of `rollup_user_pending` (without id): project_id, bucket, then one array per column.
    var userPendingRows: [[String?]] {
        userOrder.map { pending, keys in
            let sums = keys.map { users[$0]! }
            var row: [String?] = [String(pending.project), Timestamp.rfc3339(Date(timeIntervalSince1970: Double(pending.bucket)))]
            row += [keys.map(\.user), keys.map(\.feature), keys.map(\.model), keys.map(\.environment)].map(BatchRollup.textArray)
            let fields = sums.map(\.userFields)
            for column in 0..<(fields.first?.count ?? 0) { row.append(BatchRollup.plainArray(fields.map { $0[column] })) }
            return row
        }
    }

    /// Rows of `sketch_pending` (without id): project_id, bucket, then one array per column.
    var sketchPendingRows: [[String?]] {
        sketchOrder.map { pending, keys in
            let counts = sketches[pending]!
            var row: [String?] = [String(pending.project), Timestamp.rfc3339(Date(timeIntervalSince1970: Double(pending.bucket)))]
            row += [keys.map(\.feature), keys.map(\.model), keys.map(\.provider), keys.map(\.environment)].map(BatchRollup.textArray)
            row.append(BatchRollup.plainArray(keys.map { String($0.metric) }))
            row.append(BatchRollup.plainArray(keys.map { String($0.index) }))
            row.append(BatchRollup.plainArray(keys.map { String(counts[$0]!) }))
            return row
        }
    }

    /// A Postgres array literal of strings, every element quoted (so '' and NULL-like words stay text).
    static func textArray(_ values: [String]) -> String {
        var out = "{"
        out.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            if value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for scalar in value.unicodeScalars {
                    if scalar == "\"" || scalar == "\\" { out += "\\" }
                    out.unicodeScalars.append(scalar)
                }
            } else {
                out += value
            }
            out += "\""
        }
        return out + "}"
    }

    /// A Postgres array literal of numbers.
    static func plainArray(_ values: [String]) -> String { "{" + values.joined(separator: ",") + "}" }
}
