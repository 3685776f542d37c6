import Foundation
import Postgres
@testable import Store
import Testing
import TokenmeterCore

/// The reader answers from the narrowest rollup family holding every dimension a query uses, and
/// falls back to the wide family (or raw events) for the others.
struct NarrowFamilyTests {
    static func query(groupBy: [UsageDimension], filters: [UsageDimension: String] = [:], interval: UsageInterval = .none) -> UsageQuery {
        let range = TimeRange(from: Timestamp.parseRFC3339("2026-11-06T07:00:00Z")!, to: Timestamp.parseRFC3339("2026-12-06T07:00:00Z")!)
        return UsageQuery(project: ProjectID(1), range: range, interval: interval, groupBy: groupBy, filters: filters)
    }

    /// The tables a statement reads, by the names the reader uses.
    static func tables(_ sql: String) -> Set<String> {
        let families = ["rollup_feature_model", "rollup_by_feature", "rollup_by_model", "rollup_by_user", "rollup_user", "sketch_by_model", "sketch_by_feature", "sketch", "rollup"]
        let names = families.flatMap { family in ["minute", "hour", "6h", "day", "week", "2w"].map { "\(family)_\($0)_folded" } }
            + ["rollup_usage_pending_cells", "rollup_user_pending_cells", "sketch_pending_cells", "events"]
        return Set(names.filter { sql.contains("FROM \($0) ") || sql.contains("FROM \($0)\n") })
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var groupBy: [UsageDimension]
        var filters: [UsageDimension: String] = [:]
        var tables: Set<String>
        var testDescription: String { "group_by \(groupBy.map(\.rawValue)), filters \(filters.keys.map(\.rawValue).sorted())" }
    }

    /// 2026-11-09 and 2026-11-23 start fortnights; the edges take days, 6-hour blocks and hours.
    static let fm: Set<String> = ["rollup_feature_model_2w_folded", "rollup_feature_model_day_folded", "rollup_feature_model_6h_folded",
                                   "rollup_feature_model_hour_folded", "rollup_usage_pending_cells"]
    static let wide: Set<String> = ["rollup_day_folded", "rollup_hour_folded", "rollup_usage_pending_cells"]
    static let usageCases: [Case] = [
        Case(groupBy: [.feature, .model], tables: fm),
        Case(groupBy: [.model], filters: [.feature: "f1"], tables: fm),
        Case(groupBy: [.feature], tables: ["rollup_by_feature_week_folded", "rollup_by_feature_day_folded", "rollup_by_feature_hour_folded",
                                           "rollup_usage_pending_cells"]),
        Case(groupBy: [], filters: [.model: "gpt-4o"], tables: ["rollup_by_model_week_folded", "rollup_by_model_day_folded",
                                                                 "rollup_by_model_hour_folded", "rollup_usage_pending_cells"]),
        Case(groupBy: [.feature, .provider], tables: wide),
        Case(groupBy: [.feature], filters: [.status: "error"], tables: wide),
        Case(groupBy: [.userID], tables: ["rollup_by_user_week_folded", "rollup_by_user_day_folded", "rollup_by_user_hour_folded", "rollup_user_pending_cells"]),
        Case(groupBy: [.userID, .model], tables: ["rollup_user_day_folded", "rollup_user_hour_folded", "rollup_user_pending_cells"]),
        Case(groupBy: [.userID], filters: [.status: "ok"], tables: ["events"]),
    ]

    @Test(arguments: usageCases)
    func usagePicksTheNarrowestFamily(_ c: Case) {
        let sql = PostgresUsageReader.usageSQL(Self.query(groupBy: c.groupBy, filters: c.filters), includeCache: false).sql
        #expect(Self.tables(sql) == c.tables)
    }

