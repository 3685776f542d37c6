import Foundation
import HTTP
import JSON
import TokenmeterCore

extension TokenmeterAPI {
    /// GET /v1/usage: aggregated calls, tokens and cost per bucket and group.
    func usage(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: QueryParameters.usageParameters)
        let query = try params.usageQuery(project: principal.project, now: deps.clock())
        let rows = try deps.usage.usage(query)
        return json(200) { w in
            TokenmeterAPI.writeQueryEcho(query, into: &w)
            w.key("rows"); w.beginArray()
            for row in rows { TokenmeterAPI.writeUsageRow(row, groupBy: query.groupBy, into: &w) }
            w.endArray()
        }
    }

    /// GET /v1/requests/{request_id}: the request, its steps and its descendants as a tree, with totals.
    func requestTree(_ request: HTTPRequest, requestID: String) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        guard requestID.utf8.count <= 512 else { throw APIError.badRequest("request_id is too long", field: "request_id") }
        let events = try deps.usage.requestTree(project: principal.project, requestID: requestID)
        guard !events.isEmpty else { throw APIError.notFound("no request \(requestID.prefix(200)) in this project") }

        var byRequest: [String: [Event]] = [:]
        var children: [String: [String]] = [:]
        var linked = Set<String>()
        for event in events {
            byRequest[event.requestID, default: []].append(event)
            // Any step may carry the parent (not necessarily the first one stored); the first link wins.
            if let parent = event.parentRequestID, parent != event.requestID, linked.insert(event.requestID).inserted {
                children[parent, default: []].append(event.requestID)
            }
        }
        var totalCost = Money(picodollars: 0)
        var unpriced = 0
        for event in events { if let cost = event.cost { totalCost += cost } else { unpriced += 1 } }

        return json(200) { w in
            w.key("request_id"); w.string(requestID)
            w.key("totals"); w.beginObject()
            w.key("events"); w.int(Int64(events.count))
            w.key("requests"); w.int(Int64(byRequest.count))
            w.key("tokens_in"); w.int(events.reduce(0) { $0 + $1.usage.input })
            w.key("tokens_out"); w.int(events.reduce(0) { $0 + $1.usage.output })
            w.key("cached_tokens"); w.int(events.reduce(0) { $0 + $1.usage.cachedInput })
            w.key("cost_usd"); w.rawNumber(totalCost.usdString)
            w.key("unpriced_events"); w.int(Int64(unpriced))
            w.key("errors"); w.int(Int64(events.filter { $0.status == .error }.count))
            w.key("retries"); w.int(Int64(events.reduce(0) { $0 + $1.retries }))
            w.key("latency_ms"); w.double(events.compactMap(\.latencyMs).reduce(0, +))
            w.endObject()
            var visited = Set<String>()
            w.key("root")
            TokenmeterAPI.writeNode(requestID, byRequest: byRequest, children: children, visited: &visited, into: &w)
        }
    }

    private static func writeNode(_ requestID: String, byRequest: [String: [Event]], children: [String: [String]],
                                  visited: inout Set<String>, into w: inout JSONWriter) {
        visited.insert(requestID)
        w.beginObject()
        w.key("request_id"); w.string(requestID)
        w.key("steps"); w.beginArray()
        for event in byRequest[requestID] ?? [] { EventJSON.write(event, into: &w) }
        w.endArray()
        w.key("children"); w.beginArray()
        for child in children[requestID] ?? [] where !visited.contains(child) {
            writeNode(child, byRequest: byRequest, children: children, visited: &visited, into: &w)
        }
        w.endArray()
        w.endObject()
    }
}

/// The API's JSON form of one stored event (the native ingest field names).
enum EventJSON {
    static func write(_ e: Event, into w: inout JSONWriter) {
        func optional(_ key: String, _ value: String?) { if let value { w.key(key); w.string(value) } }
        w.beginObject()
        w.key("event_id"); w.string(e.eventID.uuidString.lowercased())
        w.key("timestamp"); w.string(Timestamp.rfc3339(e.timestamp))
        w.key("request_id"); w.string(e.requestID)
        optional("parent_request_id", e.parentRequestID)
        optional("trace_id", e.traceID)
        optional("session_id", e.sessionID)
        optional("user_id", e.userID)
        optional("feature", e.feature)
        optional("environment", e.environment)
        optional("provider", e.provider)
        optional("model", e.model)
        optional("priced_model", e.pricedModel)
        if let step = e.stepIndex { w.key("step_index"); w.int(Int64(step)) }
        optional("step_type", e.stepType)
        optional("tool_name", e.toolName)
        w.key("status"); w.string(e.status.rawValue)
        optional("error_type", e.errorType)
        if let http = e.httpStatus { w.key("http_status"); w.int(Int64(http)) }
        w.key("tokens_in"); w.int(e.usage.input)
        w.key("tokens_out"); w.int(e.usage.output)
        w.key("cached_tokens"); w.int(e.usage.cachedInput)
        w.key("cache_write_tokens"); w.int(e.usage.cacheWrite)
        w.key("cost_usd"); if let cost = e.cost { w.rawNumber(cost.usdString) } else { w.null() }
        optional("cost_source", e.costSource?.rawValue)
        if let latency = e.latencyMs { w.key("latency_ms"); w.double(latency) }
        if let ttft = e.ttftMs { w.key("ttft_ms"); w.double(ttft) }
        w.key("retries"); w.int(Int64(e.retries))
        w.key("fallback_triggered"); w.bool(e.fallbackTriggered)
        w.key("cache_hit"); w.bool(e.cacheHit)
        if let total = e.totalCost { w.key("total_cost_usd"); w.rawNumber(total.usdString) }
        if let early = e.terminatedEarly { w.key("terminated_early"); w.bool(early) }
        if let loops = e.loopCount { w.key("loop_count"); w.int(Int64(loops)) }
        if !e.tags.isEmpty { w.key("tags"); w.beginArray(); for tag in e.tags { w.string(tag) }; w.endArray() }
        if let metadata = e.metadata, let value = try? JSONParser.parse(Array(metadata.utf8)) { w.key("metadata"); w.write(value) }
        if let text = e.text {
            optional("prompt", text.prompt)
            optional("response", text.response)
            optional("tool_input", text.toolInput)
            optional("tool_output", text.toolOutput)
            optional("intermediate_output", text.intermediateOutput)
            if text.truncated { w.key("text_truncated"); w.bool(true) }
        }
        w.endObject()
    }
}
