import Foundation
import Testing
@testable import TokenmeterCore

private func money(_ s: String) -> Money { Money(decimalString: s)! }

private func price(_ input: String, _ output: String, cached: String? = nil, write: String? = nil) -> ModelPrice {
    ModelPrice(
        provider: "test", model: "m", effectiveFrom: Date(timeIntervalSince1970: 0),
        inputPerMillion: money(input), outputPerMillion: money(output),
        cachedInputPerMillion: cached.map(money), cacheWritePerMillion: write.map(money))
}

struct PricingCostTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var usage: TokenUsage
        var price: ModelPrice
        var expected: String
        var testDescription: String { "\(usage) → \(expected)" }
    }

    @Test(arguments: [
        // gpt-4o: 1000 in × $2.50/M + 500 out × $10/M = 0.0025 + 0.005
        Case(usage: TokenUsage(input: 1000, output: 500), price: price("2.50", "10.00", cached: "1.25"), expected: "0.0075"),
        // 1000 in of which 800 cached: 200 × 2.50 + 800 × 1.25 = 500 + 1000 → 0.0015; + 0 out
        Case(usage: TokenUsage(input: 1000, output: 0, cachedInput: 800), price: price("2.50", "10.00", cached: "1.25"),
             expected: "0.0015"),
        // Claude Sonnet: 10,000 in = 2,000 uncached + 5,000 cache read + 3,000 cache write; 1,000 out
        //   2000×3 + 5000×0.30 + 3000×3.75 + 1000×15 = 6000 + 1500 + 11250 + 15000 = 33750 µ$·M⁻¹ → $0.03375
        Case(usage: TokenUsage(input: 10_000, output: 1_000, cachedInput: 5_000, cacheWrite: 3_000),
             price: price("3.00", "15.00", cached: "0.30", write: "3.75"), expected: "0.03375"),
        // No cached / write price: the input price applies to those tokens.
        Case(usage: TokenUsage(input: 1_000, output: 0, cachedInput: 400, cacheWrite: 100), price: price("1.00", "2.00"),
             expected: "0.001"),
        // Cached + write exceed input: uncached part clamps at 0, the rest is still charged.
        Case(usage: TokenUsage(input: 100, output: 0, cachedInput: 80, cacheWrite: 80),
             price: price("10.00", "0", cached: "1.00", write: "20.00"), expected: "0.00168"),
        // 1 token at $0.0375/M = 37,500 pd exactly.
        Case(usage: TokenUsage(input: 1, output: 0), price: price("0.0375", "0.15"), expected: "0.0000000375"),
        // Sub-picodollar results round once, half up: $0.0000001/M is 0.1 pd per token.
        Case(usage: TokenUsage(input: 1, output: 0), price: price("0.0000001", "0"), expected: "0"),
        Case(usage: TokenUsage(input: 4, output: 0), price: price("0.0000001", "0"), expected: "0"),
        Case(usage: TokenUsage(input: 5, output: 0), price: price("0.0000001", "0"), expected: "0.000000000001"),
        Case(usage: TokenUsage(input: 14, output: 0), price: price("0.0000001", "0"), expected: "0.000000000001"),
        Case(usage: TokenUsage(input: 1, output: 1), price: price("0.0000006", "0.0000006"), expected: "0.000000000001"),  // 1.2 pd, rounded once
        // Negative counts count as 0.
        Case(usage: TokenUsage(input: -5, output: -1), price: price("1", "1"), expected: "0"),
        // 1e12 output tokens at $75/M = $75,000,000 = 7.5e19 pd: beyond Int64, saturates.
        Case(usage: TokenUsage(input: 0, output: 1_000_000_000_000), price: price("15", "75"), expected: "9223372.036854775807"),
        // 1e11 output tokens at $75/M = $7,500,000 exactly.
        Case(usage: TokenUsage(input: 0, output: 100_000_000_000), price: price("15", "75"), expected: "7500000"),
        // Extreme values saturate instead of trapping.
        Case(usage: TokenUsage(input: .max, output: .max, cachedInput: .max, cacheWrite: .max),
             price: price("9223372", "9223372", cached: "9223372", write: "9223372"), expected: "9223372.036854775807"),
    ])
    func computesExactCost(_ c: Case) {
        #expect(PriceBook.cost(of: c.usage, at: c.price).usdString == c.expected)
    }

    @Test func costIsLinearWithoutDrift() {
        // 1000 calls of 333 tokens at $0.15/M, summed, equal the cost of 333,000 tokens
        // (both exact; 333 × 0.15 = 49.95 µ$ per call, representable in picodollars).
        let p = price("0.15", "0.60")
        var total = Money.zero
        for _ in 0..<1000 { total += PriceBook.cost(of: TokenUsage(input: 333, output: 0), at: p) }
        #expect(total == PriceBook.cost(of: TokenUsage(input: 333_000, output: 0), at: p))
        #expect(total.usdString == "0.04995")
    }
}
