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
