import Foundation
import Postgres
import TokenmeterCore

/// Latency and TTFT percentiles: sketches merged over the pieces of the range.
///
/// Every statement answers rows of (bucket, group, `idx` array, `n` array): one sketch per row, its
/// bucket indexes ascending. The packed families (migration 0013) store exactly such rows, so a
/// 30-day range by model reads a few hundred rows instead of ~160k (bucket, index) cells; the wide
/// family, raw ends and pending rows are summed per index in SQL and packed the same way. The rows
/// arrive sorted by bucket and group, and Swift merges consecutive rows of one group.
extension PostgresUsageReader {
    public func latency(_ query: UsageQuery, metric: LatencyMetric) throws -> [LatencyRow] {
        let sql = PostgresUsageReader.latencySQL(query, metric: metric)
        return try storage {
            try pool.withConnection { connection in
                var rows: [LatencyRow] = []
                var current: (bucket: Int64?, key: [String?])?
                var merged = SketchCells()
                func finish() {
                    guard !rows.isEmpty else { return }
                    rows[rows.count - 1].sketch = merged.sketch()
                    merged = SketchCells()
                }
                for row in try connection.query(sql).rows {
                    let bucket: Int64? = query.interval == .none ? nil : try row.decode(Int64.self, column: "bucket_epoch")
                    let key = query.groupBy.map { row[PostgresUsageReader.column($0)] }
                    if current == nil || current!.bucket != bucket || current!.key != key {
                        finish()
                        var dimensions: [UsageDimension: String?] = [:]
                        for (i, dimension) in query.groupBy.enumerated() { dimensions[dimension] = key[i] }
                        rows.append(LatencyRow(bucket: bucket.map { Date(timeIntervalSince1970: Double($0)) }, dimensions: dimensions, sketch: LatencySketch()))
                        current = (bucket, key)
                    }
                    guard let indexes = SketchCells.integers(inArray: try row.decode(String.self, column: "idx")),
                          let counts = SketchCells.integers(inArray: try row.decode(String.self, column: "n")),
                          indexes.count == counts.count else {
                        throw PostgresError.decode(column: "idx, n", type: "sketch arrays", value: nil)
                    }
                    merged.add(indexes: indexes, counts: counts, sign: try row.decode(Int64.self, column: "sign"))
                }
                finish()
                // A group whose events all lay in a subtracted piece nets out to nothing: no row, as from raw events.
                return rows.filter { $0.sketch.count > 0 }
            }
        }
    }

    static func latencySQL(_ query: UsageQuery, metric: LatencyMetric) -> PostgresQuery {
        var binder = Binder()
        var sketchQuery = query
        sketchQuery.top = nil
        let source = pickSource(query, candidates: [sketchesByModel, sketchesByFeature, sketches])
        let metricValue = binder.bind(.int(metric == .latency ? 0 : 1))
        let pieces: [String]
        if let source, source.packed {
            pieces = packedLatencyPieces(sketchQuery, source: source, metric: metric, metricValue: metricValue, binder: &binder)
        } else {
            pieces = [cellLatencyPiece(sketchQuery, source: source, metric: metric, metricValue: metricValue, binder: &binder)]
        }
        var order: [String] = query.interval == .none ? [] : ["bucket_epoch"]
        order += query.groupBy.map { "\(column($0)) NULLS FIRST" }
        var sql = "SELECT * FROM (\(pieces.joined(separator: " UNION ALL "))) AS s"
        if !order.isEmpty { sql += " ORDER BY \(order.joined(separator: ", "))" }
        return PostgresQuery(sql: sql, binds: binder.binds)
    }

    /// The output columns of every piece before the arrays: the bucket (when bucketed) and the groups.
    private static func groupColumns(_ query: UsageQuery) -> [String] {
        (query.interval == .none ? [] : ["bucket_epoch"]) + query.groupBy.map(column)
    }