    /// A range ending mid-hour: per-user pieces come from the family's own minutes, and raw events
    /// only for the seconds at the ends (they used to answer the whole ragged hours).
    @Test func perUserRaggedEndsComeFromMinutesNotRawHours() {
        let range = TimeRange(from: Timestamp.parseRFC3339("2026-11-06T07:30:15Z")!, to: Timestamp.parseRFC3339("2026-12-06T07:12:30Z")!)
        let query = UsageQuery(project: ProjectID(1), range: range, interval: .none, groupBy: [.userID], filters: [:])
        let sql = PostgresUsageReader.usageSQL(query, includeCache: false)
        #expect(Self.tables(sql.sql) == ["rollup_by_user_week_folded", "rollup_by_user_day_folded", "rollup_by_user_hour_folded",
                                        "rollup_by_user_minute_folded", "rollup_user_pending_cells", "events"])
        let pieces = QueryPlan.segments(range, levels: PostgresUsageReader.usageByUser.levels)
        let raw = pieces.filter { $0.resolution == .raw }.map { $0.to.timeIntervalSince($0.from) }
        #expect(raw == [45, 30])
    }

    /// Packed rows as stored and the pending cells they do not hold yet.
    static let byModel: Set<String> = ["sketch_by_model_week_folded", "sketch_by_model_day_folded", "sketch_by_model_hour_folded",
                                       "sketch_pending_cells"]
    static let latencyCases: [Case] = [
        Case(groupBy: [.model], tables: byModel),
        Case(groupBy: [.feature], tables: ["sketch_by_feature_week_folded", "sketch_by_feature_day_folded", "sketch_by_feature_hour_folded",
                                           "sketch_pending_cells"]),
        Case(groupBy: [], filters: [.model: "gpt-4o"], tables: byModel),
        Case(groupBy: [.model], filters: [.feature: "f1"], tables: ["sketch_day_folded", "sketch_hour_folded", "sketch_pending_cells"]),
        Case(groupBy: [.model], filters: [.status: "error"], tables: ["events"]),
    ]

    @Test(arguments: latencyCases)
    func latencyPicksTheNarrowestFamily(_ c: Case) {
        let sql = PostgresUsageReader.latencySQL(Self.query(groupBy: c.groupBy, filters: c.filters), metric: .latency).sql
        #expect(Self.tables(sql) == c.tables)
    }

    /// Packed families take their sub-hour edges from their own packed minutes (migration 0016), never
    /// from the wide minute cells, and only the seconds at the ends from raw events.
    @Test func packedSketchesReadTheirMinutesAndRawEventsAtRaggedEdges() {
        var query = Self.query(groupBy: [.model])
        query.range = TimeRange(from: Timestamp.parseRFC3339("2026-11-06T07:10:30.5Z")!, to: Timestamp.parseRFC3339("2026-12-06T07:00:00Z")!)
        let sql = PostgresUsageReader.latencySQL(query, metric: .ttft).sql
        #expect(Self.tables(sql) == Self.byModel.union(["sketch_by_model_minute_folded", "events"]))
        // A range shorter than an hour is packed rows but for its seconds: its hour minus the 21 minutes
        // around its 39 whole minutes (fewer rows than the 39).
        query.range = TimeRange(from: Timestamp.parseRFC3339("2026-11-06T07:10:30.5Z")!, to: Timestamp.parseRFC3339("2026-11-06T07:50:00Z")!)
        #expect(Self.tables(PostgresUsageReader.latencySQL(query, metric: .latency).sql)
                == ["sketch_by_model_hour_folded", "sketch_by_model_minute_folded", "sketch_pending_cells", "events"])
        // 20 whole minutes: the minutes themselves.
        query.range = TimeRange(from: Timestamp.parseRFC3339("2026-11-06T07:10:30.5Z")!, to: Timestamp.parseRFC3339("2026-11-06T07:31:00Z")!)
        #expect(Self.tables(PostgresUsageReader.latencySQL(query, metric: .latency).sql) == ["sketch_by_model_minute_folded", "sketch_pending_cells", "events"])
        // Shorter than a whole minute: raw events alone.
        query.range = TimeRange(from: Timestamp.parseRFC3339("2026-11-06T07:10:30.5Z")!, to: Timestamp.parseRFC3339("2026-11-06T07:10:50Z")!)
        #expect(Self.tables(PostgresUsageReader.latencySQL(query, metric: .latency).sql) == ["events"])
    }

    /// Day buckets cannot come from weeks: the narrow family is read at day and hour level.
    @Test func dailyBucketsSkipTheWeekLevel() {
        let sql = PostgresUsageReader.usageSQL(Self.query(groupBy: [.feature], interval: .day), includeCache: true).sql
        #expect(Self.tables(sql) == ["rollup_by_feature_day_folded", "rollup_by_feature_hour_folded", "rollup_usage_pending_cells"])
    }
}

