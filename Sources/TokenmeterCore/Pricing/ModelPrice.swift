import Foundation

/// What one provider charges for one model from a given day on.
///
/// Codable in the price-file format: snake_case keys, money as decimal strings
/// (`"2.50"`), `effective_from` as `"YYYY-MM-DD"` (UTC midnight).
public struct ModelPrice: Sendable, Hashable, Codable {
    /// Lower-case provider id: "openai", "anthropic", "google", "mistral", "deepseek", "xai", "groq", "together".
    public var provider: String
    /// Canonical model name, e.g. "gpt-4o", "claude-3-5-sonnet", "meta-llama/Llama-3.3-70B-Instruct-Turbo".
    public var model: String
    /// First day (UTC midnight) this price applies.
    public var effectiveFrom: Date
    /// USD per 1M input tokens.
    public var inputPerMillion: Money
    /// USD per 1M output tokens.
    public var outputPerMillion: Money
    /// USD per 1M input tokens read from the prompt cache; `nil` → the input price applies.
    public var cachedInputPerMillion: Money?
    /// USD per 1M input tokens written to the prompt cache; `nil` → the input price applies.
    public var cacheWritePerMillion: Money?
    /// Other names that mean this model (e.g. "claude-3-5-sonnet-latest").
    public var aliases: [String]

    public init(
        provider: String, model: String, effectiveFrom: Date,
        inputPerMillion: Money, outputPerMillion: Money,
        cachedInputPerMillion: Money? = nil, cacheWritePerMillion: Money? = nil,
        aliases: [String] = []
    ) {
        self.provider = provider
        self.model = model
        self.effectiveFrom = effectiveFrom
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
        self.cacheWritePerMillion = cacheWritePerMillion
        self.aliases = aliases
    }

    enum CodingKeys: String, CodingKey {
        case provider, model, aliases
        case effectiveFrom = "effective_from"
        case inputPerMillion = "input_per_million"
        case outputPerMillion = "output_per_million"
        case cachedInputPerMillion = "cached_input_per_million"
        case cacheWritePerMillion = "cache_write_per_million"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decode(String.self, forKey: .provider)
        model = try c.decode(String.self, forKey: .model)
        let day = try c.decode(String.self, forKey: .effectiveFrom)
        guard let date = CalendarDay.date(fromISODay: day) else {
            throw DecodingError.dataCorruptedError(
                forKey: .effectiveFrom, in: c, debugDescription: "invalid date \"\(day)\", expected YYYY-MM-DD")
        }
        effectiveFrom = date
        inputPerMillion = try c.decode(Money.self, forKey: .inputPerMillion)
        outputPerMillion = try c.decode(Money.self, forKey: .outputPerMillion)
        cachedInputPerMillion = try c.decodeIfPresent(Money.self, forKey: .cachedInputPerMillion)
        cacheWritePerMillion = try c.decodeIfPresent(Money.self, forKey: .cacheWritePerMillion)
        aliases = try c.decodeIfPresent([String].self, forKey: .aliases) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(provider, forKey: .provider)
        try c.encode(model, forKey: .model)
        try c.encode(CalendarDay.isoDay(from: effectiveFrom), forKey: .effectiveFrom)
        try c.encode(inputPerMillion, forKey: .inputPerMillion)
        try c.encode(outputPerMillion, forKey: .outputPerMillion)
        try c.encode(cachedInputPerMillion, forKey: .cachedInputPerMillion)
        try c.encode(cacheWritePerMillion, forKey: .cacheWritePerMillion)
        try c.encode(aliases, forKey: .aliases)
    }
}