    /// Packs the (group…, idx, n) cells `sql` answers into one row of arrays per group, counted with `sign`.
    private static func packing(_ sql: String, _ query: UsageQuery, sign: Int = 1) -> String {
        let groups = groupColumns(query)
        var packed = "SELECT \((groups + ["array_agg(idx ORDER BY idx) AS idx", "array_agg(n ORDER BY idx) AS n", "\(sign) AS sign"]).joined(separator: ", ")) FROM (\(sql)) AS c"
        if !groups.isEmpty { packed += " GROUP BY \(groups.joined(separator: ", "))" }
        // Without groups an aggregate over no cells would still answer one row, of NULLs.
        return packed + " HAVING count(*) > 0"
    }

    /// Sketch cells of the range (or of an edge of it) from a per-cell source, wide or minute, and raw
    /// events, packed into arrays.
    private static func cellLatencyPiece(_ query: UsageQuery, source: Source?, metric: LatencyMetric, metricValue: String,
                                         binder: inout Binder) -> String {
        let rawColumn = metric == .latency ? "latency_ms" : "ttft_ms"
        // The sketch tables hold both metrics; the rollup pieces read the one asked for.
        let cells = stitched(query, source: source, binder: &binder, rawFilter: "\(rawColumn) IS NOT NULL", rollupFilter: "metric = \(metricValue)::smallint",
                             innerColumns: { resolution, _ in [resolution == .raw ? "count(*) AS n" : "sum(count) AS n"] },
                             outerColumns: ["sum(n)::bigint AS n"], extraKeys: [("idx", "tm_sketch_index(\(rawColumn))")])
        return packing(cells, query)
    }

    /// The pieces of a packed family: its minute, hour, day and week rows as stored, the pending cells
    /// of the span they cover (the compactor has not folded those yet), and the raw seconds at the ends.
    private static func packedLatencyPieces(_ query: UsageQuery, source: Source, metric: LatencyMetric, metricValue: String,
                                            binder: inout Binder) -> [String] {
        let levels = QueryPlan.levels(interval: query.interval, timeZone: query.timeZone, range: query.range, available: source.levels)
        // Whole minutes and coarser sit together in the middle of the range, all packed (the minutes
        // since migration 0016); only the seconds at its ends come from raw events. A sketch's counts
        // are sums, so an edge may be a coarser row minus the rest of it (`QueryPlan`, subtractive):
        // 02:00–24:00 of a day is its day row minus two hour rows, not 22 hour rows (580 rows of
        // ~150-element arrays for "30 days of p95 by model" instead of ~180; printing the arrays as
        // text was most of the statement's time).
        // The plan covers the whole minutes only: a raw piece subtracted from a minute row would need
        // raw cells counted negatively, so the seconds at the ends are added from raw events instead.
        let rawOnly = source.only([])
        let wholeMinutes = TimeRange(from: Date(timeIntervalSince1970: (query.range.from.timeIntervalSince1970 / 60).rounded(.up) * 60),
                                     to: Date(timeIntervalSince1970: (query.range.to.timeIntervalSince1970 / 60).rounded(.down) * 60))
        // (Without a minute level the plan could subtract raw pieces even there: then it only adds.)
        let middle = !levels.contains(.minute) ? QueryPlan.segments(query.range, levels: levels).filter { $0.resolution >= .minute }
            : wholeMinutes.from < wholeMinutes.to ? QueryPlan.segments(wholeMinutes, levels: levels, subtractive: true) : []
        let coverage = QueryPlan.rollupCoverage(middle)
        guard let start = coverage.first?.from, let end = coverage.last?.to else {
            return [cellLatencyPiece(query, source: rawOnly, metric: metric, metricValue: metricValue, binder: &binder)]
        }
        let project = binder.bind(.int(query.project.rawValue))
        let zone = query.interval == .none ? "" : binder.bind(.text(query.timeZone ?? "UTC"))
        let bucket = query.interval == .none ? [] : ["extract(epoch from date_trunc('\(query.interval.rawValue)', bucket, \(zone)))::bigint AS bucket_epoch"]
        let groups = query.groupBy.map { "NULLIF(\(column($0)), '') AS \(column($0))" }
        var filters = ["metric = \(metricValue)::smallint"]
        for dimension in UsageDimension.allCases {
            guard let value = query.filters[dimension] else { continue }
            filters.append("\(column(dimension)) = \(binder.bind(.text(value)))")
        }
        func conditions(_ from: Date, _ to: Date) -> String {
            (["project_id = \(project)", "bucket >= \(binder.bind(.timestamp(from)))", "bucket < \(binder.bind(.timestamp(to)))"] + filters)
                .joined(separator: " AND ")
        }
        var pieces: [String] = []
        for segment in middle {
            let table = source.tables[segment.resolution]!
            pieces.append("SELECT \((bucket + groups + ["idx", "count AS n", "\(segment.sign) AS sign"]).joined(separator: ", ")) FROM \(table) WHERE \(conditions(segment.from, segment.to))")
        }
        // Pending cells are minute buckets: they count as the middle's pieces count their minutes.
        let pendingGroups = (query.interval == .none ? [] : ["bucket_epoch"]) + query.groupBy.map(column) + ["idx"]
        for span in coverage {
            pieces.append(packing("""
                SELECT \((bucket + groups + ["idx", "sum(count)::bigint AS n"]).joined(separator: ", ")) FROM \(source.pending)
                WHERE \(conditions(span.from, span.to)) GROUP BY \(pendingGroups.joined(separator: ", "))
                """, query, sign: span.sign))
        }
        for (from, to) in [(query.range.from, start), (end, query.range.to)] where from < to {
            var edge = query
            edge.range = TimeRange(from: from, to: to)
            pieces.append(cellLatencyPiece(edge, source: rawOnly, metric: metric, metricValue: metricValue, binder: &binder))
        }
        return pieces
    }
}