/// Top-N of users ranks only the users whose bound over whole weeks can reach the top.
struct TopUserCandidateTests {
    static func query(_ from: String, _ to: String, groupBy: [UsageDimension] = [.userID], metric: UsageMetric = .costUSD) -> UsageQuery {
        let range = TimeRange(from: Timestamp.parseRFC3339(from)!, to: Timestamp.parseRFC3339(to)!)
        return UsageQuery(project: ProjectID(1), range: range, interval: .none, groupBy: groupBy, filters: [:], top: (metric, 10))
    }

    @Test func boundsComeFromTheWeeksTouchingTheRange() throws {
        let selection = try #require(PostgresUsageReader.topUserSelection(Self.query("2026-11-06T07:00:00Z", "2026-12-06T07:00:00Z"), includeCache: false))
        // Seeds from the weeks inside (Mondays 11-09 to 11-23).
        #expect(selection.threshold.sql.contains("FROM rollup_by_user_week_folded WHERE"))
        #expect(Self.arrays(selection.threshold.binds) == [["2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"]])
        // Candidates from the 5 weeks touching the range (11-02 to 11-30) and the pending cells of
        // those weeks: 5 + 1 parts; T is a parameter.
        let candidates = selection.candidates("12345")
        #expect(candidates.sql.contains("FROM rollup_by_user_week_folded") && candidates.sql.contains("FROM rollup_user_pending_cells"))
        #expect(Self.arrays(candidates.binds) == [["2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z",
                                                   "2026-11-30T00:00:00Z"]])
        let dates = candidates.binds.compactMap { value -> String? in
            if case .timestamp(let date) = value { return Timestamp.rfc3339(date) }
            return nil
        }
        #expect(dates == ["2026-11-02T00:00:00Z", "2026-12-07T00:00:00Z"])
        #expect(candidates.binds.contains(.int(6)))
        #expect(candidates.binds.contains(.text("12345")))
    }

    static func arrays(_ binds: [PostgresValue]) -> [[String]] {
        binds.compactMap { value -> [String]? in
            if case .textArray(let weeks) = value { return weeks }
            return nil
        }
    }

    @Test(arguments: UsageMetric.allCases)
    func eachMetricRanksWeeksByItsIndexedValue(_ metric: UsageMetric) throws {
        let selection = try #require(PostgresUsageReader.topUserSelection(Self.query("2026-11-06T07:00:00Z", "2026-12-06T07:00:00Z", metric: metric),
                                                                          includeCache: false))
        let (value, type) = PostgresUsageReader.rankedWeekValue(metric)
        #expect(selection.threshold.sql.contains("ORDER BY \(value) DESC LIMIT"))
        let candidates = selection.candidates("7").sql
        #expect(candidates.contains("AND \(value) >= "))
        #expect(candidates.contains("::\(type)"))
    }

    @Test func otherQueriesRankEveryUser() {
        // No whole week inside the range, not grouped by user alone, or not a top-N.
        #expect(PostgresUsageReader.topUserSelection(Self.query("2026-11-10T00:00:00Z", "2026-11-16T00:00:00Z"), includeCache: false) == nil)
        #expect(PostgresUsageReader.topUserSelection(Self.query("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", groupBy: [.feature]),
                                                         includeCache: false) == nil)
        #expect(PostgresUsageReader.topUserSelection(Self.query("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", groupBy: [.userID, .model]),
                                                         includeCache: false) == nil)
        var plain = Self.query("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
        plain.top = nil
        #expect(PostgresUsageReader.topUserSelection(plain, includeCache: false) == nil)
    }
}
