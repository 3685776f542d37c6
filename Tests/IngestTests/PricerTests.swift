import Foundation
import Ingest
import Testing
import TokenmeterCore

struct PricerTests {
    let book = PriceBook(prices: [
        ModelPrice(provider: "acme", model: "acme-1", effectiveFrom: Date(timeIntervalSince1970: 0),
                   inputPerMillion: Money(decimalString: "1")!, outputPerMillion: Money(decimalString: "2")!,
                   cachedInputPerMillion: Money(decimalString: "0.5")!, cacheWritePerMillion: nil, aliases: []),
    ])

    func event(model: String?, tokensIn: Int64 = 0, tokensOut: Int64 = 0) -> Event {
        var e = Event(eventID: UUID(), timestamp: Date(timeIntervalSince1970: 1_000_000), requestID: "r")
        e.model = model
        e.usage = TokenUsage(input: tokensIn, output: tokensOut, cachedInput: 0, cacheWrite: 0)
        return e
    }

    @Test func pricesKnownModels() {
        var e = event(model: "acme-1", tokensIn: 1_000_000, tokensOut: 500_000)
        Pricer.price(&e, with: book)
        #expect(e.cost == Money(decimalString: "2"))
        #expect(e.pricedModel == "acme-1")
        #expect(e.costSource == .priceTable)
    }

    @Test func unknownModelWithTokensIsUnpricedNotZero() {
        var e = event(model: "mystery", tokensIn: 10)
        Pricer.price(&e, with: book)
        #expect(e.cost == nil)
        var noModel = event(model: nil, tokensIn: 10)
        Pricer.price(&noModel, with: book)
        #expect(noModel.cost == nil)
    }

    @Test func stepsWithoutTokensAndAppCacheHitsCostNothing() {
        var tool = event(model: nil)
        Pricer.price(&tool, with: book)
        #expect(tool.cost == Money(picodollars: 0))
        var hit = event(model: "acme-1")
        hit.cacheHit = true
        Pricer.price(&hit, with: book)
        #expect(hit.cost == Money(picodollars: 0))
    }

    @Test func clientCostWins() {
        var e = event(model: "acme-1", tokensIn: 1_000_000)
        e.cost = Money(usd: 0.25)
        e.costSource = .client
        Pricer.price(&e, with: book)
        #expect(e.cost == Money(usd: 0.25))
    }
}
