import TokenmeterCore

/// Puts a cost on each event: the client's `cost_usd` wins; otherwise the price in force at the
/// event's time. An event with tokens whose model is unknown stays unpriced (nil), never 0.
public enum Pricer {
    public static func price(_ event: inout Event, with book: PriceBook) {
        if event.costSource == .client { return }
        let usage = event.usage
        let hasTokens = usage.input > 0 || usage.output > 0
        if event.cacheHit && !hasTokens {
            // Served from the app's own cache: no provider call, nothing to pay.
            event.cost = Money(picodollars: 0)
            return
        }
        guard let model = event.model else {
            // A step that is not an LLM call (tool, retrieval) costs nothing; tokens without a model cannot be priced.
            event.cost = hasTokens ? nil : Money(picodollars: 0)
            return
        }
        guard let price = book.price(model: model, provider: event.provider, at: event.timestamp) else {
            event.cost = nil
            return
        }
        event.pricedModel = price.model
        event.cost = PriceBook.cost(of: usage, at: price)
        event.costSource = .priceTable
    }
}
