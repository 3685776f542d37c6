import Foundation
import HTTP
import JSON
import TokenmeterCore

extension QueryParameters {
    /// `from`, `to`, `interval`, `group_by`, the dimension filters and `tz`, validated.
    func usageQuery(project: ProjectID, now: Date, groupable: Set<UsageDimension> = Set(UsageDimension.allCases),
                    defaultInterval: UsageInterval = .none) throws -> UsageQuery {
        let range = try timeRange(now: now)
        let interval = try choice("interval", default: defaultInterval)
        if let seconds = interval.seconds, range.to.timeIntervalSince(range.from) / Double(seconds) > 50_000 {
            throw APIError.badRequest("the range holds more than 50,000 \(interval.rawValue) buckets; pick a coarser interval", field: "interval")
        }
        let groupBy = try dimensions("group_by")
        if let bad = groupBy.first(where: { !groupable.contains($0) }) {
            throw APIError.badRequest("group_by may use \(groupable.map(\.rawValue).sorted().joined(separator: ", ")) here, not \(bad.rawValue)", field: "group_by")
        }
        let filters = try filters()
        var zone: String?
        if let tz = try string("tz", maxBytes: 64) {
            guard tz.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "/_+-".unicodeScalars.contains($0) }),
                  TimeZone(identifier: tz) != nil else {
                throw APIError.badRequest("tz must be an IANA time zone such as Europe/Berlin or UTC", field: "tz")
            }
            zone = tz == "UTC" || tz == "Etc/UTC" ? nil : tz
        }
        return UsageQuery(project: project, range: range, interval: interval, groupBy: groupBy, filters: filters, timeZone: zone)
    }

    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = try string(name, maxBytes: 20) else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw APIError.badRequest("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name)
        }
        return parsed
    }

    func number(_ name: String) throws -> Double? {
        guard let text = try string(name, maxBytes: 32) else { return nil }
        guard let parsed = Double(text), parsed.isFinite, parsed >= 0 else {
            throw APIError.badRequest("\(name) must be a non-negative number", field: name)
        }
        return parsed
    }

    static let usageParameters: Set<String> = Set(["from", "to", "interval", "group_by", "tz"] + UsageDimension.allCases.map(\.rawValue))
}

