import Foundation
import Ingest
import Testing
import TokenmeterCore
@testable import OTLP

/// Each convention family's attributes for one provider call, mapped and priced with the shipped
/// price table, against the provider's bill computed by hand (USD per 1M tokens from prices.json).
struct TokenSemanticsTests {
    struct Bill: Sendable, CustomTestStringConvertible {
        var label: String
        var attributes: [String: OTLPValue]
        var name = "span"
        var input: Int64
        var output: Int64
        var cacheRead: Int64
        var cacheWrite: Int64 = 0
        var provider: String?
        var model: String
        /// By hand; nil when the price table cannot price it.
        var cost: String
        var testDescription: String { label }
    }

    static let bills: [Bill] = [
        // gpt-4o (2.50 in, 1.25 cached, 10.00 out). OpenAI counts cached tokens inside input:
        // 976×2.50 + 1024×1.25 + 500×10 = 2440 + 1280 + 5000 µ$
        Bill(label: "OTel GenAI, OpenAI", attributes: [
            "gen_ai.provider.name": .string("openai"), "gen_ai.operation.name": .string("chat"),
            "gen_ai.request.model": .string("gpt-4o"), "gen_ai.response.model": .string("gpt-4o-2024-08-06"),
            "gen_ai.usage.input_tokens": .int(2000), "gen_ai.usage.output_tokens": .int(500),
            "gen_ai.usage.cache_read.input_tokens": .int(1024)],
            input: 2000, output: 500, cacheRead: 1024, provider: "openai", model: "gpt-4o-2024-08-06", cost: "0.00872"),
        // gpt-4o-mini (0.15 in, 0.60 out): 1000×0.15 + 100×0.60 = 210 µ$
        Bill(label: "OTel GenAI deprecated names", attributes: [
            "gen_ai.system": .string("openai"), "gen_ai.operation.name": .string("chat"), "gen_ai.request.model": .string("gpt-4o-mini"),
            "gen_ai.usage.prompt_tokens": .int(1000), "gen_ai.usage.completion_tokens": .int(100)],
            input: 1000, output: 100, cacheRead: 0, provider: "openai", model: "gpt-4o-mini", cost: "0.00021"),
        // gemini-2.0-flash (0.10 in, 0.025 cached, 0.40 out). Gemini counts cached inside input:
        // 6000×0.10 + 4000×0.025 + 1000×0.40 = 600 + 100 + 400 µ$
        Bill(label: "OTel GenAI, Gemini", attributes: [
            "gen_ai.provider.name": .string("gcp.gemini"), "gen_ai.operation.name": .string("generate_content"),
            "gen_ai.request.model": .string("gemini-2.0-flash"), "gen_ai.usage.input_tokens": .int(10000),
            "gen_ai.usage.output_tokens": .int(1000), "gen_ai.usage.cache_read.input_tokens": .int(4000)],
            input: 10000, output: 1000, cacheRead: 4000, provider: "gcp.gemini", model: "gemini-2.0-flash", cost: "0.0011"),
        // claude-3-5-sonnet (3.00 in, 0.30 cache read, 3.75 cache write, 15.00 out). Anthropic bills
        // 1000 plain input + 3000 cache reads + 500 cache writes + 200 output:
        // 1000×3 + 3000×0.30 + 500×3.75 + 200×15 = 3000 + 900 + 1875 + 3000 = 8775 µ$ — in every family below.
        Bill(label: "OpenLLMetry, Anthropic (cache added into input_tokens)", attributes: [
            "gen_ai.system": .string("Anthropic"), "llm.request.type": .string("completion"),
            "gen_ai.request.model": .string("claude-3-5-sonnet-20241022"), "gen_ai.usage.input_tokens": .int(4500),
            "gen_ai.usage.output_tokens": .int(200), "gen_ai.usage.cache_read_input_tokens": .int(3000),
            "gen_ai.usage.cache_creation_input_tokens": .int(500), "llm.usage.total_tokens": .int(4700)],
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        Bill(label: "OTel GenAI, Anthropic raw numbers (cache on top)", attributes: [
            "gen_ai.provider.name": .string("anthropic"), "gen_ai.operation.name": .string("chat"),
            "gen_ai.request.model": .string("claude-3-5-sonnet-20241022"), "gen_ai.usage.input_tokens": .int(1000),
            "gen_ai.usage.output_tokens": .int(200), "gen_ai.usage.cache_read.input_tokens": .int(3000),
            "gen_ai.usage.cache_creation.input_tokens": .int(500)],
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        Bill(label: "OpenInference, Anthropic", attributes: [
            "openinference.span.kind": .string("LLM"), "llm.provider": .string("anthropic"),
            "llm.model_name": .string("claude-3-5-sonnet-20241022"), "llm.token_count.prompt": .int(4500),
            "llm.token_count.completion": .int(200), "llm.token_count.prompt_details.cache_read": .int(3000),
            "llm.token_count.prompt_details.cache_write": .int(500), "llm.token_count.total": .int(4700)],
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        Bill(label: "OpenInference with GenAI semconv too (no double count)", attributes: [
            "openinference.span.kind": .string("LLM"), "llm.provider": .string("anthropic"), "gen_ai.system": .string("anthropic"),
            "llm.model_name": .string("claude-3-5-sonnet-20241022"), "gen_ai.request.model": .string("claude-3-5-sonnet-20241022"),
            "llm.token_count.prompt": .int(4500), "gen_ai.usage.input_tokens": .int(4500),
            "llm.token_count.completion": .int(200), "gen_ai.usage.output_tokens": .int(200),
            "llm.token_count.prompt_details.cache_read": .int(3000), "gen_ai.usage.cache_read.input_tokens": .int(3000),
            "llm.token_count.prompt_details.cache_write": .int(500), "gen_ai.usage.cache_creation.input_tokens": .int(500)],
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        Bill(label: "Langfuse usage_details, Anthropic (details on top of input)", attributes: [
            "langfuse.observation.type": .string("generation"), "langfuse.observation.model.name": .string("claude-3-5-sonnet-20241022"),
            "langfuse.observation.usage_details": .string(#"{"input":1000,"output":200,"cache_read_input_tokens":3000,"cache_creation_input_tokens":500,"total":4700}"#)],
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        // The Langfuse SDK's OpenAI wrapper passes OpenAI's usage object through unchanged.
        Bill(label: "Langfuse OpenAI wrapper, chat usage (cached inside prompt_tokens)", attributes: [
            "langfuse.observation.type": .string("generation"), "langfuse.observation.model.name": .string("gpt-4o-mini-2024-07-18"),
            "langfuse.observation.usage_details": .string(#"{"completion_tokens":300,"prompt_tokens":1200,"total_tokens":1500,"completion_tokens_details":{"audio_tokens":0,"reasoning_tokens":0},"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":200}}"#)],
            input: 1200, output: 300, cacheRead: 200, provider: "openai", model: "gpt-4o-mini-2024-07-18", cost: "0.000345"),
        Bill(label: "Langfuse OpenAI wrapper, Responses API usage", attributes: [
            "langfuse.observation.type": .string("generation"), "langfuse.observation.model.name": .string("gpt-4o-mini"),
            "langfuse.observation.usage_details": .string(#"{"input_tokens":1200,"output_tokens":300,"total_tokens":1500,"input_tokens_details":{"cached_tokens":200},"output_tokens_details":{"reasoning_tokens":0}}"#)],
            input: 1200, output: 300, cacheRead: 200, provider: "openai", model: "gpt-4o-mini", cost: "0.000345"),
        Bill(label: "Langfuse with Anthropic's raw usage (cache on top, nested breakdown skipped)", attributes: [
            "langfuse.observation.type": .string("generation"), "langfuse.observation.model.name": .string("claude-3-5-sonnet-20241022"),
            "langfuse.observation.usage_details": .string(#"{"input_tokens":1000,"output_tokens":200,"cache_read_input_tokens":3000,"cache_creation_input_tokens":500,"cache_creation":{"ephemeral_5m_input_tokens":500,"ephemeral_1h_input_tokens":0}}"#)],
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        Bill(label: "Vercel AI SDK, Anthropic (inputTokens is Anthropic's input_tokens)", attributes: [
            "ai.operationId": .string("ai.generateText.doGenerate"), "ai.model.provider": .string("anthropic.messages"),
            "ai.model.id": .string("claude-3-5-sonnet-20241022"), "ai.usage.promptTokens": .int(1000),
            "ai.usage.completionTokens": .int(200), "ai.usage.cachedInputTokens": .int(3000),
            "ai.response.providerMetadata": .string(#"{"anthropic":{"cacheCreationInputTokens":500}}"#)],
            name: "ai.generateText.doGenerate",
            input: 4500, output: 200, cacheRead: 3000, cacheWrite: 500, provider: "anthropic", model: "claude-3-5-sonnet-20241022", cost: "0.008775"),
        // gpt-4o-mini via Vercel (JavaScript numbers arrive as doubles): 1200 with 200 cached, 300 out = 345 µ$
        Bill(label: "Vercel AI SDK v5, OpenAI", attributes: [
            "ai.operationId": .string("ai.streamText.doStream"), "ai.model.provider": .string("openai.chat"),
            "ai.model.id": .string("gpt-4o-mini"), "ai.usage.inputTokens": .double(1200), "ai.usage.outputTokens": .double(300),
            "ai.usage.cachedInputTokens": .double(200)],
            input: 1200, output: 300, cacheRead: 200, provider: "openai", model: "gpt-4o-mini", cost: "0.000345"),
        // OpenLIT stringifies nothing but sends the same semconv names; its total is ignored.
        Bill(label: "OpenLIT, OpenAI", attributes: [
            "gen_ai.system": .string("openai"), "gen_ai.operation.name": .string("chat"), "gen_ai.request.model": .string("gpt-4o-mini"),
            "gen_ai.usage.input_tokens": .int(1200), "gen_ai.usage.output_tokens": .int(300),
            "gen_ai.usage.cache_read_input_tokens": .int(200), "gen_ai.client.token.usage": .int(1500), "gen_ai.usage.cost": .double(0.000345)],
            input: 1200, output: 300, cacheRead: 200, provider: "openai", model: "gpt-4o-mini", cost: "0.000345"),
    ]

    @Test(arguments: bills)
    func mappedAndPricedLikeTheProviderBills(bill: Bill) throws {
        let mapped = try SpanBuilder.event(bill.attributes, name: bill.name)
        var event = mapped.event
        #expect(event.stepType == "llm_call")
        #expect(event.usage == TokenUsage(input: bill.input, output: bill.output, cachedInput: bill.cacheRead, cacheWrite: bill.cacheWrite))
        #expect(event.provider == bill.provider)
        #expect(event.model == bill.model)
        Pricer.price(&event, with: try PriceBook.shipped())
        #expect(event.cost?.usdString == bill.cost)
    }

    @Test func libraryCostIsKeptForModelsTheTableDoesNotKnow() throws {
        let mapped = try SpanBuilder.event([
            "gen_ai.system": .string("openai"), "gen_ai.operation.name": .string("chat"), "gen_ai.request.model": .string("ft:my-model"),
            "gen_ai.usage.input_tokens": .int(10), "gen_ai.usage.output_tokens": .int(10), "gen_ai.usage.cost": .double(0.0123)])
        #expect(mapped.reportedCost?.usdString == "0.0123")
        let langfuse = try SpanBuilder.event([
            "langfuse.observation.type": .string("generation"), "langfuse.observation.model.name": .string("ft:x"),
            "langfuse.observation.usage_details": .string(#"{"input":1,"output":1}"#),
            "langfuse.observation.cost_details": .string(#"{"input":0.001,"output":0.002,"total":0.003}"#)])
        #expect(langfuse.reportedCost?.usdString == "0.003")
    }

    @Test(arguments: [
        ("gen_ai.usage.input_tokens", OTLPValue.int(-1), "must not be negative"),
        ("gen_ai.usage.input_tokens", .string("many"), "must be an integer"),
        ("gen_ai.usage.output_tokens", .double(1.5), "must be an integer"),
        ("gen_ai.usage.output_tokens", .int(100_000_001), "must be at most 100000000"),
    ])
    func impossibleCountsRejectTheSpan(attribute: String, value: OTLPValue, message: String) {
        let mapping = SpanBuilder.map([SpanBuilder.span(1, ["gen_ai.operation.name": .string("chat"), attribute: value])])
        #expect(mapping.spans.isEmpty)
        #expect(mapping.rejections.first?.reason == "\(attribute) \(message)")
    }

    @Test(arguments: [
        (#"{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":101}}"#,
         "langfuse.observation.usage_details.prompt_tokens_details.cached_tokens cached tokens exceed the prompt tokens"),
        (#"{"prompt_tokens":"lots","completion_tokens":5}"#, "langfuse.observation.usage_details.prompt_tokens must be an integer"),
        (#"{"input":1,"output":"x"}"#, "langfuse.observation.usage_details.output must be an integer"),
    ])
    func impossibleLangfuseUsageRejectsTheSpan(usage: String, reason: String) {
        let mapping = SpanBuilder.map([SpanBuilder.span(1, ["langfuse.observation.type": .string("generation"),
                                                            "langfuse.observation.usage_details": .string(usage)])])
        #expect(mapping.spans.isEmpty)
        #expect(mapping.rejections.first?.reason == reason)
    }

    @Test func countsAsDecimalStringsAreRead() throws {
        let event = try SpanBuilder.event(["gen_ai.operation.name": .string("chat"), "gen_ai.usage.input_tokens": .string("42"),
                                           "gen_ai.usage.output_tokens": .string(" 7 ")]).event
        #expect(event.usage == TokenUsage(input: 42, output: 7, cachedInput: 0, cacheWrite: 0))
    }
}
