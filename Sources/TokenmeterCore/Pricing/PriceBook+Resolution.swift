import Foundation

/// How a model name as sent by an app or SDK becomes a canonical (provider, model).
///
/// Matching is case-insensitive and tries, in order:
/// 1. the whole name, then each shorter path suffix: "openai/gpt-4o" → "gpt-4o",
///    "models/gemini-1.5-pro" → "gemini-1.5-pro", "accounts/fireworks/models/x" → "x";
///    "together/meta-llama/Llama-3.3-70B-Instruct-Turbo" matches at "meta-llama/…".
///    A first path component that names a provider ("groq/…") acts as the provider hint
///    when the caller gave none.
/// 2. for each of those, the name without an AWS Bedrock vendor prefix
///    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0" → "claude-3-7-sonnet-20250219-v1:0").
/// 3. per name: an exact canonical name or alias; else the **longest** known name that is
///    a prefix followed only by version decorations — dates (`-2024-08-06`, `-20241022`,
///    `-0613`, `-1212`, `-preview-05-06`), `-001`, `-latest`, `-preview`, `-beta`, `-v2`,
///    `:0`, `@20241022`/`@latest` (Vertex). So "gpt-4o-mini-2024-07-18" → "gpt-4o-mini",
///    never "gpt-4o", and "gpt-4o-audio-preview" or "gemini-2.0-flash-exp" stay unknown
///    rather than being priced as a different model.
///
/// A provider (argument or inferred) is a preference, not a filter: names are first
/// matched among that provider's models, then among all (OpenAI-compatible SDKs often
/// report "openai" while talking to Groq or Together). Provider synonyms such as
/// "azure", "vertex_ai", "gcp.gemini", "mistral_ai", "together_ai" are normalised.
/// Among several providers the default is ``providerPrecedence``.
extension PriceBook {
    func resolveKey(model: String, provider: String?) -> ModelKey? {
        let name = PriceBook.trimmedLowercase(model)
        guard !name.isEmpty else { return nil }
        var hint = provider.map(PriceBook.normalizedProvider)
        // Fast path: an exact canonical name or alias.
        if let keys = index[name] {
            if let hint, let key = keys.first(where: { $0.provider == hint }) { return key }
            if hint == nil { return keys[0] }
        }
        let components = name.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.isEmpty else { return nil }
        if hint == nil, components.count > 1 {
            let first = PriceBook.normalizedProvider(String(components[0]))
            if PriceBook.providerPrecedence.contains(first) || series.keys.contains(where: { $0.provider == first }) {
                hint = first
            }
        }
        var candidates: [Substring] = []
        for start in components.indices {
            let candidate = name[components[start].startIndex...]
            candidates.append(candidate)
            if let stripped = PriceBook.withoutBedrockPrefix(candidate) { candidates.append(stripped) }
        }
        if let hint {
            for candidate in candidates {
                if let key = match(candidate, provider: hint) { return key }
            }
        }
        for candidate in candidates {
            if let key = match(candidate, provider: nil) { return key }
        }
        return nil
    }

    private func match(_ name: Substring, provider: String?) -> ModelKey? {
        func pick(_ keys: [ModelKey]?) -> ModelKey? {
            guard let keys else { return nil }
            return provider.map { p in keys.first { $0.provider == p } } ?? keys.first
        }
        if let key = pick(index[String(name)]) { return key }
        // Longest prefix first: walk separators from the right.
        var i = name.endIndex
        while i > name.startIndex {
            i = name.index(before: i)
            let c = name[i]
            guard c == "-" || c == "@" || c == ":" else { continue }
            guard let key = pick(index[String(name[..<i])]) else { continue }
            if PriceBook.isVersionSuffix(name[i...]) { return key }
        }
        return nil
    }

    /// `suffix` starts with "-", "@" or ":" and holds only version decorations.
    static func isVersionSuffix(_ suffix: Substring) -> Bool {
        var s = suffix
        if let at = s.firstIndex(of: "@") {
            let tail = s[s.index(after: at)...]
            guard !tail.isEmpty, tail.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) else { return false }
            s = s[..<at]
        }
        if let colon = s.firstIndex(of: ":") {
            let tail = s[s.index(after: colon)...]
            guard !tail.isEmpty, tail.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            s = s[..<colon]
        }
        if s.isEmpty { return true }
        guard s.first == "-" else { return false }
        var twoDigitAllowed = false   // "-08-06" only after a year or "preview"
        for token in s.dropFirst().split(separator: "-", omittingEmptySubsequences: false) {
            if token == "latest" || token == "beta" {
                twoDigitAllowed = false
            } else if token == "preview" {
                twoDigitAllowed = true
            } else if token.allSatisfy({ $0.isASCII && $0.isNumber }) {
                switch token.count {
                case 2 where twoDigitAllowed: break
                case 3, 4, 6, 8: break
                default: return false
                }
                twoDigitAllowed = true
            } else if token.count >= 2, token.first == "v", token.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) {
                twoDigitAllowed = false
            } else {
                return false
            }
        }
        return true
    }

    /// "anthropic.claude…", "us.anthropic.claude…", "meta.llama…" → the part after the vendor.
    static func withoutBedrockPrefix(_ name: Substring) -> Substring? {
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        let vendors: Set<Substring> = ["anthropic", "meta", "mistral", "amazon", "cohere", "ai21", "deepseek", "openai", "writer", "qwen"]
        let regions: Set<Substring> = ["us", "eu", "apac", "au", "ca", "jp", "us-gov", "global"]
        if parts.count >= 2, vendors.contains(parts[0]) {
            let rest = name[parts[1].startIndex...]
            return rest.isEmpty ? nil : rest
        }
        if parts.count == 3, regions.contains(parts[0]), vendors.contains(parts[1]), !parts[2].isEmpty {
            return parts[2]
        }
        return nil
    }

    /// Lower-cased provider id with common synonyms folded ("azure" → "openai",
    /// "vertex_ai"/"gcp.gemini" → "google", "mistral_ai" → "mistral", "x-ai" → "xai",
    /// "together_ai" → "together"). Unknown ids are returned lower-cased.
    public static func normalizedProvider(_ provider: String) -> String {
        let p = trimmedLowercase(provider)
        return providerSynonyms[p] ?? p
    }

    /// Trimmed of whitespace and lower-cased; the common case (plain lower-case ASCII, nothing to
    /// trim) is answered without Foundation, which this per-event path otherwise spends its time in.
    static func trimmedLowercase(_ s: String) -> String {
        let plain = s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && !($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) }
        return plain ? s : s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static let providerSynonyms: [String: String] = [
        "azure": "openai", "azure_openai": "openai", "azure-openai": "openai", "azureopenai": "openai",
        "az.ai.openai": "openai", "openai_chat": "openai",
        "vertex": "google", "vertex_ai": "google", "vertexai": "google", "google_vertex": "google",
        "google-vertex": "google", "gemini": "google", "google_genai": "google", "google-genai": "google",
        "google_ai_studio": "google", "gcp.gemini": "google", "gcp.vertex_ai": "google", "gcp.gen_ai": "google",
        "mistral_ai": "mistral", "mistralai": "mistral", "mistral-ai": "mistral",
        "x-ai": "xai", "x.ai": "xai", "grok": "xai",
        "together_ai": "together", "togetherai": "together", "together.ai": "together", "together-ai": "together",
        "deepseek-ai": "deepseek", "deepseek_ai": "deepseek",
        "anthropic_bedrock": "anthropic", "anthropic_vertex": "anthropic",
    ]
}