extension TokenmeterAPI {
    /// GET /v1/latency?metric=latency|ttft: p50/p90/p95/p99/max per bucket and group, from sketches.
    func latency(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: QueryParameters.usageParameters.union(["metric", "histogram"]))
        let metric = try params.choice("metric", default: LatencyMetric.latency)
        // 0 = no histogram; otherwise at most that many log-scale bars per row, exact counts.
        let histogramBins = try params.integer("histogram", default: 0, in: 0...100)
        let query = try params.usageQuery(project: principal.project, now: deps.clock(),
                                          groupable: [.feature, .model, .provider, .environment, .userID, .status, .stepType])
        let rows = try deps.usage.latency(query, metric: metric)
        return json(200) { w in
            TokenmeterAPI.writeQueryEcho(query, into: &w)
            w.key("metric"); w.string(metric.rawValue)
            w.key("rows"); w.beginArray()
            for row in rows {
                w.beginObject()
                TokenmeterAPI.writeGroup(bucket: row.bucket, dimensions: row.dimensions, groupBy: query.groupBy, into: &w)
                w.key("count"); w.int(row.sketch.count)
                for (name, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
                    w.key(name); TokenmeterAPI.writeMillis(row.sketch.quantile(q), into: &w)
                }
                w.key("max"); TokenmeterAPI.writeMillis(row.sketch.maximum, into: &w)
                if histogramBins > 0 {
                    w.key("histogram"); w.beginArray()
                    for bin in row.sketch.histogram(maxBins: histogramBins) {
                        w.beginObject()
                        w.key("from_ms"); TokenmeterAPI.writeMillis(bin.lower, into: &w)
                        w.key("to_ms"); TokenmeterAPI.writeMillis(bin.upper, into: &w)
                        w.key("count"); w.int(bin.count)
                        w.endObject()
                    }
                    w.endArray()
                }
                w.endObject()
            }
            w.endArray()
        }
    }

    /// GET /v1/top?dimension=user_id|feature|model&metric=cost_usd|tokens|calls|errors&limit=10
    func top(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: Set(["from", "to", "tz", "dimension", "metric", "limit"] + UsageDimension.allCases.map(\.rawValue)))
        let allowed: [UsageDimension] = [.userID, .feature, .model, .provider, .environment, .stepType]
        guard let dimensionName = try params.string("dimension", maxBytes: 32) else {
            throw APIError.badRequest("dimension is required: one of \(allowed.map(\.rawValue).joined(separator: ", "))", field: "dimension")
        }
        guard let dimension = UsageDimension(rawValue: dimensionName), allowed.contains(dimension) else {
            throw APIError.badRequest("dimension must be one of \(allowed.map(\.rawValue).joined(separator: ", "))", field: "dimension")
        }
        let metric = try params.choice("metric", default: UsageMetric.costUSD)
        let limit = try params.integer("limit", default: 10, in: 1...1000)
        var query = try params.usageQuery(project: principal.project, now: deps.clock())
        query.groupBy = [dimension]
        query.top = (metric, limit)
        let rows = try deps.usage.usage(query)
        return json(200) { w in
            TokenmeterAPI.writeQueryEcho(query, into: &w)
            w.key("dimension"); w.string(dimension.rawValue)
            w.key("metric"); w.string(metric.rawValue)
            w.key("rows"); w.beginArray()
            for row in rows { TokenmeterAPI.writeUsageRow(row, groupBy: query.groupBy, into: &w) }
            w.endArray()
        }
    }

    /// GET /v1/cache: app-cache hit rate, provider prompt-cache share of input tokens, and what each saved.
    func cache(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: QueryParameters.usageParameters)
        var query = try params.usageQuery(project: principal.project, now: deps.clock(),
                                          groupable: [.feature, .model, .provider, .environment, .status, .stepType])
        let requested = query.groupBy
        // App-cache hits are valued at the average cost of the misses of the same feature, so the
        // answer is computed per feature and then folded into the requested groups.
        if !query.groupBy.contains(.feature) { query.groupBy.append(.feature) }
        let perFeature = try deps.usage.usage(query, includeCache: true)
        struct Totals {
            var calls: Int64 = 0, hits: Int64 = 0, providerHits: Int64 = 0, tokensIn: Int64 = 0, cached: Int64 = 0
            var cachedSavings = Decimal(0), appSavings = Decimal(0), appSavingsUnpriced: Int64 = 0
        }
        var groups: [(key: [String?], bucket: Date?, totals: Totals)] = []
        var positions: [String: Int] = [:]
        for row in perFeature {
            let key = requested.map { row.dimensions[$0] ?? nil }
            let id = "\(row.bucket?.timeIntervalSince1970 ?? 0)|" + key.map { $0 ?? "\u{0}" }.joined(separator: "\u{1}")
            if positions[id] == nil {
                positions[id] = groups.count
                groups.append((key, row.bucket, Totals()))
            }
            var t = groups[positions[id]!].totals
            t.calls += row.calls
            t.hits += row.cacheHits
            t.providerHits += row.providerCacheHits
            t.tokensIn += row.tokensIn
            t.cached += row.cachedTokens
            t.cachedSavings += Decimal(string: row.cacheSavingsUSD) ?? 0
            if row.cacheHits > 0 {
                if row.missPricedCalls > 0, let missCost = Decimal(string: row.missCostUSD) {
                    t.appSavings += missCost / Decimal(row.missPricedCalls) * Decimal(row.cacheHits)
                } else {
                    t.appSavingsUnpriced += row.cacheHits
                }
            }
            groups[positions[id]!].totals = t
        }
        return json(200) { w in
            TokenmeterAPI.writeQueryEcho(query, groupBy: requested, into: &w)
            w.key("rows"); w.beginArray()
            for group in groups {
                var dimensions: [UsageDimension: String?] = [:]
                for (i, d) in requested.enumerated() { dimensions[d] = group.key[i] }
                let t = group.totals
                w.beginObject()
                TokenmeterAPI.writeGroup(bucket: group.bucket, dimensions: dimensions, groupBy: requested, into: &w)
                w.key("calls"); w.int(t.calls)
                w.key("cache_hits"); w.int(t.hits)
                w.key("cache_hit_rate"); if t.calls > 0 { w.double(Double(t.hits) / Double(t.calls)) } else { w.null() }
                w.key("tokens_in"); w.int(t.tokensIn)
                w.key("cached_tokens"); w.int(t.cached)
                w.key("provider_cache_hits"); w.int(t.providerHits)
                w.key("provider_cache_hit_rate"); if t.calls > 0 { w.double(Double(t.providerHits) / Double(t.calls)) } else { w.null() }
                w.key("cached_token_share"); if t.tokensIn > 0 { w.double(Double(t.cached) / Double(t.tokensIn)) } else { w.null() }
                w.key("cached_tokens_saved_usd"); w.rawNumber(TokenmeterAPI.usd(t.cachedSavings))
                w.key("cache_hits_saved_usd"); w.rawNumber(TokenmeterAPI.usd(t.appSavings))
                w.key("cache_hits_unvalued"); w.int(t.appSavingsUnpriced)
                w.key("saved_usd"); w.rawNumber(TokenmeterAPI.usd(t.cachedSavings + t.appSavings))
                w.endObject()
            }
            w.endArray()
        }
    }

    /// GET /v1/requests: recent calls, newest first, keyset-paginated with an opaque `cursor`.
    func recentRequests(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: Set(["from", "to", "cursor", "limit", "min_cost_usd", "min_latency_ms", "session_id"]
                                                + UsageDimension.allCases.map(\.rawValue)))
        var query = RecentEventsQuery(project: principal.project, range: try params.timeRange(now: deps.clock(), defaultSpan: 30 * 86_400))
        query.filters = try params.filters()
        query.sessionID = try params.string("session_id")
        query.limit = try params.integer("limit", default: 50, in: 1...500)
        if let minCost = try params.number("min_cost_usd") { query.minCost = Money(usd: minCost) }
        query.minLatencyMs = try params.number("min_latency_ms")
        if let cursor = try params.string("cursor", maxBytes: 128) {
            guard let decoded = RequestCursor.decode(cursor) else { throw APIError.badRequest("cursor is not one this API returned", field: "cursor") }
            query.after = decoded
        }
        let events = try deps.usage.recentEvents(query)
        return json(200) { w in
            w.key("requests"); w.beginArray()
            for event in events { EventJSON.write(event, into: &w) }
            w.endArray()
            w.key("next_cursor")
            if events.count == query.limit, let last = events.last { w.string(RequestCursor.encode(last)) } else { w.null() }
        }
    }

    /// GET /v1/sessions/{id} and /v1/users/{id}: totals over the range and the most recent calls.
    func entity(_ request: HTTPRequest, dimension: UsageDimension?, id: String) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        guard id.utf8.count <= 512 else { throw APIError.badRequest("the id is too long", field: dimension?.rawValue ?? "session_id") }
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: ["from", "to", "limit"])
        let range = try params.timeRange(now: deps.clock(), defaultSpan: 30 * 86_400)
        var recent = RecentEventsQuery(project: principal.project, range: range, limit: try params.integer("limit", default: 50, in: 1...500))
        var totals = UsageQuery(project: principal.project, range: range, interval: .none, groupBy: [], filters: [:])
        if let dimension {
            recent.filters[dimension] = id
            totals.filters[dimension] = id
        } else {
            recent.sessionID = id
            totals.sessionID = id
        }
        let events = try deps.usage.recentEvents(recent)
        let sums = try deps.usage.usage(totals).first
        guard let sums, sums.calls > 0 || !events.isEmpty else {
            throw APIError.notFound("no \(dimension?.rawValue ?? "session_id") \(id.prefix(200)) in this project and range")
        }
        return json(200) { w in
            w.key(dimension?.rawValue ?? "session_id"); w.string(id)
            w.key("from"); w.string(Timestamp.rfc3339(range.from))
            w.key("to"); w.string(Timestamp.rfc3339(range.to))
            w.key("totals"); TokenmeterAPI.writeUsageRow(sums, groupBy: [], into: &w)
            w.key("recent_requests"); w.beginArray()
            for event in events { EventJSON.write(event, into: &w) }
            w.endArray()
        }
    }

    // MARK: - Shared writers

    static func writeQueryEcho(_ query: UsageQuery, groupBy: [UsageDimension]? = nil, into w: inout JSONWriter) {
        w.key("from"); w.string(Timestamp.rfc3339(query.range.from))
        w.key("to"); w.string(Timestamp.rfc3339(query.range.to))
        w.key("interval"); w.string(query.interval.rawValue)
        if let zone = query.timeZone { w.key("tz"); w.string(zone) }
        w.key("group_by"); w.beginArray(); for d in groupBy ?? query.groupBy { w.string(d.rawValue) }; w.endArray()
    }

    static func writeGroup(bucket: Date?, dimensions: [UsageDimension: String?], groupBy: [UsageDimension], into w: inout JSONWriter) {
        if let bucket { w.key("bucket"); w.string(Timestamp.rfc3339(bucket)) }
        for dimension in groupBy {
            w.key(UsageRowKeys.dimensions[UsageDimension.allCases.firstIndex(of: dimension)!])
            if let value = dimensions[dimension] ?? nil { w.string(value) } else { w.null() }
        }
    }

    static func writeUsageRow(_ row: UsageRow, groupBy: [UsageDimension], into w: inout JSONWriter) {
        typealias Key = UsageRowKeys
        w.beginObject()
        writeGroup(bucket: row.bucket, dimensions: row.dimensions, groupBy: groupBy, into: &w)
        w.key(Key.calls); w.int(row.calls)
        w.key(Key.tokensIn); w.int(row.tokensIn)
        w.key(Key.tokensOut); w.int(row.tokensOut)
        w.key(Key.cachedTokens); w.int(row.cachedTokens)
        w.key(Key.cacheWriteTokens); w.int(row.cacheWriteTokens)
        w.key(Key.costUSD); w.rawNumber(row.costUSD)
        w.key(Key.unpricedCalls); w.int(row.unpricedCalls)
        w.key(Key.errors); w.int(row.errors)
        w.key(Key.retries); w.int(row.retries)
        w.key(Key.fallbacks); w.int(row.fallbacks)
        w.key(Key.cacheHits); w.int(row.cacheHits)
        w.key(Key.providerCacheHits); w.int(row.providerCacheHits)
        w.endObject()
    }

    /// Milliseconds to 6 significant digits, or null. Significant digits rather than fixed decimals, so
    /// sub-millisecond values keep the sketch's 1% relative accuracy.
    static func writeMillis(_ value: Double?, into w: inout JSONWriter) {
        guard let value else { w.null(); return }
        guard value > 0 else { w.double(0); return }
        let scale = pow(10, 5 - (log10(value)).rounded(.down))
        w.double((value * scale).rounded() / scale)
    }

    /// A decimal amount of USD rounded to 12 places (picodollars), as a JSON number literal.
    static func usd(_ amount: Decimal) -> String {
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 12, .plain)
        return Money(decimalString: "\(rounded)")?.usdString ?? "0"
    }
}

