import Foundation
import Postgres
import Store
import Testing
import TokenmeterCore

/// The packed sketch families (migration 0013: one row of arrays per bucket, group and metric) give
/// the reader exactly the sketch cells the raw events give, whether the cells are pending, folded, or
/// both, over ranges with whole weeks, days, hours, minutes and raw ends, with day buckets in UTC and
/// in another zone.
@Suite(.serialized)
struct PackedSketchTests {
    let server: RunningServer

    init() throws {
        // Compaction only when the test asks for it.
        server = try RunningServer { $0.compactionIntervalSeconds = 3600 }
    }

    /// Events over 2026-11-05…11-24 (two whole ISO weeks inside), 2 named models and calls without
    /// one, 2 features, latencies from 1 ms to 10 s, TTFT on two calls in three; stable ids.
    static func events(_ range: Range<Int>) -> String {
        range.map { i -> String in
            let day = 5 + i % 20, hour = (i * 7) % 24, minute = (i * 13) % 60, second = (i * 17) % 60
            let latency = pow(10, Double((i * 7919) % 4000) / 1000)
            var line = #"{"request_id":"ps-\#(i)","timestamp":"2026-11-\#(pad(day))T\#(pad(hour)):\#(pad(minute)):\#(pad(second)).5Z","#
            line += #""feature":"f\#(i % 2)","provider":"openai","tokens_in":10,"latency_ms":\#(latency)"#
            if i % 3 != 0 { line += #","model":"\#(i % 2 == 0 ? "gpt-4o" : "gpt-4o-mini")","ttft_ms":\#(latency / 3)"# }
            return line + "}"
        }.joined(separator: "\n")
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    func ingest(_ range: Range<Int>) throws {
        try server.ingestAll(Self.events(range), contentType: "application/x-ndjson")
    }

    struct Case: Sendable {
        var from: String, to: String
        var groupBy: [UsageDimension]
        var filters: [UsageDimension: String] = [:]
        var interval: UsageInterval = .none
        var zone: String?
        var metric: LatencyMetric = .latency
    }

    static let cases: [Case] = [
        Case(from: "2026-11-05T00:00:00Z", to: "2026-11-25T00:00:00Z", groupBy: [.model]),
        Case(from: "2026-11-05T07:17:23.5Z", to: "2026-11-23T18:42:10Z", groupBy: [.model]),
        Case(from: "2026-11-05T07:17:23.5Z", to: "2026-11-23T18:42:10Z", groupBy: [.feature], metric: .ttft),
        Case(from: "2026-11-06T10:00:00Z", to: "2026-11-24T03:00:00Z", groupBy: [], filters: [.model: "gpt-4o"]),
        Case(from: "2026-11-06T10:00:00Z", to: "2026-11-24T03:00:00Z", groupBy: [], interval: .day),
        Case(from: "2026-11-12T03:10:00Z", to: "2026-11-12T09:00:00Z", groupBy: [.model]),
        Case(from: "2026-11-06T07:00:10Z", to: "2026-11-06T07:40:00Z", groupBy: [.feature]),
        Case(from: "2026-11-05T00:00:00Z", to: "2026-11-25T00:00:00Z", groupBy: [.model], interval: .day),
        Case(from: "2026-11-05T05:00:00Z", to: "2026-11-24T05:00:00Z", groupBy: [.feature], interval: .day, zone: "America/New_York"),
        // Edges by subtraction: a day row minus its first two hours, a week minus the day after the range.
        Case(from: "2026-11-12T02:00:00Z", to: "2026-11-22T00:00:00Z", groupBy: [.model]),
        Case(from: "2026-11-10T22:00:00Z", to: "2026-11-11T23:59:00Z", groupBy: [.feature, .model].filter { $0 == .model }, interval: .hour),
    ]

    /// `bucket|group` → sketch index → count, from the reader.
    func readerCells(_ c: Case) throws -> [String: [Int: Int64]] {
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let range = TimeRange(from: Timestamp.parseRFC3339(c.from)!, to: Timestamp.parseRFC3339(c.to)!)
        let query = UsageQuery(project: server.project, range: range, interval: c.interval, groupBy: c.groupBy, filters: c.filters, timeZone: c.zone)
        var cells: [String: [Int: Int64]] = [:]
        for row in try PostgresUsageReader(pool: pool).latency(query, metric: c.metric) {
            let bucket = row.bucket.map { String(Int64($0.timeIntervalSince1970)) } ?? "-"
            let key = ([bucket] + c.groupBy.map { (row.dimensions[$0] ?? nil) ?? "∅" }).joined(separator: "|")
            #expect(cells[key] == nil, "duplicate group \(key)")
            cells[key] = Dictionary(uniqueKeysWithValues: row.sketch.buckets.map { ($0.index, $0.count) })
        }
        return cells
    }

    /// The same from the raw events.
    func rawCells(_ c: Case) throws -> [String: [Int: Int64]] {
        let column = c.metric == .latency ? "latency_ms" : "ttft_ms"
        var binds: [PostgresValue] = [.timestamp(Timestamp.parseRFC3339(c.from)!), .timestamp(Timestamp.parseRFC3339(c.to)!), .text(c.zone ?? "UTC")]
        let bucket = c.interval == .none ? "'-'" : "extract(epoch from date_trunc('\(c.interval.rawValue)', ts, $3))::bigint::text"
        let keys = ([bucket] + c.groupBy.map { "coalesce(\($0.rawValue), '∅')" }).joined(separator: " || '|' || ")
        var condition = "ts >= $1 AND ts < $2 AND $3 <> '' AND \(column) IS NOT NULL"
        for (dimension, value) in c.filters {
            binds.append(.text(value))
            condition += " AND \(dimension.rawValue) = $\(binds.count)"
        }
        var cells: [String: [Int: Int64]] = [:]
        for row in try server.sqlRows("""
            SELECT \(keys) AS key, tm_sketch_index(\(column))::text AS idx, count(*)::text AS n FROM events WHERE \(condition) GROUP BY 1, 2
            """, binds) {
            cells[(row["key"] ?? nil) ?? "", default: [:]][Int((row["idx"] ?? nil) ?? "") ?? 0] = Int64((row["n"] ?? nil) ?? "") ?? -1
        }
        return cells
    }

    func expectEveryCaseExact(_ note: String) throws {
        for c in Self.cases {
            let raw = try rawCells(c)
            #expect(!raw.isEmpty, "\(c) \(note)")
            let read = try readerCells(c)
            #expect(read == raw, "\(c.from)…\(c.to) by \(c.groupBy.map(\.rawValue)) \(c.filters) \(c.interval) \(c.zone ?? "UTC"): \(note)")
        }
    }

    @Test func packedSketchesGiveTheRawCellsPendingOrFolded() throws {
        try ingest(0..<600)
        #expect(try server.sqlValue("SELECT count(*) FROM sketch_by_model_day_folded") == "0")
        try expectEveryCaseExact("all pending")

        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let compactor = RollupCompactor(pool: pool)
        #expect(try compactor.compactOnce().movedRows > 0)
        #expect(try server.sqlValue("SELECT count(*) FROM sketch_pending") == "0")
        try expectEveryCaseExact("all folded")

        // Re-sent (500..<600) and new events: folded rows plus pending cells of the same buckets.
        try ingest(500..<900)
        try expectEveryCaseExact("folded plus pending")
        try compactor.compactOnce()
        try compactor.compactOnce()
        try expectEveryCaseExact("folded twice")

        // One row per bucket, group and metric, its indexes strictly ascending, as many counts.
        for table in ["sketch_by_model", "sketch_by_feature"].flatMap({ p in ["minute", "hour", "day", "week"].map { "\(p)_\($0)_folded" } }) {
            let bad = try server.sqlValue("""
                SELECT count(*) FROM \(table)
                WHERE cardinality(idx) <> cardinality(count) OR cardinality(idx) = 0 OR 0 >= ANY(count)
                   OR idx <> ARRAY(SELECT DISTINCT i FROM unnest(idx) AS i ORDER BY i)
                """)
            #expect(bad == "0", "\(table)")
            #expect(try server.sqlValue("SELECT count(*) FROM \(table)") != "0", "\(table)")
        }
    }
}

/// Migration 0013 packs the cells that 0010's narrow sketch tables hold: afterwards every view with
/// the old name answers the same cells.
struct PackedSketchMigrationTests {
    @Test func existingCellsArePackedWithoutChange() throws {
        let connectionString = try TestEnvironment.freshDatabase()
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        let all = try Migrator(directory: URL(fileURLWithPath: TestEnvironment.migrationsDirectory))
        try Migrator(migrations: all.migrations.filter { $0.version < 13 }).migrate(connection)

        let families = [("sketch_by_model", "model"), ("sketch_by_feature", "feature")]
        let levels = [("hour", "1 hour"), ("day", "1 day"), ("week", "7 days")]
        for (prefix, key) in families {
            for (level, step) in levels {
                // Two projects, 4 buckets, 3 groups (one of them the empty name), both metrics, indexes
                // in any order, the zero-latency index included.
                try connection.execute("""
                    INSERT INTO \(prefix)_\(level)_folded (project_id, bucket, \(key), metric, idx, count)
                    SELECT 1 + i % 2, timestamptz '2026-11-02 00:00:00+00' + (i % 4) * interval '\(step)', (ARRAY['', 'a', 'b'])[1 + i % 3],
                           (i % 5 % 2)::smallint, CASE WHEN i % 97 = 0 THEN -100000 ELSE (i * 7919) % 400 - 50 END, i
                    FROM generate_series(1, 4000) AS i
                    ON CONFLICT DO NOTHING
                    """)
            }
        }
        func cells() throws -> [String] {
            var rendered: [String] = []
            for (prefix, key) in families {
                for (level, _) in levels {
                    rendered += try connection.query(PostgresQuery(sql: """
                        SELECT concat_ws('|', '\(prefix)_\(level)', project_id, bucket, \(key), metric, idx, count) AS line
                        FROM \(prefix)_\(level) ORDER BY project_id, bucket, \(key), metric, idx
                        """, binds: [])).rows.map { try $0.decode(String.self, column: "line") }
                }
            }
            return rendered
        }
        let before = try cells()
        #expect(before.count > 5000)

        #expect(try all.migrate(connection).contains(13))
        #expect(try cells() == before)
        let rows = try connection.query(PostgresQuery(sql: """
            SELECT (SELECT count(*) FROM sketch_by_model_day_folded) AS packed,
                   (SELECT count(DISTINCT (project_id, bucket, model, metric)) FROM sketch_by_model_day) AS groups
            """, binds: [])).rows[0]
        #expect(try rows.decode(Int.self, column: "packed") == rows.decode(Int.self, column: "groups"))
    }
}

/// Migration 0016 packs the wide minute cells already folded into per-model and per-feature minutes.
struct PackedSketchMinuteMigrationTests {
    @Test func wideMinuteCellsArePackedPerModelAndFeature() throws {
        let schema = try OlderSchema(before: 16, project: "m16")
        let connection = schema.connection, all = schema.all
        defer { connection.close() }
        // Two projects, 5 minutes, 3 features (one the empty name) × 4 models × 2 providers, both
        // metrics: several wide cells fall on each packed (minute, group, metric, index).
        try connection.execute("""
            INSERT INTO sketch_minute_folded (project_id, bucket, feature, model, provider, environment, metric, idx, count)
            SELECT 1 + i % 2, timestamptz '2026-11-02 10:00:00+00' + (i % 5) * interval '1 minute', (ARRAY['', 'a', 'b'])[1 + i % 3],
                   'm' || (i % 4), 'p' || (i % 7 % 2), '', (i % 11 % 2)::smallint, CASE WHEN i % 89 = 0 THEN -100000 ELSE (i * 7919) % 300 - 40 END, i
            FROM generate_series(1, 6000) AS i
            ON CONFLICT DO NOTHING
            """)
        #expect(try all.migrate(connection).contains(16))
        for (prefix, key) in [("sketch_by_model", "model"), ("sketch_by_feature", "feature")] {
            func lines(_ sql: String) throws -> [String] {
                try connection.query(PostgresQuery(sql: sql, binds: [])).rows.map { try $0.decode(String.self, column: "line") }
            }
            let wide = try lines("""
                SELECT concat_ws('|', project_id, bucket, \(key), metric, idx, sum(count)) AS line FROM sketch_minute_folded
                GROUP BY project_id, bucket, \(key), metric, idx ORDER BY project_id, bucket, \(key), metric, idx
                """)
            #expect(wide.count > 500)
            let packed = try lines("""
                SELECT concat_ws('|', project_id, bucket, \(key), metric, idx, count) AS line FROM \(prefix)_minute
                ORDER BY project_id, bucket, \(key), metric, idx
                """)
            #expect(packed == wide, "\(prefix)")
            let rows = try connection.query(PostgresQuery(sql: """
                SELECT (SELECT count(*) FROM \(prefix)_minute_folded) AS packed,
                       (SELECT count(DISTINCT (project_id, bucket, \(key), metric)) FROM sketch_minute_folded) AS groups
                """, binds: [])).rows[0]
            #expect(try rows.decode(Int.self, column: "packed") == rows.decode(Int.self, column: "groups"))
        }
    }
}
