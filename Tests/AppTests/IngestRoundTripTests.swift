import Foundation
import JSON
import Testing
import TokenmeterCore

/// Native ingest → query round trips against a real server and Postgres, with hand-computed totals.
@Suite(.serialized)
struct IngestRoundTripTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    private func usageRows(_ query: String) throws -> [JSONObject] {
        let response = try server.get("/v1/usage?\(query)")
        #expect(response.status == 200, "\(response.text)")
        guard case .object(let body)? = response.json, case .array(let rows)? = body["rows"] else { return [] }
        return rows.compactMap { if case .object(let o) = $0 { return o } else { return nil } }
    }

    private func number(_ object: JSONObject, _ key: String) -> String? {
        if case .number(let n)? = object[key] { return n.text }
        return nil
    }

    private func int(_ object: JSONObject, _ key: String) -> Int64? {
        if case .number(let n)? = object[key] { return n.int64 }
        return nil
    }

    @Test func pricedEventsSumExactly() throws {
        // gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens.
        // A: (1000×0.15 + 200×0.075 + 300×0.60) / 1e6 = 0.000345
        // B: client cost 0.01 wins over the table. C: unknown model → unpriced.
        let body = """
            [{"request_id":"a","timestamp":"2026-11-20T10:00:05Z","feature":"summarizer","provider":"openai","model":"gpt-4o-mini","tokens_in":1200,"cached_tokens":200,"tokens_out":300},
             {"request_id":"b","timestamp":"2026-11-20T10:00:06Z","feature":"summarizer","provider":"openai","model":"gpt-4o-mini","tokens_in":10,"tokens_out":10,"cost_usd":0.01,"retries":2,"status":"error"},
             {"request_id":"c","timestamp":"2026-11-20T10:01:00Z","feature":"chat","model":"my-private-model","tokens_in":5,"tokens_out":7,"cache_hit":false}]
            """
        let response = try server.ingest(body)
        #expect(response.status == 200, "\(response.text)")
        #expect(response.json == (try JSONParser.parse(Array(#"{"accepted":3,"rejected":[]}"#.utf8))))

        let rows = try usageRows("from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&group_by=feature")
        #expect(rows.count == 2)
        let chat = try #require(rows.first { $0["feature"] == .string("chat") })
        let summarizer = try #require(rows.first { $0["feature"] == .string("summarizer") })
        #expect(number(summarizer, "cost_usd") == "0.010345")
        #expect(int(summarizer, "calls") == 2)
        #expect(int(summarizer, "tokens_in") == 1210)
        #expect(int(summarizer, "tokens_out") == 310)
        #expect(int(summarizer, "cached_tokens") == 200)
        #expect(int(summarizer, "errors") == 1)
        #expect(int(summarizer, "retries") == 2)
        #expect(int(summarizer, "unpriced_calls") == 0)
        #expect(number(chat, "cost_usd") == "0")
        #expect(int(chat, "unpriced_calls") == 1)
    }

    @Test func resendingNeverDoubleCounts() throws {
        let body = """
            {"events":[{"request_id":"r1","timestamp":"2026-11-19T08:00:00Z","feature":"dedup","model":"gpt-4o-mini","tokens_in":100,"tokens_out":100},
                       {"request_id":"r1","step_index":1,"timestamp":"2026-11-19T08:00:01Z","feature":"dedup","model":"gpt-4o-mini","tokens_in":100,"tokens_out":100},
                       {"event_id":"6f1c2a52-8a4e-4a57-9d57-1f0a2e3b4c5d","request_id":"r2","timestamp":"2026-11-19T08:00:02Z","feature":"dedup","tokens_in":1}]}
            """
        for _ in 0..<3 {
            let response = try server.ingest(body)
            #expect(response.status == 200, "\(response.text)")
        }
        for query in ["from=2026-11-19T00:00:00Z&to=2026-11-20T00:00:00Z&feature=dedup",          // rollup path
                      "from=2026-11-19T00:00:00.5Z&to=2026-11-20T00:00:00Z&feature=dedup",       // raw path
                      "from=2026-11-19T00:00:00Z&to=2026-11-20T00:00:00Z&feature=dedup&group_by=user_id"] {
            let rows = try usageRows(query)
            #expect(rows.count == 1, "\(query)")
            #expect(rows.first.flatMap { int($0, "calls") } == 3, "\(query)")
            #expect(rows.first.flatMap { int($0, "tokens_in") } == 201, "\(query)")
        }
        let stored = try server.sql("SELECT count(*) AS n FROM events WHERE feature = 'dedup'")
        #expect(try stored.rows[0].decode(Int.self, column: "n") == 3)
    }

    @Test func partialBatchKeepsTheGoodEvents() throws {
        let body = """
            [{"request_id":"ok-1","timestamp":"2026-11-18T01:00:00Z","feature":"partial","tokens_in":3},
             {"feature":"partial","tokens_in":3},
             {"request_id":"bad-tokens","feature":"partial","tokens_in":-5},
             {"request_id":"bad-type","feature":"partial","tokens_out":"many"},
             {"request_id":"bad-time","timestamp":"yesterday"},
             "not an object",
             {"request_id":"ok-2","timestamp":"2026-11-18T01:00:01Z","feature":"partial","tokens_in":4,"extra_field":{"kept":true}}]
            """
        let response = try server.ingest(body)
        #expect(response.status == 200, "\(response.text)")
        guard case .object(let answer)? = response.json, case .array(let rejected)? = answer["rejected"] else {
            Issue.record("no JSON answer: \(response.text)"); return
        }
        #expect(int(answer, "accepted") == 2)
        let pairs = rejected.compactMap { value -> String? in
            guard case .object(let r) = value, case .number(let index)? = r["index"] else { return nil }
            if case .string(let field)? = r["field"] { return "\(index.text):\(field)" }
            return "\(index.text):-"
        }
        #expect(pairs == ["1:request_id", "2:tokens_in", "3:tokens_out", "4:timestamp", "5:-"])
        let rows = try usageRows("from=2026-11-18T00:00:00Z&to=2026-11-19T00:00:00Z&feature=partial")
        #expect(rows.first.flatMap { int($0, "calls") } == 2)
        #expect(rows.first.flatMap { int($0, "tokens_in") } == 7)
        let metadata = try server.sql("SELECT metadata::text AS m FROM events WHERE request_id = 'ok-2'")
        #expect(metadata.rows.first?["m"] == #"{"extra_field": {"kept": true}}"#)
    }

    @Test func allRejectedIsABadRequest() throws {
        let response = try server.ingest(#"[{"tokens_in":1}]"#)
        #expect(response.status == 400)
        guard case .object(let answer)? = response.json, case .object(let error)? = answer["error"] else {
            Issue.record("no error body: \(response.text)"); return
        }
        #expect(error["code"] == .string("no_valid_events"))
        #expect(error["field"] == .string("request_id"))
    }

    @Test func ndjsonAndIntervals() throws {
        let body = """
            {"request_id":"n1","timestamp":"2026-11-17T10:15:00Z","feature":"nd","tokens_in":1}
            {"request_id":"n2","timestamp":"2026-11-17T10:45:00Z","feature":"nd","tokens_in":2}
            {this line is broken
            {"request_id":"n3","timestamp":"2026-11-17T11:05:00Z","feature":"nd","tokens_in":4}
            """
        let response = try server.ingest(body, contentType: "application/x-ndjson")
        #expect(response.status == 200, "\(response.text)")
        guard case .object(let answer)? = response.json else { Issue.record("no JSON"); return }
        #expect(int(answer, "accepted") == 3)
        let hourly = try usageRows("from=2026-11-17T00:00:00Z&to=2026-11-18T00:00:00Z&feature=nd&interval=hour")
        #expect(hourly.map { $0["bucket"] } == [.string("2026-11-17T10:00:00Z"), .string("2026-11-17T11:00:00Z")])
        #expect(hourly.map { int($0, "tokens_in") } == [3, 4])
        let minutes = try usageRows("from=2026-11-17T10:00:00Z&to=2026-11-17T10:30:00Z&feature=nd&interval=minute")
        #expect(minutes.map { $0["bucket"] } == [.string("2026-11-17T10:15:00Z")])
    }

    @Test func pricesFollowAliasesAndDates() throws {
        let put = try server.client().send(method: "PUT", path: "/v1/prices/acme-llm",
                                           headers: ["Authorization": "Bearer \(server.ingestKey)", "Content-Type": "application/json"],
                                           body: Array(#"{"provider":"acme","input_per_million":"2","output_per_million":"8","effective_from":"2026-01-01"}"#.utf8))
        #expect(put.status == 200, "\(put.text)")
        let later = try server.client().send(method: "PUT", path: "/v1/prices/acme-llm",
                                             headers: ["Authorization": "Bearer \(server.ingestKey)"],
                                             body: Array(#"{"provider":"acme","input_per_million":1,"output_per_million":4,"effective_from":"2026-06-01"}"#.utf8))
        #expect(later.status == 200, "\(later.text)")
        // 1M in + 1M out: $10 before June, $5 from June; before 2026 there is no price (unpriced).
        let body = """
            [{"request_id":"p1","timestamp":"2026-03-01T00:00:00Z","feature":"prices","model":"acme-llm","tokens_in":1000000,"tokens_out":1000000},
             {"request_id":"p2","timestamp":"2026-06-01T00:00:00Z","feature":"prices","model":"acme-llm","tokens_in":1000000,"tokens_out":1000000},
             {"request_id":"p3","timestamp":"2025-12-31T23:59:59Z","feature":"prices","model":"acme-llm","tokens_in":1000000,"tokens_out":1000000},
             {"request_id":"p4","timestamp":"2026-03-01T00:00:00Z","feature":"alias","provider":"openai","model":"openai/gpt-4o-mini-2024-07-18","tokens_in":1000000,"tokens_out":0}]
            """
        #expect(try server.ingest(body).status == 200)
        let rows = try usageRows("from=2025-12-01T00:00:00Z&to=2026-07-01T00:00:00Z&group_by=feature,model")
        let prices = rows.filter { $0["feature"] == .string("prices") }
        #expect(prices.count == 1)
        #expect(prices.first.flatMap { number($0, "cost_usd") } == "15")
        #expect(prices.first.flatMap { int($0, "unpriced_calls") } == 1)
        let alias = try #require(rows.first { $0["feature"] == .string("alias") })
        #expect(number(alias, "cost_usd") == "0.15")
        let list = try server.get("/v1/prices?model=acme-llm")
        #expect(list.status == 200)
        #expect(list.text.contains("\"source\":\"override\""))
    }

    @Test func overridesOfShippedModelsApplyToTheirAliases() throws {
        let put = try server.client().send(method: "PUT", path: "/v1/prices/gpt-4o-mini",
                                           headers: ["Authorization": "Bearer \(server.ingestKey)"],
                                           body: Array(#"{"input_per_million":"1","output_per_million":"1"}"#.utf8))
        #expect(put.status == 200, "\(put.text)")
        #expect(put.text.contains("\"provider\":\"openai\""))
        let body = #"{"request_id":"ov","timestamp":"2026-11-13T00:00:00Z","feature":"override","provider":"openai","model":"gpt-4o-mini-2024-07-18","tokens_in":1000000,"tokens_out":1000000}"#
        #expect(try server.ingest(body).status == 200)
        let rows = try usageRows("from=2026-11-13T00:00:00Z&to=2026-11-14T00:00:00Z&feature=override")
        #expect(rows.first.flatMap { number($0, "cost_usd") } == "2")
        // Bad override bodies name the field.
        let bad = try server.client().send(method: "PUT", path: "/v1/prices/x", headers: ["Authorization": "Bearer \(server.ingestKey)"],
                                           body: Array(#"{"input_per_million":"-1","output_per_million":"1"}"#.utf8))
        #expect(bad.status == 400)
        #expect(bad.text.contains("\"field\":\"input_per_million\""))
        let readKeyCannotWrite = try server.client().send(method: "PUT", path: "/v1/prices/x", headers: ["Authorization": "Bearer \(server.readKey)"],
                                                          body: Array(#"{"input_per_million":"1","output_per_million":"1"}"#.utf8))
        #expect(readKeyCannotWrite.status == 403)
    }

    @Test func requestTreeNestsChildren() throws {
        let body = """
            [{"request_id":"child-1","parent_request_id":"root","timestamp":"2026-11-16T00:00:02Z","step_index":0,"step_type":"tool_call","tool_name":"search"},
             {"request_id":"root","timestamp":"2026-11-16T00:00:00Z","step_index":0,"step_type":"llm_call","model":"gpt-4o-mini","tokens_in":1000,"tokens_out":0,"prompt":"hello"},
             {"request_id":"root","timestamp":"2026-11-16T00:00:03Z","step_index":1,"step_type":"llm_call","model":"gpt-4o-mini","tokens_in":1000,"tokens_out":0},
             {"request_id":"grandchild","parent_request_id":"child-1","timestamp":"2026-11-16T00:00:04Z","model":"unknown-x","tokens_in":1}]
            """
        #expect(try server.ingest(body).status == 200)
        let response = try server.get("/v1/requests/root")
        #expect(response.status == 200, "\(response.text)")
        guard case .object(let tree)? = response.json, case .object(let totals)? = tree["totals"], case .object(let root)? = tree["root"],
              case .array(let steps)? = root["steps"], case .array(let children)? = root["children"] else {
            Issue.record("unexpected shape: \(response.text)"); return
        }
        #expect(int(totals, "events") == 4)
        #expect(number(totals, "cost_usd") == "0.0003")
        #expect(int(totals, "unpriced_events") == 1)
        #expect(steps.count == 2)
        #expect(children.count == 1)
        if case .object(let child)? = children.first, case .array(let grand)? = child["children"] {
            #expect(child["request_id"] == .string("child-1"))
            #expect(grand.count == 1)
        } else {
            Issue.record("child missing")
        }
        #expect(response.text.contains("\"prompt\":\"hello\""))
        #expect(try server.get("/v1/requests/nope").status == 404)
    }
}
