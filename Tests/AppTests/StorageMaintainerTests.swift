import App
import Foundation
import Postgres
import Store
import Synchronization
import Testing
import TokenmeterCore

/// Time-partitioned raw events (migration 0011) and retention (`StorageMaintainer`), against a
/// real Postgres and real servers. Time is injected into the maintainer (`runOnce(now:)`).
struct StorageMaintainerTests {
    static let day: TimeInterval = 86_400

    static func iso(_ date: Date) -> String { Timestamp.rfc3339(date) }

    /// `events_pYYYYMMDD` of the UTC day of `date`.
    static func partition(_ date: Date) -> String {
        "events_p" + iso(date).prefix(10).replacingOccurrences(of: "-", with: "")
    }

    static func dayStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / day).rounded(.down) * day)
    }

    /// A pass that ran: the server's own maintainer may hold the lock for a moment at start-up.
    @discardableResult
    static func pass(_ maintainer: StorageMaintainer, now: Date = Date()) throws -> StorageMaintainer.Pass {
        for _ in 0..<200 {
            let pass = try maintainer.runOnce(now: now)
            if pass.ran { return pass }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestSetupError("the storage maintainer's lock stayed taken")
    }

    static func compact(_ connectionString: String) throws {
        let pool = PostgresPool(connectionString: connectionString, size: 1)
        defer { pool.close() }
        let compactor = RollupCompactor(pool: pool)
        for _ in 0..<200 where try !compactor.compactOnce().ran { Thread.sleep(forTimeInterval: 0.05) }
    }

    static func partitions(_ server: RunningServer) throws -> Set<String> {
        Set(try server.sqlRows("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass")
            .compactMap { $0["relname"] ?? nil })
    }

    static func event(_ id: String, at date: Date, feature: String = "ret", extra: String = "") -> String {
        #"{"request_id":"\#(id)","timestamp":"\#(iso(date))","feature":"\#(feature)","model":"gpt-4o-mini","user_id":"u1","latency_ms":120,"tokens_in":1000,"tokens_out":10\#(extra)}"#
    }

    @Test func migrationConvertsExistingRowsExactly() throws {
        let connectionString = try TestEnvironment.freshDatabase()
        let connection = try PostgresConnection(connectionString: connectionString)
        defer { connection.close() }
        let all = try Migrator(directory: URL(fileURLWithPath: TestEnvironment.migrationsDirectory))
        try Migrator(migrations: all.migrations.filter { $0.version < 11 }).migrate(connection)
        try connection.execute("""
            INSERT INTO projects (name) VALUES ('m');
            INSERT INTO events (project_id, event_id, ts, request_id, parent_request_id, user_id, feature, status, tokens_in, tokens_out,
                                cached_tokens, cache_write_tokens, cost_pico, retries, fallback_triggered, cache_hit, tags, metadata, has_text)
            SELECT 1, gen_random_uuid(), t, 'r-' || n, CASE WHEN n % 2 = 0 THEN 'r-0' END, 'u' || n, 'f', 'ok', n * 10, n, 0, 0,
                   n * 1000, 0, false, n % 3 = 0, ARRAY['a', 'b'], '{"k": 1}', n = 1
            FROM (VALUES (1, now()), (2, now() - interval '3 days'), (3, now() - interval '60 days'),
                         (4, timestamptz '2001-02-03T04:05:06Z'), (5, now() + interval '2 days'), (6, now() - interval '1 minute')) AS v (n, t);
            INSERT INTO event_texts (project_id, event_id, prompt) SELECT project_id, event_id, 'hello' FROM events WHERE request_id = 'r-1';
            """)
        let digest = "SELECT count(*)::text || ':' || md5(string_agg(e::text, '|' ORDER BY event_id)) AS d FROM events e"
        let before = try connection.query(PostgresQuery(sql: digest, binds: [])).rows[0]["d"]
        try all.migrate(connection)
        let after = try connection.query(PostgresQuery(sql: digest, binds: [])).rows[0]["d"]
        #expect(before != nil && before == after, "\(before ?? "-") vs \(after ?? "-")")

        let placed = Dictionary(uniqueKeysWithValues: try connection.query(PostgresQuery(sql: """
            SELECT request_id, tableoid::regclass::text AS part, extract(epoch from ts)::float8 AS t FROM events
            """, binds: [])).rows.map { ($0["request_id"]!, ($0["part"]!, Date(timeIntervalSince1970: try $0.decode(Double.self, column: "t")))) })
        #expect(placed.count == 6)
        for (request, (part, ts)) in placed {
            // Rows of the last 31 days and the week ahead have their day's partition; older ones wait in the default.
            let expected = ["r-3", "r-4"].contains(request) ? "events_default" : Self.partition(ts)
            #expect(part == expected, "\(request)")
        }
        let registry = try connection.query(PostgresQuery(sql: "SELECT count(*) AS n FROM event_ids i JOIN events e USING (project_id, event_id, ts)", binds: []))
        #expect(try registry.rows[0].decode(Int.self, column: "n") == 6)
        let texts = try connection.query(PostgresQuery(sql: "SELECT prompt FROM event_texts", binds: []))
        #expect(texts.rows.map { $0["prompt"] } == ["hello"])
    }

    @Test func ingestAcrossADayBoundaryLandsInEachDaysPartitionAndReSendsCountOnce() throws {
        let server = try RunningServer()
        let midnight = Self.dayStart(Date())
        let body = "[" + [Self.event("before-midnight", at: midnight.addingTimeInterval(-0.001)), Self.event("at-midnight", at: midnight),
                          Self.event("after-midnight", at: midnight.addingTimeInterval(1)),
                          Self.event("tomorrow", at: midnight.addingTimeInterval(Self.day + 5))].joined(separator: ",") + "]"
        try server.ingestAll(body)
        try server.ingestAll(body)
        let parts = Dictionary(uniqueKeysWithValues: try server.sqlRows("SELECT request_id, tableoid::regclass::text AS part FROM events")
            .map { ($0["request_id"]!!, $0["part"]!!) })
        #expect(parts == ["before-midnight": Self.partition(midnight.addingTimeInterval(-1)), "at-midnight": Self.partition(midnight),
                          "after-midnight": Self.partition(midnight), "tomorrow": Self.partition(midnight.addingTimeInterval(Self.day))])
        #expect(try server.sqlValue("SELECT count(*) FROM event_ids") == "4")
        #expect(try server.sqlValue("SELECT sum(calls) FROM rollup_minute") == "4")
        let usage = try server.rows("/v1/usage?from=\(Self.iso(midnight.addingTimeInterval(-Self.day)))&to=\(Self.iso(midnight.addingTimeInterval(2 * Self.day)))")
        #expect(usage.first?.int("calls") == 4)
    }

    @Test func retentionDropsWholePartitionsAndRollupTotalsStay() throws {
        let server = try RunningServer()
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let now = Date()
        let maintainer = StorageMaintainer(pool: pool, policy: RetentionPolicy(rawDays: 3, rollupDays: 400))
        // A week ago the server would have made these partitions ahead.
        let earlier = try Self.pass(maintainer, now: now.addingTimeInterval(-6 * Self.day))
        #expect(earlier.partitionsDropped == 0)
        #expect(try Self.partitions(server).contains(Self.partition(now.addingTimeInterval(-5 * Self.day))))
        try server.ingestAll("[" + [Self.event("old-1", at: now.addingTimeInterval(-5 * Self.day), extra: #","prompt":"secret prompt""#),
                                    Self.event("old-2", at: now.addingTimeInterval(-5 * Self.day + 60)),
                                    Self.event("old-3", at: now.addingTimeInterval(-4 * Self.day - 7200)),
                                    Self.event("new-1", at: now.addingTimeInterval(-3600))].joined(separator: ",") + "]")
        let range = "from=\(Self.iso(Self.dayStart(now.addingTimeInterval(-10 * Self.day))))&to=\(Self.iso(Self.dayStart(now.addingTimeInterval(Self.day))))"
        let before = try server.rows("/v1/usage?\(range)&group_by=feature")
        let daily = try server.rows("/v1/usage?\(range)&interval=day")
        #expect(before.first?.int("calls") == 4)
        #expect(try server.sqlValue("SELECT count(*) FROM event_texts") == "1")
        // Log-record texts of a span that never arrived, as the OTLP log path stores them.
        _ = try server.sqlRows("""
            INSERT INTO otlp_span_texts (project_id, event_id, record_key, ts, seq, role, body)
            VALUES ($1, '00000000-0000-4000-8000-00000000000a', gen_random_uuid(), now() - interval '5 days', 0, 'prompt', '"orphan"')
            """, [.int(server.project.rawValue)])
        _ = try server.sqlRows("""
            INSERT INTO event_texts (project_id, event_id, prompt, truncated) VALUES ($1, '00000000-0000-4000-8000-00000000000a', '["orphan"]', false)
            """, [.int(server.project.rawValue)])

        let pass = try Self.pass(maintainer, now: now)
        #expect(pass.partitionsDropped >= 2)
        #expect(pass.idsExpired == 3)
        let left = try Self.partitions(server)
        #expect(!left.contains(Self.partition(now.addingTimeInterval(-5 * Self.day))))
        #expect(!left.contains(Self.partition(now.addingTimeInterval(-4 * Self.day - 7200))))
        #expect(left.contains(Self.partition(now)))
        #expect(try server.sqlRows("SELECT request_id FROM events").map { $0["request_id"] ?? nil } == ["new-1"])
        #expect(try server.sqlValue("SELECT count(*) FROM event_ids") == "1")
        #expect(try server.sqlValue("SELECT count(*) FROM event_texts") == "0")
        #expect(try server.sqlValue("SELECT count(*) FROM otlp_span_texts") == "0")
        // The rollups still hold every call: the same answers as before.
        #expect(try server.rows("/v1/usage?\(range)&group_by=feature") == before)
        #expect(try server.rows("/v1/usage?\(range)&interval=day") == daily)
        // A second pass finds nothing left to do.
        let again = try Self.pass(maintainer, now: now)
        #expect(again.partitionsDropped == 0 && again.idsExpired == 0 && again.eventsDeleted == 0 && !again.backlog)
    }

    @Test func rollupRetentionDeletesWholeOldDaysAtEveryLevel() throws {
        let server = try RunningServer()
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let now = Date()
        try server.ingestAll("[" + [Self.event("ancient", at: now.addingTimeInterval(-10 * Self.day)),
                                    Self.event("recent", at: now.addingTimeInterval(-3600))].joined(separator: ",") + "]")
        try Self.compact(server.connectionString)
        #expect(try server.sqlValue("SELECT sum(calls) FROM rollup_day_folded") == "2")
        let pass = try Self.pass(StorageMaintainer(pool: pool, policy: RetentionPolicy(rawDays: 3, rollupDays: 5)), now: now)
        #expect(pass.rollupRowsDeleted >= 8, "minute, hour and day usage, user hour and day, sketches: \(pass)")
        #expect(pass.eventsDeleted == 1, "the old event waited in the default partition")
        for table in ["rollup_minute_folded", "rollup_hour_folded", "rollup_day_folded", "rollup_user_hour_folded", "rollup_user_day_folded",
                      "sketch_minute_folded", "sketch_hour_folded", "sketch_day_folded"] {
            #expect(try server.sqlValue("SELECT count(*) FROM \(table) WHERE bucket < now() - interval '5 days'") == "0", "\(table)")
            #expect(try server.sqlValue("SELECT count(*) FROM \(table)") != "0", "\(table) keeps the recent call")
        }
        #expect(try server.rows("/v1/usage?from=-30d").first?.int("calls") == 1)
    }

    @Test func projectRetentionDeletesOnlyThatProjectsOldEventsAndReSendsStillCountOnce() throws {
        let server = try RunningServer()
        let other = try server.makeProject("other")
        let set = try server.runBinary(["projects", "settings", "test", "--raw-retention-days", "1"])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.hasSuffix("raw_retention_days\t1\n"))
        #expect(try server.runBinary(["projects", "settings", "test", "--raw-retention-days", "0"]).status == 2)
        let now = Date()
        let old = Self.event("mine-old", at: now.addingTimeInterval(-2 * Self.day), extra: #","prompt":"old words""#)
        try server.ingestAll("[" + old + "," + Self.event("mine-new", at: now.addingTimeInterval(-60)) + "]")
        let theirs = try server.ingest("[" + Self.event("theirs-old", at: now.addingTimeInterval(-2 * Self.day)) + ","
                                       + Self.event("theirs-new", at: now.addingTimeInterval(-60)) + "]", key: other.ingest)
        #expect(theirs.status == 200)

        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        let pass = try Self.pass(StorageMaintainer(pool: pool, policy: RetentionPolicy(rawDays: 30, rollupDays: 400)), now: now)
        #expect(pass.eventsDeleted == 1)
        #expect(try server.sqlRows("SELECT request_id FROM events ORDER BY request_id").map { $0["request_id"] ?? nil }
                == ["mine-new", "theirs-new", "theirs-old"])
        #expect(try server.sqlValue("SELECT count(*) FROM event_texts") == "0")
        // Its id stays registered until the server's horizon: a re-send is recognised, not counted again.
        #expect(try server.sqlValue("SELECT count(*) FROM event_ids") == "4")
        try server.ingestAll("[" + old + "]")
        #expect(try server.sqlValue("SELECT count(*) FROM events WHERE request_id = 'mine-old'") == "0")
        #expect(try server.rows("/v1/usage?from=-7d").first?.int("calls") == 2)
        #expect(try server.sqlValue("SELECT sum(calls) FROM rollup_minute") == "4")

        let reset = try server.runBinary(["projects", "settings", "test", "--raw-retention-days", "default"])
        #expect(reset.stdout.hasSuffix("raw_retention_days\tdefault\n"))
    }

    @Test func twoMaintainersAtOnceDoTheWorkOnce() throws {
        let server = try RunningServer()
        let pool = PostgresPool(connectionString: server.connectionString, size: 2)
        defer { pool.close() }
        let policy = RetentionPolicy(rawDays: 30, rollupDays: 400)
        let future = Date().addingTimeInterval(40 * Self.day)
        let created = Self.partition(future.addingTimeInterval(7 * Self.day))

        // While another session holds the lock, a maintainer does nothing.
        let holder = try PostgresConnection(connectionString: server.connectionString)
        defer { holder.close() }
        _ = try holder.query(PostgresQuery(sql: "SELECT pg_advisory_lock($1)", binds: [.int(StorageMaintainer.advisoryLockKey)]))
        let blocked = try StorageMaintainer(pool: pool, policy: policy).runOnce(now: future)
        #expect(!blocked.ran && blocked.partitionsCreated == 0)
        #expect(try !Self.partitions(server).contains(created))
        _ = try holder.query(PostgresQuery(sql: "SELECT pg_advisory_unlock($1)", binds: [.int(StorageMaintainer.advisoryLockKey)]))

        // Two at once: the 9 partitions of (yesterday ... a week ahead) are created exactly once, without errors.
        let results = Mutex<[Result<StorageMaintainer.Pass, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let outcome = Result { try StorageMaintainer(pool: pool, policy: policy).runOnce(now: future) }
            results.withLock { $0.append(outcome) }
        }
        let passes = try results.withLock { try $0.map { try $0.get() } }
        #expect(passes.map(\.partitionsCreated).reduce(0, +) == 9)
        #expect(try Self.partitions(server).contains(created))
    }

    @Test func farPastAndFutureTimestampsAreRefusedWithTheFieldNamed() throws {
        let server = try RunningServer { $0.rawRetentionDays = 30; $0.rollupRetentionDays = 400 }
        let now = Date()
        let refused = try server.ingest("[" + [Self.event("month-old", at: now.addingTimeInterval(-31 * Self.day)),
                                               Self.event("three-years-old", at: now.addingTimeInterval(-3 * 365 * Self.day)),
                                               Self.event("next-year", at: now.addingTimeInterval(365 * Self.day)),
                                               Self.event("tomorrow-and-more", at: now.addingTimeInterval(Self.day + 3600))].joined(separator: ",") + "]")
        #expect(refused.status == 400)
        let rejected = refused.json?["rejected"]?.arrayValue ?? []
        #expect(rejected.map { $0.string("field") } == ["timestamp", "timestamp", "timestamp", "timestamp"])
        #expect(rejected.first?.string("error")?.contains("older than the raw-event retention (30 days)") == true, "\(refused.text)")
        #expect(rejected.last?.string("error")?.contains("24 hours ahead") == true, "\(refused.text)")

        // Within the window but before the first partition: stored in the default partition, then
        // moved into its day's partition when the maintainer creates it.
        let backfill = now.addingTimeInterval(-5 * Self.day)
        let mixed = try server.ingest("[" + Self.event("backfill", at: backfill) + "," + Self.event("month-old", at: now.addingTimeInterval(-31 * Self.day)) + "]")
        #expect(mixed.status == 200)
        #expect(mixed.json?["accepted"]?.int64Value == 1)
        #expect(try server.sqlValue("SELECT tableoid::regclass::text FROM events WHERE request_id = 'backfill'") == "events_default")
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        try Self.pass(StorageMaintainer(pool: pool, policy: RetentionPolicy(rawDays: 30, rollupDays: 400)), now: backfill)
        #expect(try server.sqlValue("SELECT tableoid::regclass::text FROM events WHERE request_id = 'backfill'") == Self.partition(backfill))
        #expect(try server.answer("/v1/requests/backfill")["totals"]?.int("events") == 1)
    }

    @Test(arguments: [
        (["TOKENMETER_RAW_RETENTION_DAYS": "0"], "TOKENMETER_RAW_RETENTION_DAYS"),
        (["TOKENMETER_RAW_RETENTION_DAYS": "thirty"], "TOKENMETER_RAW_RETENTION_DAYS"),
        (["TOKENMETER_ROLLUP_RETENTION_DAYS": "-1"], "TOKENMETER_ROLLUP_RETENTION_DAYS"),
        (["TOKENMETER_RAW_RETENTION_DAYS": "90", "TOKENMETER_ROLLUP_RETENTION_DAYS": "60"], "must be at least TOKENMETER_RAW_RETENTION_DAYS"),
    ])
    func retentionSettingsAreValidated(environment: [String: String], message: String) {
        #expect {
            _ = try Configuration.load(arguments: [], environment: environment)
        } throws: { error in
            String(describing: error).contains(message)
        }
    }

    @Test func retentionDefaults() throws {
        let (defaults, _) = try Configuration.load(arguments: [], environment: [:])
        #expect(defaults.rawRetentionDays == 30 && defaults.rollupRetentionDays == 400)
        let (set, _) = try Configuration.load(arguments: ["--retention-raw-days", "7"], environment: ["TOKENMETER_ROLLUP_RETENTION_DAYS": "90"])
        #expect(set.rawRetentionDays == 7 && set.rollupRetentionDays == 90)
    }
}
