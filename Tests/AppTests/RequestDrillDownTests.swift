import Foundation
import JSON
import Postgres
import Testing
import TokenmeterCore

/// `/v1/requests` (listing with keyset pagination), `/v1/requests/{id}`, `/v1/sessions/{id}` and
/// `/v1/users/{id}`, checked against the raw events by SQL and against hand-computed totals.
@Suite(.serialized)
struct RequestDrillDownTests {
    let server: RunningServer
    static let range = "from=2026-10-12T00:00:00Z&to=2026-10-13T00:00:00Z"

    init() throws {
        server = try RunningServer()
        // 30 calls, three per timestamp (so the keyset must break ties by event id), sent shuffled in
        // three requests. gpt-4o-mini costs 0.00015 × (i+1), gpt-4o 0.0025 × (i+1).
        let start = Timestamp.parseRFC3339("2026-10-12T00:00:00Z")!
        var events: [String] = []
        for i in 0..<30 {
            let ts = Timestamp.rfc3339(start.addingTimeInterval(Double(i / 3) * 60))
            let model = i % 2 == 0 ? "gpt-4o-mini" : "gpt-4o"
            let status = i % 5 == 0 ? "error" : "ok"
            let session = i % 7 == 0 ? #","session_id":"s1""# : ""
            events.append(#"{"request_id":"q\#(i)","timestamp":"\#(ts)","user_id":"u\#(i % 4)","feature":"f\#(i % 3)","provider":"openai","model":"\#(model)","status":"\#(status)","tokens_in":\#(1000 * (i + 1)),"latency_ms":\#(10 * i)\#(session)}"#)
        }
        events.shuffle()
        for part in 0..<3 { try server.ingestAll("[" + events[(part * 10)..<(part * 10 + 10)].joined(separator: ",") + "]") }
    }

    /// Every page of `/v1/requests?query` with `limit`, concatenated.
    func allPages(_ query: String, limit: Int) throws -> (ids: [String], pages: Int) {
        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let answer = try server.answer("/v1/requests?\(query)&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            let page = answer["requests"]?.arrayValue ?? []
            #expect(page.count <= limit)
            ids += page.compactMap { $0.string("event_id") }
            cursor = answer["next_cursor"]?.stringValue
            pages += 1
        } while cursor != nil && pages < 100
        return (ids, pages)
    }

    func expectedIDs(_ condition: String, _ binds: [PostgresValue] = []) throws -> [String] {
        try server.sqlRows("""
            SELECT event_id::text AS id FROM events
            WHERE ts >= '2026-10-12T00:00:00Z' AND ts < '2026-10-13T00:00:00Z' AND \(condition)
            ORDER BY ts DESC, event_id DESC
            """, binds).compactMap { $0["id"] ?? nil }
    }

    @Test func pagesAreNewestFirstWithoutDuplicatesOrGaps() throws {
        let expected = try expectedIDs("true")
        #expect(expected.count == 30)
        let listed = try allPages(Self.range, limit: 7)
        #expect(listed.ids == expected)
        #expect(listed.pages == 5)
        let exact = try allPages(Self.range, limit: 10)   // the last full page is followed by an empty one
        #expect(exact.ids == expected)
        let first = try server.answer("/v1/requests?\(Self.range)&limit=1")["requests"]?[0]
        #expect(first?.string("request_id").map { ["q27", "q28", "q29"].contains($0) } == true)
        #expect(first?.text("cost_usd") != nil && first?.int("tokens_in") != nil && first?.double("latency_ms") != nil)
    }

    struct Filter: Sendable, CustomTestStringConvertible {
        var query: String, condition: String, binds: [PostgresValue]
        var testDescription: String { query }
    }

    @Test(arguments: [
        Filter(query: "user_id=u1", condition: "user_id = $1", binds: [.text("u1")]),
        Filter(query: "feature=f2", condition: "feature = $1", binds: [.text("f2")]),
        Filter(query: "model=gpt-4o", condition: "model = $1", binds: [.text("gpt-4o")]),
        Filter(query: "status=error", condition: "status = $1", binds: [.text("error")]),
        Filter(query: "session_id=s1", condition: "session_id = $1", binds: [.text("s1")]),
        Filter(query: "min_cost_usd=0.01", condition: "cost_pico >= $1", binds: [.int(10_000_000_000)]),
        Filter(query: "min_latency_ms=150", condition: "latency_ms >= $1", binds: [.double(150)]),
        Filter(query: "model=gpt-4o&min_latency_ms=100&user_id=u3", condition: "model = $1 AND latency_ms >= $2 AND user_id = $3",
               binds: [.text("gpt-4o"), .double(100), .text("u3")]),
    ])
    func filtersSelectExactlyTheMatchingCalls(_ filter: Filter) throws {
        let expected = try expectedIDs(filter.condition, filter.binds)
        #expect(!expected.isEmpty)
        #expect(try allPages("\(Self.range)&\(filter.query)", limit: 2).ids == expected)
    }

    @Test func badListingParametersNameTheField() throws {
        for (query, field) in [("cursor=bm9wZQ", "cursor"), ("cursor=!!", "cursor"), ("limit=0", "limit"), ("limit=501", "limit"),
                               ("min_cost_usd=-1", "min_cost_usd"), ("min_latency_ms=fast", "min_latency_ms"), ("sort=asc", "sort"),
                               ("status=maybe", "status")] {
            #expect(try server.badRequestField("/v1/requests?\(query)") == field, "\(query)")
        }
    }

    @Test func requestTreeWithStepsThatArrivedBeforeTheirParent() throws {
        // The children arrive first; child-2's first step does not name the parent, its second does.
        try server.ingestAll("""
            [{"request_id":"agent-child-1","parent_request_id":"agent-root","timestamp":"2026-10-13T00:00:01Z","step_index":0,"provider":"openai","model":"gpt-4o","tokens_in":100,"tokens_out":10,"latency_ms":300},
             {"request_id":"agent-child-2","timestamp":"2026-10-13T00:00:02Z","step_index":0,"provider":"openai","model":"gpt-4o-mini","tokens_in":2000,"latency_ms":400},
             {"request_id":"agent-child-2","parent_request_id":"agent-root","timestamp":"2026-10-13T00:00:03Z","step_index":1,"step_type":"retrieval","latency_ms":50}]
            """)
        let early = try server.answer("/v1/requests/agent-root")
        #expect(early["root"]?["steps"]?.arrayValue?.count == 0)
        #expect(early["root"]?["children"]?.arrayValue?.count == 2)
        try server.ingestAll("""
            [{"request_id":"agent-root","timestamp":"2026-10-13T00:00:00Z","step_index":0,"step_type":"llm_call","provider":"openai","model":"gpt-4o-mini","tokens_in":1000,"tokens_out":500,"latency_ms":800},
             {"request_id":"agent-root","timestamp":"2026-10-13T00:00:05Z","step_index":1,"step_type":"tool_call","tool_name":"search","latency_ms":120}]
            """)
        let tree = try server.answer("/v1/requests/agent-root")
        // root: (1000×0.15 + 500×0.60)/1e6 = 0.00045; child-1: (100×2.5 + 10×10)/1e6 = 0.00035;
        // child-2: 2000×0.15/1e6 = 0.0003; tool and retrieval steps cost 0.
        let totals = try #require(tree["totals"])
        #expect(totals.int("events") == 5)
        #expect(totals.int("requests") == 3)
        #expect(totals.int("tokens_in") == 3100)
        #expect(totals.int("tokens_out") == 510)
        #expect(totals.text("cost_usd") == "0.0011")
        #expect(totals.double("latency_ms") == 1670)
        let root = try #require(tree["root"])
        let steps = root["steps"]?.arrayValue ?? []
        #expect(steps.map { $0.int("step_index") } == [0, 1])
        #expect(steps.map { $0.text("cost_usd") } == ["0.00045", "0"])
        #expect(steps.map { $0.double("latency_ms") } == [800, 120])
        let children = root["children"]?.arrayValue ?? []
        #expect(Set(children.compactMap { $0.string("request_id") }) == ["agent-child-1", "agent-child-2"])
        let child2 = try #require(children.first { $0.string("request_id") == "agent-child-2" })
        #expect(child2["steps"]?.arrayValue?.map { $0.text("cost_usd") } == ["0.0003", "0"])
        #expect(child2["steps"]?.arrayValue?.map { $0.int("tokens_in") } == [2000, 0])
        // A child is a tree of its own.
        let sub = try server.answer("/v1/requests/agent-child-1")
        #expect(sub["totals"]?.text("cost_usd") == "0.00035")
        #expect(try server.get("/v1/requests/agent-nobody").status == 404)
    }

    @Test func sessionAndUserTotalsAndRecentCalls() throws {
        // s1 holds calls 0, 7, 14, 21, 28: costs 0.00015×1 + 0.0025×8 + 0.00015×15 + 0.0025×22 + 0.00015×29 = 0.08175.
        let session = try server.answer("/v1/sessions/s1?\(Self.range)&limit=2")
        #expect(session.string("session_id") == "s1")
        #expect(session["totals"]?.int("calls") == 5)
        #expect(session["totals"]?.text("cost_usd") == "0.08175")
        #expect(session["totals"]?.int("tokens_in") == 75_000)
        #expect(session["totals"]?.int("errors") == 1)   // only call 0 is a multiple of 5
        #expect(session["recent_requests"]?.arrayValue?.compactMap { $0.string("request_id") } == ["q28", "q21"])

        let user = try server.answer("/v1/users/u1?\(Self.range)")
        let sql = try #require(try server.sqlRows("""
            SELECT count(*) AS calls, sum(tokens_in) AS tokens_in, trim_scale(sum(cost_pico) / 1e12)::text AS cost,
                   count(*) FILTER (WHERE status = 'error') AS errors
            FROM events WHERE user_id = 'u1'
            """).first)
        #expect(user.string("user_id") == "u1")
        #expect(user["totals"]?.int("calls").map(String.init) == sql["calls"] ?? nil)
        #expect(user["totals"]?.int("tokens_in").map(String.init) == sql["tokens_in"] ?? nil)
        #expect(user["totals"]?.text("cost_usd") == sql["cost"] ?? nil)
        #expect(user["totals"]?.int("errors").map(String.init) == sql["errors"] ?? nil)
        #expect(user["recent_requests"]?.arrayValue?.compactMap { $0.string("user_id") }.allSatisfy { $0 == "u1" } == true)
        #expect(try user["recent_requests"]?.arrayValue?.compactMap { $0.string("event_id") } == expectedIDs("user_id = 'u1'"))

        #expect(try server.get("/v1/sessions/nope?\(Self.range)").status == 404)
        #expect(try server.get("/v1/users/nobody?\(Self.range)").status == 404)
        #expect(try server.badRequestField("/v1/users/u1?group_by=model") == "group_by")
    }
}
