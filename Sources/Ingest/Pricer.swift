import TokenmeterCore

/// Puts a cost on each event: the client's `cost_usd` wins; otherwise the price in force at the
/// event's time. An event with tokens whose model is unknown stays unpriced (nil), never 0.
/// Also values what the provider's prompt cache saved: cached tokens at the uncached input price.
public enum Pricer {
    public static func price(_ event: inout Event, with book: PriceBook) {
        let usage = event.usage
        let hasTokens = usage.input > 0 || usage.output > 0
        let price = event.model.flatMap { book.price(model: $0, provider: event.provider, at: event.timestamp) }
        if let price, usage.cachedInput > 0 {
            var uncached = usage
            uncached.cachedInput = 0
            event.cacheSavings = PriceBook.cost(of: uncached, at: price) - PriceBook.cost(of: usage, at: price)
        }
        if event.costSource == .client { return }
        if event.cacheHit && !hasTokens {
            // Served from the app's own cache: no provider call, nothing to pay.
            event.cost = Money(picodollars: 0)
            return
        }
        guard event.model != nil else {
            // A step that is not an LLM call (tool, retrieval) costs nothing; tokens without a model cannot be priced.
            event.cost = hasTokens ? nil : Money(picodollars: 0)
            return
        }
        guard let price else {
            event.cost = nil
            return
        }
        event.pricedModel = price.model
        event.cost = PriceBook.cost(of: usage, at: price)
        event.costSource = .priceTable
    }
}