/// Sums sketches given as sorted (index, count) arrays, as Postgres prints `integer[]`/`bigint[]`.
struct SketchCells {
    private var indexes: [Int] = []
    private var counts: [Int64] = []

    /// Adds one sketch (indexes ascending) with a linear merge, or subtracts it (`sign` -1: a piece
    /// of a coarser row that lies outside the range).
    mutating func add(indexes more: [Int64], counts: [Int64], sign: Int64 = 1) {
        let moreCounts = sign == 1 ? counts : counts.map { $0 * sign }
        if indexes.isEmpty {
            indexes = more.map { Int($0) }
            self.counts = moreCounts
            return
        }
        var mergedIndexes: [Int] = []
        var mergedCounts: [Int64] = []
        mergedIndexes.reserveCapacity(indexes.count + more.count)
        mergedCounts.reserveCapacity(indexes.count + more.count)
        var i = 0, j = 0
        while i < indexes.count || j < more.count {
            if j == more.count || (i < indexes.count && indexes[i] < Int(more[j])) {
                mergedIndexes.append(indexes[i]); mergedCounts.append(self.counts[i]); i += 1
            } else if i == indexes.count || Int(more[j]) < indexes[i] {
                mergedIndexes.append(Int(more[j])); mergedCounts.append(moreCounts[j]); j += 1
            } else {
                mergedIndexes.append(indexes[i]); mergedCounts.append(self.counts[i] + moreCounts[j]); i += 1; j += 1
            }
        }
        indexes = mergedIndexes
        self.counts = mergedCounts
    }

    /// The merged sketch; sketch buckets that netted out to nothing are left out.
    func sketch() -> LatencySketch {
        var sketch = LatencySketch()
        for (index, count) in zip(indexes, counts) where count > 0 { sketch.add(index: index, count: count) }
        return sketch
    }

    /// The elements of a one-dimensional integer array in Postgres text form (`{1,-2,3}`); nil for
    /// anything else (NULL elements, nesting, non-digits).
    static func integers(inArray text: String) -> [Int64]? {
        var result: [Int64] = []
        var utf8 = text.utf8[...]
        guard utf8.first == UInt8(ascii: "{"), utf8.last == UInt8(ascii: "}") else { return nil }
        utf8 = utf8.dropFirst().dropLast()
        if utf8.isEmpty { return result }
        result.reserveCapacity(utf8.count / 3)
        var value: Int64 = 0, negative = false, digits = 0
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                digits += 1
            case UInt8(ascii: "-") where digits == 0 && !negative:
                negative = true
            case UInt8(ascii: ","):
                guard digits > 0 else { return nil }
                result.append(negative ? -value : value)
                value = 0; negative = false; digits = 0
            default:
                return nil
            }
        }
        guard digits > 0 else { return nil }
        result.append(negative ? -value : value)
        return result
    }
}
