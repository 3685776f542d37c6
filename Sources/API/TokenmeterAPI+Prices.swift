import Foundation
import HTTP
import JSON
import TokenmeterCore

extension TokenmeterAPI {
    /// GET /v1/prices[?model=&provider=]: the prices in force for this project (shipped + overrides),
    /// every dated version, each marked with its source.
    func prices(_ request: HTTPRequest) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .read)
        let params = QueryParameters(request: request)
        try params.rejectUnknown(allowed: ["model", "provider"])
        let provider = try params.string("provider", maxBytes: 64)?.lowercased()
        let overrides = try deps.priceOverrides.overrides(project: principal.project)
        let shipped = deps.priceBooks.shippedBook
        var selected: [(ModelPrice, String)] = shipped.prices.map { ($0, "shipped") } + overrides.map { ($0, "override") }
        if let model = try params.string("model", maxBytes: 256) {
            let book = overrides.isEmpty ? shipped : shipped.overriding(with: overrides)
            guard let canonical = book.resolve(model: model, provider: provider) else {
                throw APIError.notFound("no price for model \(model.prefix(200))")
            }
            selected = selected.filter { $0.0.model == canonical }
        }
        if let provider { selected = selected.filter { $0.0.provider == provider } }
        selected.sort { ($0.0.provider, $0.0.model, $0.0.effectiveFrom) < ($1.0.provider, $1.0.model, $1.0.effectiveFrom) }
        return json(200) { w in
            w.key("prices"); w.beginArray()
            for (price, source) in selected { TokenmeterAPI.writePrice(price, source: source, into: &w) }
            w.endArray()
        }
    }

    static func writePrice(_ price: ModelPrice, source: String, into w: inout JSONWriter) {
        w.beginObject()
        w.key("provider"); w.string(price.provider)
        w.key("model"); w.string(price.model)
        w.key("effective_from"); w.string(Timestamp.rfc3339(price.effectiveFrom))
        w.key("input_per_million"); w.rawNumber(price.inputPerMillion.usdString)
        w.key("output_per_million"); w.rawNumber(price.outputPerMillion.usdString)
        w.key("cached_input_per_million"); if let m = price.cachedInputPerMillion { w.rawNumber(m.usdString) } else { w.null() }
        w.key("cache_write_per_million"); if let m = price.cacheWritePerMillion { w.rawNumber(m.usdString) } else { w.null() }
        if !price.aliases.isEmpty { w.key("aliases"); w.beginArray(); for a in price.aliases { w.string(a) }; w.endArray() }
        w.key("source"); w.string(source)
        w.endObject()
    }

    /// PUT /v1/prices/{model} (ingest key): a project-specific price, applied to events ingested from
    /// then on whose timestamp is at or after `effective_from`.
    func putPrice(_ request: HTTPRequest, model: String) throws -> HTTPResponse {
        let principal = try deps.authenticator.authenticate(request, requiring: .ingest)
        guard !model.isEmpty, model.utf8.count <= 256, !model.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw APIError.badRequest("the model name in the path must be 1-256 printable characters", field: "model")
        }
        let body: JSONValue
        do { body = try JSONParser.parse(request.body) } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)", field: "body", code: "invalid_json")
        }
        guard case .object(let object) = body else { throw APIError.badRequest("the body must be a JSON object", field: "body") }
        let known: Set<String> = ["provider", "input_per_million", "output_per_million", "cached_input_per_million", "cache_write_per_million", "effective_from"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw APIError.badRequest("unknown field \"\(unknown.prefix(64))\"", field: String(unknown.prefix(64)))
        }
        func money(_ field: String, required: Bool) throws -> Money? {
            guard let value = object[field], value != .null else {
                if required { throw APIError.badRequest("\(field) is required (USD per 1M tokens)", field: field) }
                return nil
            }
            let parsed: Money?
            switch value {
            case .string(let s): parsed = Money(decimalString: s)
            case .number(let n): parsed = Money(decimalString: n.text)
            default: parsed = nil
            }
            guard let parsed, parsed.picodollars >= 0, parsed <= Money(picodollars: 1_000_000 * 1_000_000_000_000) else {
                throw APIError.badRequest("\(field) must be a non-negative USD amount per 1M tokens (at most 1000000)", field: field)
            }
            return parsed
        }
        var givenProvider: String?
        if let value = object["provider"], value != .null {
            guard case .string(let s) = value, !s.isEmpty, s.utf8.count <= 64 else { throw APIError.badRequest("provider must be a short string", field: "provider") }
            givenProvider = s.lowercased()
        }
        // "openai/gpt-4o-2024-08-06" overrides the canonical "gpt-4o" of the shipped table, under its provider.
        let shippedMatch = deps.priceBooks.shippedBook.price(model: model, provider: givenProvider, at: .distantFuture)
        let provider = givenProvider ?? shippedMatch?.provider ?? "custom"
        let canonical = shippedMatch?.model ?? model
        var effectiveFrom = Date(timeIntervalSince1970: 0)
        if let value = object["effective_from"], value != .null {
            guard case .string(let s) = value, let date = Timestamp.parseRFC3339(s) ?? Timestamp.parseRFC3339(s + "T00:00:00Z") else {
                throw APIError.badRequest("effective_from must be a date (2026-01-31) or an RFC 3339 timestamp", field: "effective_from")
            }
            effectiveFrom = date
        }
        let price = ModelPrice(provider: provider, model: canonical, effectiveFrom: effectiveFrom,
                               inputPerMillion: try money("input_per_million", required: true)!,
                               outputPerMillion: try money("output_per_million", required: true)!,
                               cachedInputPerMillion: try money("cached_input_per_million", required: false),
                               cacheWritePerMillion: try money("cache_write_per_million", required: false),
                               aliases: [])
        try deps.priceOverrides.upsertOverride(project: principal.project, price: price)
        deps.priceBooks.invalidate(principal.project)
        return json(200) { w in
            w.key("price")
            TokenmeterAPI.writePrice(price, source: "override", into: &w)
        }
    }
}
