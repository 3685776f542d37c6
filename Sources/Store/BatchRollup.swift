import Foundation
import TokenmeterCore

/// The rollup cells of a batch of newly stored events, aggregated in Swift, as rows of the pending
/// tables (one row per project and bucket, the cells side by side in arrays; see `PendingRollup`).
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
        var minute: Int64
        var user, feature, model, environment: String
    }

    struct SketchKey: Hashable {
        var project: Int64
        var minute: Int64
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
        var providerCacheHits: Int64 = 0
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
            if e.usage.cachedInput > 0 { providerCacheHits += 1 }
            if let latency = e.latencyMs { latencySumMs += latency; latencyCount += 1 }
            if let savings = e.cacheSavings { cacheSavingsPico += Int128(savings.picodollars) }
            if !e.cacheHit {
                missCalls += 1
                if let cost = e.cost { missPricedCalls += 1; missCostPico += Int128(cost.picodollars) }
            }
            if let ttft = e.ttftMs { ttftSumMs += ttft; ttftCount += 1 }
        }

        /// The columns of `PostgresEventWriter.userAggregates`, in its order, as array elements.
        static let userColumns: [@Sendable (Sums) -> String] = [
            { String($0.calls) }, { String($0.tokensIn) }, { String($0.tokensOut) }, { String($0.cachedTokens) },
            { String($0.cacheWriteTokens) }, { String($0.costPico) }, { String($0.unpricedCalls) }, { String($0.errors) },
            { String($0.retries) }, { String($0.fallbacks) }, { String($0.cacheHits) },
            { String($0.providerCacheHits) },
        ]

        /// The columns of `PostgresEventWriter.rollupAggregates`, in its order.
        static let usageColumns: [@Sendable (Sums) -> String] = userColumns + [
            { String($0.latencySumMs) }, { String($0.latencyCount) }, { String($0.cacheSavingsPico) }, { String($0.missCalls) },
            { String($0.missPricedCalls) }, { String($0.missCostPico) }, { String($0.ttftSumMs) }, { String($0.ttftCount) },
        ]
    }

    /// Cells of one family (every key holds its project and bucket): the sums of each key, and per pending row (project, bucket) the keys in
    /// the order they first appeared, which becomes the element order of the row's arrays.
    struct Cells<Key: Hashable, Value> {
        private(set) var values: [Key: Value] = [:]
        private(set) var order: [PendingKey: [Key]] = [:]

        mutating func update(_ key: Key, in row: PendingKey, initial: Value, _ change: (inout Value) -> Void) {
            if values[key] == nil { order[row, default: []].append(key) }
            change(&values[key, default: initial])
        }

        /// One COPY row per pending row: project_id, bucket, then one array literal per column of
        /// `textColumns` (quoted) and of `numberColumns`, built column by column from the row's cells
        /// (no per-cell arrays: this runs for every ingested event).
        func rows(textColumns: [(Key) -> String], numberColumns: [(Key, Value) -> String]) -> [[String?]] {
            order.map { row, keys in
                let cells = keys.map { ($0, values[$0]!) }
                var out: [String?] = [String(row.project), Timestamp.rfc3339(Date(timeIntervalSince1970: Double(row.bucket)))]
                out.reserveCapacity(2 + textColumns.count + numberColumns.count)
                for column in textColumns { out.append(BatchRollup.textArray(cells.map { column($0.0) })) }
                for column in numberColumns {
                    var literal = "{"
                    literal.reserveCapacity(cells.count * 6 + 2)
                    for (i, cell) in cells.enumerated() {
                        if i > 0 { literal += "," }
                        literal += column(cell.0, cell.1)
                    }
                    out.append(literal + "}")
                }
                return out
            }
        }
    }

    private(set) var usage = Cells<UsageKey, Sums>()
    private(set) var users = Cells<UserKey, Sums>()
    private(set) var sketches = Cells<SketchKey, Int64>()

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
        let minute = PendingKey(project: project, bucket: BatchRollup.bucket(micros, seconds: 60))
        let feature = e.feature ?? "", model = e.model ?? "", provider = e.provider ?? "", environment = e.environment ?? ""

        let usageKey = UsageKey(project: project, minute: minute.bucket, feature: feature, model: model, provider: provider,
                                environment: environment, status: e.status.rawValue, stepType: e.stepType ?? "")
        usage.update(usageKey, in: minute, initial: Sums()) { $0.add(e) }
        let userKey = UserKey(project: project, minute: minute.bucket, user: e.userID ?? "", feature: feature, model: model, environment: environment)
        users.update(userKey, in: minute, initial: Sums()) { $0.add(e) }
        for (metric, value) in [(Int16(0), e.latencyMs), (Int16(1), e.ttftMs)] {
            guard let value else { continue }
            let key = SketchKey(project: project, minute: minute.bucket, feature: feature, model: model, provider: provider, environment: environment, metric: metric,
                                index: LatencySketch.index(of: value))
            sketches.update(key, in: minute, initial: 0) { $0 += 1 }
        }
    }

    // MARK: - Rows for COPY into the pending tables (columns as in `PendingRollup`)

    var usagePendingRows: [[String?]] {
        usage.rows(textColumns: [{ $0.feature }, { $0.model }, { $0.provider }, { $0.environment }, { $0.status }, { $0.stepType }],
                   numberColumns: Sums.usageColumns.map { column in { column($1) } })
    }

    var userPendingRows: [[String?]] {
        users.rows(textColumns: [{ $0.user }, { $0.feature }, { $0.model }, { $0.environment }],
                   numberColumns: Sums.userColumns.map { column in { column($1) } })
    }

    var sketchPendingRows: [[String?]] {
        sketches.rows(textColumns: [{ $0.feature }, { $0.model }, { $0.provider }, { $0.environment }],
                      numberColumns: [{ key, _ in String(key.metric) }, { key, _ in String(key.index) }, { _, count in String(count) }])
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
