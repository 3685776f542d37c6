import Foundation
import Testing
@testable import TokenmeterCore

struct PricingResolutionTests {
    static let book = try! PriceBook.shipped()

    @Test(arguments: [
        // OpenAI
        ("gpt-4o", nil, "gpt-4o"),
        ("GPT-4o", nil, "gpt-4o"),
        ("  gpt-4o\n", nil, "gpt-4o"),
        ("openai/gpt-4o", nil, "gpt-4o"),
        ("gpt-4o-2024-08-06", nil, "gpt-4o"),
        ("gpt-4o-2024-11-20", "openai", "gpt-4o"),
        ("gpt-4o-2024-05-13", nil, "gpt-4o-2024-05-13"),
        ("gpt-4o-mini-2024-07-18", nil, "gpt-4o-mini"),
        ("gpt-4.1-mini-2025-04-14", nil, "gpt-4.1-mini"),
        ("gpt-4.1-nano", nil, "gpt-4.1-nano"),
        ("gpt-4-0613", nil, "gpt-4"),
        ("gpt-4-1106-preview", nil, "gpt-4-turbo"),
        ("gpt-4-turbo-2024-04-09", nil, "gpt-4-turbo"),
        ("gpt-4-turbo-preview", nil, "gpt-4-turbo"),
        ("gpt-3.5-turbo-0125", nil, "gpt-3.5-turbo"),
        ("o1-preview-2024-09-12", nil, "o1"),
        ("o1-mini-2024-09-12", nil, "o1-mini"),
        ("o3-mini-2025-01-31", nil, "o3-mini"),
        ("o4-mini-2025-04-16", nil, "o4-mini"),
        ("gpt-5-mini-2025-08-07", nil, "gpt-5-mini"),
        ("gpt-5-chat-latest", nil, "gpt-5"),
        ("gpt-4o", "azure", "gpt-4o"),
        ("text-embedding-3-small", nil, "text-embedding-3-small"),
        // Anthropic, incl. Bedrock and Vertex spellings
        ("claude-3-5-sonnet-20241022", nil, "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-20240620", nil, "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-latest", nil, "claude-3-5-sonnet"),
        ("anthropic/claude-3-5-haiku-20241022", nil, "claude-3-5-haiku"),
        ("claude-3-haiku-20240307", nil, "claude-3-haiku"),
        ("claude-3-opus-20240229", nil, "claude-3-opus"),
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", nil, "claude-3-5-sonnet"),
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "aws.bedrock", "claude-3-7-sonnet"),
        ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", nil, "claude-3-haiku"),
        ("claude-3-5-sonnet-v2@20241022", "vertex_ai", "claude-3-5-sonnet"),
        ("claude-3-7-sonnet@20250219", nil, "claude-3-7-sonnet"),
        ("claude-sonnet-4@20250514", nil, "claude-sonnet-4"),
        ("claude-sonnet-4-20250514", nil, "claude-sonnet-4"),
        ("claude-sonnet-4-0", nil, "claude-sonnet-4"),
        ("claude-opus-4-20250514", nil, "claude-opus-4"),
        ("claude-opus-4-1-20250805", nil, "claude-opus-4-1"),
        ("claude-sonnet-4-5-20250929", nil, "claude-sonnet-4-5"),
        ("claude-haiku-4-5", nil, "claude-haiku-4-5"),
        ("openrouter/anthropic/claude-3.5-sonnet", nil, "claude-3-5-sonnet"),
        // Google
        ("models/gemini-1.5-pro", nil, "gemini-1.5-pro"),
        ("gemini-1.5-pro-002", "gcp.vertex_ai", "gemini-1.5-pro"),
        ("gemini-1.5-flash-latest", nil, "gemini-1.5-flash"),
        ("gemini-1.5-flash-8b-001", nil, "gemini-1.5-flash-8b"),
        ("gemini-2.5-pro-preview-05-06", nil, "gemini-2.5-pro"),
        ("publishers/google/models/gemini-2.0-flash-001", nil, "gemini-2.0-flash"),
        ("gemini-2.0-flash-lite-001", nil, "gemini-2.0-flash-lite"),
        ("gemini-2.5-flash", "gemini", "gemini-2.5-flash"),
        // Mistral, DeepSeek, xAI
        ("mistral-large-2411", nil, "mistral-large"),
        ("mistral-large-latest", "mistral_ai", "mistral-large"),
        ("mistral-small-2501", nil, "mistral-small"),
        ("codestral-2501", nil, "codestral"),
        ("ministral-8b-latest", nil, "ministral-8b"),
        ("deepseek-chat", nil, "deepseek-chat"),
        ("deepseek/deepseek-reasoner", nil, "deepseek-reasoner"),
        ("grok-2-1212", nil, "grok-2"),
        ("grok-3-mini-beta", nil, "grok-3-mini"),
        ("grok-3-latest", "x-ai", "grok-3"),
        ("grok-4-0709", nil, "grok-4"),
        // Llama on Groq and Together
        ("llama-3.3-70b-versatile", nil, "llama-3.3-70b-versatile"),
        ("groq/llama-3.1-8b-instant", nil, "llama-3.1-8b-instant"),
        ("llama-3.3-70b-versatile", "openai", "llama-3.3-70b-versatile"),   // OpenAI SDK pointed at Groq
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", nil, "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", nil, "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"),
        ("Llama-3.3-70B-Instruct-Turbo", nil, "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("llama-3.3-70b", nil, "llama-3.3-70b-versatile"),                 // shared alias: default groq
        ("llama-3.3-70b", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("together_ai/llama-3.1-8b", nil, "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"),
    ] as [(String, String?, String)])
    func resolvesRealWorldNames(_ name: String, _ provider: String?, _ canonical: String) {
        #expect(Self.book.resolve(model: name, provider: provider) == canonical)
    }

    @Test(arguments: [
        "", "   ", "/", "gpt-4o-audio-preview", "gpt-4o-realtime-preview-2024-10-01", "gpt-4o-mini-tts",
        "gemini-2.0-flash-exp", "gemini-2.0-flash-thinking-exp-01-21", "claude-2.1", "o1-pro",
        "gpt-5-pro", "grok-4-fast-reasoning", "ft:gpt-4o-mini-2024-07-18:acme::abc123",
        "accounts/fireworks/models/llama-v3p3-70b-instruct", "my-azure-deployment", "gpt-4o-1", "gpt",
        "claude-3-5", "anthropic.", "mistral-large-24",
    ])
    func unknownNamesResolveToNil(_ name: String) {
        #expect(Self.book.resolve(model: name, provider: nil) == nil)
    }

    @Test(arguments: [
        ("-2024-08-06", true), ("-20241022", true), ("-0613", true), ("-latest", true), ("@20241022", true),
        ("-v2:0", true), ("-preview-05-06", true), ("-001", true), (":0", true), ("-beta", true),
        ("-mini", false), ("-1", false), ("-08-06", false), ("-audio-preview", false), ("@", false), ("-8b", false),
        ("-v", false), ("-", false),
    ])
    func versionSuffixes(_ suffix: String, _ expected: Bool) {
        #expect(PriceBook.isVersionSuffix(suffix[...]) == expected)
    }
}

struct ModelNameNormalizationTests {
    @Test(arguments: [("gpt-4o", "gpt-4o"), ("GPT-4o", "gpt-4o"), (" gpt-4o\n", "gpt-4o"), ("Claude 3", "claude 3"), ("ÉCLAIR", "éclair"), ("", "")])
    func trimmedAndLowerCased(input: String, expected: String) {
        #expect(PriceBook.trimmedLowercase(input) == expected)
    }
}
