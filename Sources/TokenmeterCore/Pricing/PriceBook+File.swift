import Foundation

/// Why a price file was rejected: every problem found, each naming its entry.
public struct PriceFileError: Error, Sendable, CustomStringConvertible {
    /// e.g. `prices[12] (openai/gpt-4o 2024-05-13): input_per_million: invalid decimal amount "5,00"`.
    public let problems: [String]

    public var description: String {
        "invalid price file (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  " + $0 }.joined(separator: "\n")
    }
}

extension PriceBook {
    /// The price file bundled with Tokenmeter (`Resources/prices.json`), loaded and
    /// validated once per process.
    public static func shipped() throws -> PriceBook {
        try shippedResult.get()
    }

    private static let shippedResult: Result<PriceBook, any Error> = Result {
        guard let url = Bundle.module.url(forResource: "prices", withExtension: "json") else {
            throw PriceFileError(problems: ["prices.json is missing from the TokenmeterCore bundle"])
        }
        return try decode(try Data(contentsOf: url))
    }

    /// Decodes and validates a price file:
    ///
    ///     {"version": "2025-11-25", "sources": {"openai": "…"},
    ///      "prices": [{"provider": "openai", "model": "gpt-4o", "effective_from": "2024-05-13",
    ///                  "input_per_million": "5.00", "output_per_million": "15.00",
    ///                  "cached_input_per_million": null, "cache_write_per_million": null,
    ///                  "aliases": ["gpt-4o-latest"], "note": "optional"}, …]}
    ///
    /// Money must be decimal strings. Rejected, with every problem listed: missing or
    /// mistyped fields, unknown keys, bad dates or amounts, negative prices, a provider
    /// id that is not lower-case `[a-z0-9._-]`, a repeated (provider, model, date), and a
    /// name (model or alias) that means two different models of one provider.
    public static func decode(_ data: Data) throws -> PriceBook {
        let file: PriceFileDocument
        do {
            file = try JSONDecoder().decode(PriceFileDocument.self, from: data)
        } catch {
            throw PriceFileError(problems: ["not a price file: \(describe(error))"])
        }
        var problems: [String] = []
        var prices: [ModelPrice] = []
        var seen: [String: Int] = [:]                      // provider/model/date → entry index
        var names: [String: (model: String, index: Int)] = [:]   // provider/name → model

        for (i, entry) in file.prices.enumerated() {
            let label = "prices[\(i)] (\(entry.label))"
            switch entry.result {
            case .failure(let message):
                problems.append("\(label): \(message.text)")
                continue
            case .success(let price):
                for key in entry.unknownKeys { problems.append("\(label): unknown key \"\(key)\"") }
                problems += validate(price).map { "\(label): \($0)" }
                let id = "\(price.provider)/\(price.model.lowercased())/\(CalendarDay.isoDay(from: price.effectiveFrom))"
                if let first = seen[id] {
                    problems.append("\(label): duplicate of prices[\(first)] (same provider, model and date)")
                } else {
                    seen[id] = i
                }
                for name in [price.model] + price.aliases {
                    let nameKey = "\(price.provider)/\(name.lowercased())"
                    if let other = names[nameKey], other.model.lowercased() != price.model.lowercased() {
                        problems.append(
                            "\(label): name \"\(name)\" already means \(price.provider)/\(other.model) (prices[\(other.index)])")
                    } else if names[nameKey] == nil {
                        names[nameKey] = (price.model, i)
                    }
                }
                prices.append(price)
            }
        }
        if file.prices.isEmpty { problems.append("\"prices\" is empty") }
        guard problems.isEmpty else { throw PriceFileError(problems: problems) }
        return PriceBook(prices: prices)
    }

    private static func validate(_ price: ModelPrice) -> [String] {
        var problems: [String] = []
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        if price.provider.isEmpty || !price.provider.allSatisfy(allowed.contains) {
            problems.append("provider \"\(price.provider)\" must be a lower-case id")
        }
        if price.model.isEmpty || price.model.contains(where: \.isWhitespace) {
            problems.append("model \"\(price.model)\" must be non-empty without spaces")
        }
        let amounts: [(String, Money?)] = [
            ("input_per_million", price.inputPerMillion), ("output_per_million", price.outputPerMillion),
            ("cached_input_per_million", price.cachedInputPerMillion),
            ("cache_write_per_million", price.cacheWritePerMillion),
        ]
        for case let (field, money?) in amounts where money < .zero {
            problems.append("\(field) is negative (\(money))")
        }
        for alias in price.aliases where alias.isEmpty || alias.contains(where: \.isWhitespace) {
            problems.append("alias \"\(alias)\" must be non-empty without spaces")
        }
        return problems
    }

    /// A one-line reason; `droppingPath` leading coding-path components are left out
    /// (an entry's own errors need not repeat "prices[3]").
    static func describe(_ error: any Error, droppingPath: Int = 0) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath.dropFirst(droppingPath) {
                if let i = key.intValue { text += "[\(i)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = path(context.codingPath)
            return "missing \"\(key.stringValue)\"" + (at.isEmpty ? "" : " in \(at)")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .dataCorrupted(let context):
            let at = path(context.codingPath)
            return (at.isEmpty ? "" : "\(at): ") + context.debugDescription
        @unknown default:
            return String(describing: error)
        }
    }
}

/// The file's top level; entries decode leniently so one bad entry is reported by index.
private struct PriceFileDocument: Decodable {
    var version: String?
    var prices: [LenientEntry]
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private struct LenientEntry: Decodable {
    static let knownKeys: Set<String> = [
        "provider", "model", "effective_from", "input_per_million", "output_per_million",
        "cached_input_per_million", "cache_write_per_million", "aliases", "note",
    ]
    var result: Result<ModelPrice, Message>
    var label: String
    var unknownKeys: [String] = []

    struct Message: Error { var text: String }

    init(from decoder: any Decoder) throws {
        let raw = try? decoder.container(keyedBy: AnyKey.self)
        let provider = (try? raw?.decode(String.self, forKey: AnyKey(stringValue: "provider"))) ?? "?"
        let model = (try? raw?.decode(String.self, forKey: AnyKey(stringValue: "model"))) ?? "?"
        let day = (try? raw?.decode(String.self, forKey: AnyKey(stringValue: "effective_from"))) ?? "?"
        label = "\(provider)/\(model) \(day)"
        unknownKeys = (raw?.allKeys.map(\.stringValue) ?? []).filter { !Self.knownKeys.contains($0) }.sorted()
        // Amounts must be strings: a JSON number has already lost exactness.
        for field in ["input_per_million", "output_per_million", "cached_input_per_million", "cache_write_per_million"] {
            let key = AnyKey(stringValue: field)
            guard let raw, raw.contains(key), (try? raw.decodeNil(forKey: key)) == false else { continue }
            if (try? raw.decode(String.self, forKey: key)) == nil {
                result = .failure(Message(text: "\(field) must be a decimal string, e.g. \"2.50\""))
                return
            }
        }
        do {
            result = .success(try ModelPrice(from: decoder))
        } catch {
            let depth = decoder.codingPath.count
            result = .failure(Message(text: PriceBook.describe(error, droppingPath: depth)
                .replacingOccurrences(of: "\n", with: " ")))
        }
    }
}
