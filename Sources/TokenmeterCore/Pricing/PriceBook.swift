import Foundation

/// Dated model prices with name resolution: which price applies to a call, and what it cost.
///
/// Lookups never mutate, so a `PriceBook` can be shared freely across threads.
public struct PriceBook: Sendable {
    /// (provider, model) in lower case: the identity of one priced model.
    struct ModelKey: Hashable, Sendable {
        var provider: String
        var model: String
    }

    /// All prices of one model; `layers[0]` is the base book, each `overriding` call adds one.
    struct Series: Sendable {
        var provider: String
        var model: String
        var layers: [[ModelPrice]]   // each sorted by effectiveFrom
    }

    private(set) var series: [ModelKey: Series] = [:]
    /// Lower-cased name (canonical, alias, or last path component of a canonical name)
    /// → the models it may mean, in default provider order.
    private(set) var index: [String: [ModelKey]] = [:]
    private var layerCount = 1

    /// Without a provider, a name priced by several providers resolves to the first of
    /// these (e.g. a shared Llama alias → "groq" before "together"); providers not listed
    /// come after, alphabetically.
    public static let providerPrecedence = [
        "openai", "anthropic", "google", "mistral", "deepseek", "xai", "groq", "together",
    ]

    /// A book of base prices. No validation here (see ``decode(_:)``): for a repeated
    /// (provider, model, date) the later entry wins.
    public init(prices: [ModelPrice]) {
        for price in prices { insert(price, layer: 0) }
        rebuildIndex()
    }

    /// Every price held: the base prices, then each override layer; canonical names.
    public var prices: [ModelPrice] {
        let keys = series.keys.sorted { ($0.provider, $0.model) < ($1.provider, $1.model) }
        var result: [ModelPrice] = []
        for layer in 0..<layerCount {
            for key in keys where series[key]!.layers.count > layer {
                result += series[key]!.layers[layer]
            }
        }
        return result
    }

    /// The canonical model name `model` refers to (see ``resolve(model:provider:)`` rules
    /// in `PriceBook+Resolution.swift`), or `nil` when unknown.
    public func resolve(model: String, provider: String?) -> String? {
        resolveKey(model: model, provider: provider).flatMap { series[$0]?.model }
    }

    /// The price in force at `date`: the latest `effectiveFrom ≤ date`, where an override
    /// in force beats any base price. `nil` when the model is unknown or not yet priced.
    public func price(model: String, provider: String?, at date: Date) -> ModelPrice? {
        guard let key = resolveKey(model: model, provider: provider), let s = series[key] else { return nil }
        for layer in s.layers.reversed() {
            if let price = layer.last(where: { $0.effectiveFrom <= date }) { return price }
        }
        return nil
    }

    /// A book where `overrides` (e.g. a project's negotiated prices) win over this book's
    /// prices for the same canonical model from their `effectiveFrom` on; before that the
    /// existing prices still apply. An override's model is matched to an existing model
    /// by exact name, then by resolution (so "gpt-4o-2024-08-06" overrides "gpt-4o");
    /// otherwise it adds a new model. Its aliases are added to the resolution index.
    public func overriding(with overrides: [ModelPrice]) -> PriceBook {
        guard !overrides.isEmpty else { return self }
        var book = self
        let layer = layerCount
        book.layerCount += 1
        for var price in overrides {
            let exact = ModelKey(provider: PriceBook.normalizedProvider(price.provider), model: price.model.lowercased())
            let key = series[exact] != nil ? exact : (resolveKey(model: price.model, provider: price.provider) ?? exact)
            if let existing = book.series[key] {
                price.provider = existing.provider
                price.model = existing.model
            } else {
                price.provider = key.provider
            }
            book.insert(price, layer: layer)
        }
        book.rebuildIndex()
        return book
    }

    // MARK: - Building

    private mutating func insert(_ price: ModelPrice, layer: Int) {
        let key = ModelKey(provider: PriceBook.normalizedProvider(price.provider), model: price.model.lowercased())
        var s = series[key] ?? Series(provider: price.provider, model: price.model, layers: [])
        while s.layers.count <= layer { s.layers.append([]) }
        var prices = s.layers[layer]
        prices.removeAll { $0.effectiveFrom == price.effectiveFrom }
        prices.append(price)
        prices.sort { $0.effectiveFrom < $1.effectiveFrom }
        s.layers[layer] = prices
        series[key] = s
    }

    private mutating func rebuildIndex() {
        var index: [String: [ModelKey]] = [:]
        func add(_ name: String, _ key: ModelKey) {
            let lower = name.lowercased()
            guard !lower.isEmpty else { return }
            if !(index[lower]?.contains(key) ?? false) { index[lower, default: []].append(key) }
        }
        for (key, s) in series {
            add(s.model, key)
            if let slash = key.model.lastIndex(of: "/") {
                add(String(key.model[key.model.index(after: slash)...]), key)
            }
            for layer in s.layers {
                for price in layer {
                    for alias in price.aliases { add(alias, key) }
                }
            }
        }
        for name in index.keys {
            index[name]!.sort(by: PriceBook.defaultOrder)
        }
        self.index = index
    }

    static func defaultOrder(_ a: ModelKey, _ b: ModelKey) -> Bool {
        let pa = providerPrecedence.firstIndex(of: a.provider) ?? providerPrecedence.count
        let pb = providerPrecedence.firstIndex(of: b.provider) ?? providerPrecedence.count
        return (pa, a.provider, a.model) < (pb, b.provider, b.model)
    }
}
