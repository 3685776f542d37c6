import Foundation
import Postgres
@testable import Store
import Testing
import TokenmeterCore

/// A top-N of users ranks only the candidates that the week index scans find (migration 0013), and
/// still equals the raw SQL answer when the heaviest users sit where the pre-selection cannot see
/// them directly: only in the partial weeks at the range's ends, only in pending (unfolded) rows,
/// tied at the N-th place, or heavy just outside the range.
@Suite(.serialized)
struct TopUserCandidateExactnessTests {
    let server: RunningServer
    static let from = "2026-11-04T13:00:00Z", to = "2026-11-25T07:30:00Z"

    init() throws {
        server = try RunningServer { $0.compactionIntervalSeconds = 3600 }
    }

    static func event(_ id: String, _ user: String, _ timestamp: String, cost: String, tokens: Int = 100) -> String {
        #"{"request_id":"\#(id)","timestamp":"\#(timestamp)","user_id":"\#(user)","feature":"top","provider":"openai","model":"gpt-4o","tokens_in":\#(tokens),"cost_usd":\#(cost)}"#
    }

    /// 40 regular users with (k+1) m$ in each of the two whole weeks inside the range; `edge` with 50 m$
    /// in each partial week at the ends (first overall, with no cost inside the whole weeks); `a-tie`
    /// with u37's total; `outside` with $1 in the first touching week, but before the range.
    static var folded: String {
        var lines = (0..<40).flatMap { k in
            [event("r\(k)a", "u\(k)", "2026-11-10T12:00:00Z", cost: "0.\(String(format: "%03d", k + 1))", tokens: 100 + k),
             event("r\(k)b", "u\(k)", "2026-11-17T12:00:00Z", cost: "0.\(String(format: "%03d", k + 1))", tokens: 100 + k)]
        }
        lines += [event("e1", "edge", "2026-11-04T14:00:00Z", cost: "0.05"), event("e2", "edge", "2026-11-25T07:00:00Z", cost: "0.05"),
                  event("t1", "a-tie", "2026-11-11T12:00:00Z", cost: "0.038"), event("t2", "a-tie", "2026-11-18T12:00:00Z", cost: "0.038"),
                  event("o1", "outside", "2026-11-03T10:00:00Z", cost: "1"), event("o2", "outside", "2026-11-25T08:00:00Z", cost: "1")]
        return lines.joined(separator: "\n")
    }

    /// Ingested after the fold, so only in pending rows: second overall.
    static let late = [event("l1", "late", "2026-11-12T12:00:00Z", cost: "0.045"), event("l2", "late", "2026-11-18T09:00:00Z", cost: "0.045")]
        .joined(separator: "\n")

    func ingest(_ body: String) throws {
        let response = try server.ingest(body, contentType: "application/x-ndjson")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.json?["rejected"]?.arrayValue?.isEmpty == true, "\(response.text)")
    }

    func rawTop(_ expression: String, limit: Int) throws -> [String] {
        try server.sqlRows("""
            SELECT user_id AS key, (\(expression))::text AS value FROM events
            WHERE ts >= $1 AND ts < $2 AND user_id IS NOT NULL GROUP BY 1 ORDER BY \(expression) DESC, 1 LIMIT \(limit)
            """, [.timestamp(Timestamp.parseRFC3339(Self.from)!), .timestamp(Timestamp.parseRFC3339(Self.to)!)])
            .map { "\(($0["key"] ?? nil) ?? "")=\(($0["value"] ?? nil) ?? "")" }
    }

    func apiTop(_ metric: String, limit: Int) throws -> [String] {
        try server.rows("/v1/top?from=\(Self.from)&to=\(Self.to)&dimension=user_id&metric=\(metric)&limit=\(limit)").map { row in
            let value: String
            switch metric {
            case "cost_usd": value = (row.text("cost_usd").flatMap { Decimal(string: $0) }.map { "\($0 * 1_000_000_000_000)" }) ?? "?"
            case "tokens": value = String((row.int("tokens_in") ?? 0) + (row.int("tokens_out") ?? 0))
            default: value = row.text(metric) ?? "?"
            }
            return "\(row.string("user_id") ?? "∅")=\(value)"
        }
    }

    func candidates(_ metric: UsageMetric, limit: Int) throws -> [String]? {
        let range = TimeRange(from: Timestamp.parseRFC3339(Self.from)!, to: Timestamp.parseRFC3339(Self.to)!)
        let query = UsageQuery(project: server.project, range: range, interval: .none, groupBy: [.userID], filters: [:], top: (metric, limit))
        let connection = try PostgresConnection(connectionString: server.connectionString)
        defer { connection.close() }
        return try PostgresUsageReader.topUserCandidates(query, includeCache: false, on: connection)
    }

    @Test func theTopIsExactWhereverTheHeavyUsersAre() throws {
        try ingest(Self.folded)
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        #expect(try RollupCompactor(pool: pool).compactOnce().movedRows > 0)
        try ingest(Self.late)

        let top5 = try apiTop("cost_usd", limit: 5)
        #expect(top5.map { $0.split(separator: "=")[0] } == ["edge", "late", "u39", "u38", "a-tie"])
        for limit in [1, 5, 12] {
            #expect(try apiTop("cost_usd", limit: limit) == rawTop("coalesce(sum(cost_pico), 0)", limit: limit), "cost, top \(limit)")
            #expect(try apiTop("tokens", limit: limit) == rawTop("sum(tokens_in) + sum(tokens_out)", limit: limit), "tokens, top \(limit)")
            #expect(try apiTop("calls", limit: limit) == rawTop("count(*)", limit: limit), "calls, top \(limit)")
        }

        // The pre-selection ran and pruned: the light users are not candidates, the tricky ones are.
        let chosen = try #require(try candidates(.costUSD, limit: 5))
        #expect(Set(["edge", "late", "u39", "a-tie", "outside"]).isSubset(of: Set(chosen)))
        #expect(!chosen.contains("u0") && !chosen.contains("u10"))
        #expect(chosen.count < 35)
    }

    @Test func fewerUsersThanTheLimitRankEveryone() throws {
        try ingest([Self.event("s1", "solo", "2026-11-10T12:00:00Z", cost: "0.5"), Self.event("s2", "duo", "2026-11-17T12:00:00Z", cost: "0.2")]
            .joined(separator: "\n"))
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        try RollupCompactor(pool: pool).compactOnce()
        #expect(try candidates(.costUSD, limit: 5) == nil)
        #expect(try apiTop("cost_usd", limit: 5) == rawTop("coalesce(sum(cost_pico), 0)", limit: 5))
    }
}
