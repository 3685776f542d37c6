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

/// Token counts of one call, as the pricing needs them.
public struct TokenUsage: Sendable, Hashable {
    /// All input tokens, cached and cache-write included.
    public var input: Int64
    public var output: Int64
    /// The part of `input` read from the provider's prompt cache.
    public var cachedInput: Int64
    /// The part of `input` written to the prompt cache.
    public var cacheWrite: Int64

    public init(input: Int64, output: Int64, cachedInput: Int64 = 0, cacheWrite: Int64 = 0) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
    }
}

/// `YYYY-MM-DD` ↔ UTC midnight, by arithmetic (proleptic Gregorian), no Calendar or locale.
enum CalendarDay {
    static func date(fromISODay text: String) -> Date? {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                let d = Int(u[i]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                n = n * 10 + d
            }
            return n
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
              (1...12).contains(m), d >= 1, d <= daysInMonth(y, m) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(daysFromCivil(y, m, d)) * 86_400)
    }

    static func isoDay(from date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (y, m, d) = civilFromDays(days)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
