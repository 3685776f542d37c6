import Foundation

extension PriceBook {
    /// Exact cost of `usage` at `price`:
    ///
    ///     (input − cachedInput − cacheWrite) × input price      // uncached part, clamped at 0
    ///   + cachedInput × (cached price ?? input price)
    ///   + cacheWrite × (cache-write price ?? input price)
    ///   + output × output price
    ///
    /// Prices are per 1M tokens; the sum is taken in `Int128` picodollar-tokens and divided
    /// by 1,000,000 once, rounding halves up. Negative token counts count as 0, and a
    /// result beyond the `Int64` range saturates.
    public static func cost(of usage: TokenUsage, at price: ModelPrice) -> Money {
        let input = Int128(max(0, usage.input))
        let output = Int128(max(0, usage.output))
        let cached = Int128(max(0, usage.cachedInput))
        let written = Int128(max(0, usage.cacheWrite))
        let uncached = max(0, input - cached - written)
        // Each product fits Int128 (< 2^126); the sum of four might not, so it saturates.
        func term(_ tokens: Int128, _ rate: Money) -> Int128 { tokens * Int128(rate.picodollars) }
        func add(_ total: Int128, _ t: Int128) -> Int128 {
            let (sum, overflow) = total.addingReportingOverflow(t)
            return overflow ? (t > 0 ? .max - 500_000 : .min) : sum
        }
        var total = term(uncached, price.inputPerMillion)
        total = add(total, term(cached, price.cachedInputPerMillion ?? price.inputPerMillion))
        total = add(total, term(written, price.cacheWritePerMillion ?? price.inputPerMillion))
        total = add(total, term(output, price.outputPerMillion))
        total = min(total, .max - 500_000)
        // floor((total + 500_000) / 1_000_000): half-up, also correct for negative prices.
        let shifted = total + 500_000
        var quotient = shifted / 1_000_000
        if shifted % 1_000_000 < 0 { quotient -= 1 }
        let clamped = min(max(quotient, Int128(Int64.min)), Int128(Int64.max))
        return Money(picodollars: Int64(clamped))
    }

    /// Cost of `usage` for `model` at `date`, or `nil` when no price is known.
    public func cost(of usage: TokenUsage, model: String, provider: String?, at date: Date) -> Money? {
        price(model: model, provider: provider, at: date).map { PriceBook.cost(of: usage, at: $0) }
    }
}