/// The member names of a usage row, encoded once.
private enum UsageRowKeys {
    static let calls = JSONWriter.Key("calls"), tokensIn = JSONWriter.Key("tokens_in"), tokensOut = JSONWriter.Key("tokens_out")
    static let cachedTokens = JSONWriter.Key("cached_tokens"), cacheWriteTokens = JSONWriter.Key("cache_write_tokens")
    static let costUSD = JSONWriter.Key("cost_usd"), unpricedCalls = JSONWriter.Key("unpriced_calls"), errors = JSONWriter.Key("errors")
    static let retries = JSONWriter.Key("retries"), fallbacks = JSONWriter.Key("fallbacks"), cacheHits = JSONWriter.Key("cache_hits")
    static let providerCacheHits = JSONWriter.Key("provider_cache_hits")
    /// In the order of `UsageDimension.allCases`.
    static let dimensions = UsageDimension.allCases.map { JSONWriter.Key($0.rawValue) }
}

/// The opaque keyset cursor of `GET /v1/requests`: base64url of "<µs since epoch>.<event id>".
enum RequestCursor {
    static func encode(_ event: Event) -> String {
        let micros = Int64((event.timestamp.timeIntervalSince1970 * 1_000_000).rounded())
        let raw = "\(micros).\(event.eventID.uuidString.lowercased())"
        return Data(raw.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> (micros: Int64, eventID: UUID)? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let raw = String(data: data, encoding: .utf8) else { return nil }
        let parts = raw.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        return (micros, id)
    }
}
