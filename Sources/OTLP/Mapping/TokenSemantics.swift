import JSON
import TokenmeterCore

/// Turns a span's token attributes into Tokenmeter's usage, where `input` counts every input
/// token, cached and cache-written ones included.
///
/// Libraries differ in whether their input count already holds the cache tokens:
/// - **inside** (the OTel GenAI convention: `gen_ai.usage.input_tokens` includes
///   `cache_read`/`cache_creation`): OpenAI and Gemini report it that way, and the Anthropic
///   instrumentations of OpenLLMetry and opentelemetry-python-contrib add Anthropic's cache tokens
///   into `input_tokens` before setting it; OpenInference does the same for `llm.token_count.prompt`.
/// - **on top** (Anthropic's raw API numbers): Langfuse's `usage_details` (its `input` excludes
///   every `input_*` detail and the cache counts) and the Vercel AI SDK for Anthropic models
///   (`ai.usage.inputTokens` is Anthropic's `input_tokens`).
/// - Whatever the library, cache read + cache write larger than the input count cannot be
///   "inside", so it is read as on top (raw Anthropic numbers from an unknown instrumentation).
struct TokenSemantics {
    struct Counts: Equatable {
        var input: Int64 = 0
        var output: Int64 = 0
        var cacheRead: Int64 = 0
        var cacheWrite: Int64 = 0
        /// True when the cache counts were added to the reported input.
        var cacheWasOnTop = false
    }

    struct Problem: Error {
        var attribute: String
        var message: String
    }

    static func counts(_ facts: AttributeFacts, provider: String?, model: String?, maxTokens: Int64) throws(Problem) -> Counts {
        func read(_ field: Field) throws(Problem) -> Int64? {
            guard let pick = facts[field] else { return nil }
            return try checked(pick.value, attribute: pick.key, maxTokens: maxTokens)
        }
        let input = try read(.inputTokens)
        let output = try read(.outputTokens)
        var counts: Counts
        if input == nil, output == nil, let usage = facts[.langfuseUsage] {
            counts = try langfuseUsage(usage, maxTokens: maxTokens)
        } else {
            counts = Counts(input: input ?? 0, output: output ?? 0, cacheRead: try read(.cacheReadTokens) ?? 0,
                            cacheWrite: try read(.cacheWriteTokens) ?? 0)
            let fromVercel = facts[.inputTokens]?.convention == .vercel
            if fromVercel, counts.cacheWrite == 0, let metadata = facts[.vercelProviderMetadata]?.value.embeddedJSON,
               let written = metadata["anthropic"]?["cacheCreationInputTokens"]?.int64Value, written > 0 {
                counts.cacheWrite = written
            }
            let anthropic = isAnthropic(provider: provider, model: model)
            if (fromVercel && anthropic) || counts.cacheRead + counts.cacheWrite > counts.input {
                counts.input += counts.cacheRead + counts.cacheWrite
                counts.cacheWasOnTop = true
            }
        }
        guard counts.input <= maxTokens else {
            throw Problem(attribute: facts[.inputTokens]?.key ?? "langfuse.observation.usage_details", message: "input tokens exceed \(maxTokens)")
        }
        return counts
    }

    static func isAnthropic(provider: String?, model: String?) -> Bool {
        if let provider, provider.hasPrefix("anthropic") { return true }
        guard let model = model?.lowercased() else { return false }
        return model.hasPrefix("claude") || model.contains("anthropic.claude")
    }

    private static func checked(_ value: OTLPValue, attribute: String, maxTokens: Int64) throws(Problem) -> Int64 {
        guard case .success(let count) = value.integer else { throw Problem(attribute: attribute, message: "must be an integer") }
        guard count >= 0 else { throw Problem(attribute: attribute, message: "must not be negative") }
        guard count <= maxTokens else { throw Problem(attribute: attribute, message: "must be at most \(maxTokens)") }
        return count
    }

    /// Langfuse `usage_details` (a JSON object in a string), in one of three shapes:
    /// - Langfuse's own keys: `input` and `output` exclude their `input_*`/`output_*` details,
    ///   which Langfuse subtracted; cache counts are on top as well.
    /// - OpenAI's raw usage, as the Langfuse SDK's OpenAI wrapper sends it: `prompt_tokens` (chat)
    ///   or `input_tokens` with an `input_tokens_details` object (Responses API) *include* the
    ///   `cached_tokens` of their details object.
    /// - Anthropic's raw usage: `input_tokens` excludes `cache_read_input_tokens` and
    ///   `cache_creation_input_tokens`, which are on top.
    /// Nested objects other than OpenAI's details (Anthropic's `cache_creation` breakdown,
    /// `server_tool_use`) repeat counts already given at the top level and are skipped.
    private static func langfuseUsage(_ pick: Pick, maxTokens: Int64) throws(Problem) -> Counts {
        guard case .object(let object)? = pick.value.embeddedJSON else { throw Problem(attribute: pick.key, message: "must be a JSON object") }
        func count(_ key: String, in container: JSONObject? = nil, path: String? = nil) throws(Problem) -> Int64? {
            guard let value = (container ?? object)[key] else { return nil }
            if case .null = value { return nil }
            return try checked(OTLPValue.fromJSON(value), attribute: "\(pick.key).\(path ?? key)", maxTokens: maxTokens)
        }
        func details(_ key: String) -> JSONObject? { if case .object(let inner)? = object[key] { inner } else { nil } }
        let chatDetails = details("prompt_tokens_details"), responsesDetails = details("input_tokens_details")
        if object["prompt_tokens"] != nil || object["completion_tokens"] != nil || responsesDetails != nil {
            let cachedPath = chatDetails != nil ? "prompt_tokens_details.cached_tokens" : "input_tokens_details.cached_tokens"
            let cached = try count("cached_tokens", in: chatDetails ?? responsesDetails, path: cachedPath) ?? 0
            let chatInput = try count("prompt_tokens"), chatOutput = try count("completion_tokens")
            let input = try chatInput == nil ? count("input_tokens") : chatInput
            let output = try chatOutput == nil ? count("output_tokens") : chatOutput
            let counts = Counts(input: input ?? 0, output: output ?? 0, cacheRead: cached)
            guard counts.cacheRead <= counts.input else {
                throw Problem(attribute: "\(pick.key).\(cachedPath)", message: "cached tokens exceed the prompt tokens")
            }
            return counts
        }
        var counts = Counts(cacheWasOnTop: true)
        for (key, value) in object.entries {
            if key == "total" || key == "total_tokens" { continue }
            if case .object = value { continue }
            let count = try checked(OTLPValue.fromJSON(value), attribute: "\(pick.key).\(key)", maxTokens: maxTokens)
            switch key {
            case "input": counts.input += count
            case "output": counts.output += count
            case "input_cached_tokens", "cache_read_input_tokens", "input_cache_read", "cached_tokens":
                counts.cacheRead += count
                counts.input += count
            case "cache_creation_input_tokens", "input_cache_creation", "input_cache_write":
                counts.cacheWrite += count
                counts.input += count
            default:
                if key.hasPrefix("input") { counts.input += count } else if key.hasPrefix("output") { counts.output += count }
            }
        }
        return counts
    }
}

extension OTLPValue {
    /// The JSON scalars a usage object holds, as attribute values.
    static func fromJSON(_ value: JSONValue) -> OTLPValue {
        switch value {
        case .number(let n): if let i = n.int64 { return .int(i) } else { return n.double.map(OTLPValue.double) ?? .empty }
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        default: return .empty
        }
    }
}
