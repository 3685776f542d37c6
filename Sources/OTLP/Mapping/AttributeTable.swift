/// What a span attribute means to Tokenmeter.
enum Field: Int, CaseIterable, Sendable {
    case provider, model
    case inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens
    case reportedCostUSD
    case userID, sessionID, feature, environment, tags
    case toolName, errorType, httpStatus, statusMessage, invocationParameters
    case ttftSeconds, ttftMilliseconds, completionStartTime
    case operationName, openInferenceKind, traceloopKind, langfuseType, vercelOperation, llmRequestType, langfuseLevel
    case langfuseUsage, langfuseCost, vercelProviderMetadata
    case prompt, response, toolInput, toolOutput
}

/// The instrumentation family an attribute name belongs to. Token semantics depend on it.
enum Convention: String, Sendable {
    case semconv = "OTel GenAI"
    case semconvDeprecated = "OTel GenAI (deprecated)"
    case openInference = "OpenInference"
    case openLLMetry = "OpenLLMetry"
    case openLIT = "OpenLIT"
    case langfuse = "Langfuse"
    case vercel = "Vercel AI SDK"
    case general = "OTel general"
}

/// One row of the mapping table: an attribute name, the field it fills and its rank among the
/// names for that field (lower wins when a span carries several).
struct AttributeRule: Sendable {
    let field: Field
    let convention: Convention
    let rank: Int
}

/// The span-attribute → event-field table. Documented in the README ("OpenTelemetry" section);
/// keep the two in step. Names were checked against payloads of the libraries where we have them
/// (see Tests/OTLPTests/Fixtures) and against their source otherwise.
enum AttributeTable {
    /// Model-name prefixes of the providers whose models are named unambiguously.
    static let providerByModelPrefix: [([String], String)] = [
        (["gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "davinci", "babbage", "dall-e", "whisper", "tts-"], "openai"),
        (["claude"], "anthropic"),
        (["gemini", "text-embedding-004", "gemma"], "google"),
        (["mistral", "mixtral", "codestral", "pixtral", "ministral"], "mistral"),
        (["command", "embed-english", "embed-multilingual", "rerank-"], "cohere"),
        (["deepseek"], "deepseek"),
        (["grok"], "xai"),
    ]

    static let rows: [(String, Field, Convention)] = [
        // provider
        ("gen_ai.provider.name", .provider, .semconv),
        ("gen_ai.system", .provider, .semconvDeprecated),
        ("llm.provider", .provider, .openInference),
        ("llm.system", .provider, .openInference),
        ("ai.model.provider", .provider, .vercel),
        // model: the response model names the exact version billed, so it wins
        ("gen_ai.response.model", .model, .semconv),
        ("gen_ai.request.model", .model, .semconv),
        ("llm.response.model", .model, .openLLMetry),
        ("llm.request.model", .model, .openLLMetry),
        ("llm.model_name", .model, .openInference),
        ("embedding.model_name", .model, .openInference),
        ("ai.response.model", .model, .vercel),
        ("ai.model.id", .model, .vercel),
        ("langfuse.observation.model.name", .model, .langfuse),
        // a failed call has no response model; OpenInference keeps the requested one only here (JSON)
        ("llm.invocation_parameters", .invocationParameters, .openInference),
        // tokens
        ("gen_ai.usage.input_tokens", .inputTokens, .semconv),
        ("gen_ai.usage.prompt_tokens", .inputTokens, .semconvDeprecated),
        ("llm.token_count.prompt", .inputTokens, .openInference),
        ("llm.usage.prompt_tokens", .inputTokens, .openLLMetry),
        ("ai.usage.inputTokens", .inputTokens, .vercel),
        ("ai.usage.promptTokens", .inputTokens, .vercel),
        ("gen_ai.usage.output_tokens", .outputTokens, .semconv),
        ("gen_ai.usage.completion_tokens", .outputTokens, .semconvDeprecated),
        ("llm.token_count.completion", .outputTokens, .openInference),
        ("llm.usage.completion_tokens", .outputTokens, .openLLMetry),
        ("ai.usage.outputTokens", .outputTokens, .vercel),
        ("ai.usage.completionTokens", .outputTokens, .vercel),
        ("gen_ai.usage.cache_read.input_tokens", .cacheReadTokens, .semconv),
        ("gen_ai.usage.cache_read_input_tokens", .cacheReadTokens, .openLLMetry),
        ("llm.token_count.prompt_details.cache_read", .cacheReadTokens, .openInference),
        ("gen_ai.usage.input_cached_tokens", .cacheReadTokens, .general),
        ("ai.usage.cachedInputTokens", .cacheReadTokens, .vercel),
        ("gen_ai.usage.cache_creation.input_tokens", .cacheWriteTokens, .semconv),
        ("gen_ai.usage.cache_creation_input_tokens", .cacheWriteTokens, .openLLMetry),
        ("llm.token_count.prompt_details.cache_write", .cacheWriteTokens, .openInference),
        ("langfuse.observation.usage_details", .langfuseUsage, .langfuse),
        // cost the library computed (used only when the price table cannot price the model)
        ("gen_ai.usage.cost", .reportedCostUSD, .openLIT),
        ("llm.cost.total", .reportedCostUSD, .openInference),
        ("langfuse.observation.cost_details", .langfuseCost, .langfuse),
        // attribution
        ("user.id", .userID, .general),
        ("enduser.id", .userID, .general),
        ("langfuse.user.id", .userID, .langfuse),
        ("traceloop.association.properties.user_id", .userID, .openLLMetry),
        ("gen_ai.user", .userID, .openLLMetry),
        ("ai.telemetry.metadata.userId", .userID, .vercel),
        ("session.id", .sessionID, .general),
        ("gen_ai.conversation.id", .sessionID, .semconv),
        ("langfuse.session.id", .sessionID, .langfuse),
        ("traceloop.association.properties.session_id", .sessionID, .openLLMetry),
        ("ai.telemetry.metadata.sessionId", .sessionID, .vercel),
        ("traceloop.workflow.name", .feature, .openLLMetry),
        ("langfuse.trace.name", .feature, .langfuse),
        ("ai.telemetry.functionId", .feature, .vercel),
        ("gen_ai.agent.name", .feature, .semconv),
        ("gen_ai.application_name", .feature, .openLIT),
        ("deployment.environment.name", .environment, .general),
        ("deployment.environment", .environment, .general),
        ("langfuse.environment", .environment, .langfuse),
        ("langfuse.trace.tags", .tags, .langfuse),
        ("tag.tags", .tags, .openInference),
        // steps
        ("gen_ai.tool.name", .toolName, .semconv),
        ("tool.name", .toolName, .openInference),
        ("ai.toolCall.name", .toolName, .vercel),
        ("error.type", .errorType, .general),
        ("http.response.status_code", .httpStatus, .general),
        ("http.status_code", .httpStatus, .general),
        ("gen_ai.response.time_to_first_chunk", .ttftSeconds, .semconv),
        ("gen_ai.server.time_to_first_token", .ttftSeconds, .openLIT),
        ("ai.response.msToFirstChunk", .ttftMilliseconds, .vercel),
        ("ai.stream.msToFirstChunk", .ttftMilliseconds, .vercel),
        ("langfuse.observation.completion_start_time", .completionStartTime, .langfuse),
        ("gen_ai.operation.name", .operationName, .semconv),
        ("openinference.span.kind", .openInferenceKind, .openInference),
        ("traceloop.span.kind", .traceloopKind, .openLLMetry),
        ("langfuse.observation.type", .langfuseType, .langfuse),
        ("ai.operationId", .vercelOperation, .vercel),
        ("llm.request.type", .llmRequestType, .openLLMetry),
        ("langfuse.observation.level", .langfuseLevel, .langfuse),
        ("langfuse.observation.status_message", .statusMessage, .langfuse),
        ("ai.response.providerMetadata", .vercelProviderMetadata, .vercel),
        // text
        ("gen_ai.input.messages", .prompt, .semconv),
        ("input.value", .prompt, .openInference),
        ("langfuse.observation.input", .prompt, .langfuse),
        ("ai.prompt.messages", .prompt, .vercel),
        ("ai.prompt", .prompt, .vercel),
        ("traceloop.entity.input", .prompt, .openLLMetry),
        ("gen_ai.output.messages", .response, .semconv),
        ("output.value", .response, .openInference),
        ("langfuse.observation.output", .response, .langfuse),
        ("ai.response.text", .response, .vercel),
        ("traceloop.entity.output", .response, .openLLMetry),
        ("gen_ai.tool.call.arguments", .toolInput, .semconv),
        ("ai.toolCall.args", .toolInput, .vercel),
        ("gen_ai.tool.call.result", .toolOutput, .semconv),
        ("ai.toolCall.result", .toolOutput, .vercel),
    ]

    /// Attribute name → rule; the rank is the row's position among its field's rows.
    static let rules: [String: AttributeRule] = {
        var rules: [String: AttributeRule] = [:]
        var ranks: [Field: Int] = [:]
        for (name, field, convention) in rows {
            let rank = ranks[field, default: 0]
            ranks[field] = rank + 1
            rules[name] = AttributeRule(field: field, convention: convention, rank: rank)
        }
        return rules
    }()

    /// Message lists flattened into one attribute per message part, in the order a prompt is read:
    /// `gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`, … (OpenLLMetry) and
    /// `llm.input_messages.0.message.content` (OpenInference).
    static let messageListPrefixes: [(prefix: String, field: Field)] = [
        ("gen_ai.prompt.", .prompt),
        ("gen_ai.completion.", .response),
        ("llm.input_messages.", .prompt),
        ("llm.output_messages.", .response),
    ]

    /// Application metadata spread over attributes; the part after the prefix becomes the key.
    static let metadataPrefixes = [
        "langfuse.trace.metadata.", "langfuse.observation.metadata.", "ai.telemetry.metadata.",
        "traceloop.association.properties.",
    ]

    /// Span events that mark the first streamed token (the earliest one counts).
    static let firstTokenEvents: Set<String> = [
        "gen_ai.first_token", "first_token", "First Token Stream Event", "ai.stream.firstChunk",
        "llm.first_token", "llm.content.completion.chunk",
        "gen_ai.content.completion.chunk",
    ]

    // MARK: - Step types

    static let stepTypeByOperation: [String: String] = [
        "chat": "llm_call", "text_completion": "llm_call", "generate_content": "llm_call", "completion": "llm_call",
        "embeddings": "embedding", "embedding": "embedding", "execute_tool": "tool_call", "invoke_agent": "agent",
        "create_agent": "agent", "invoke_workflow": "chain", "retrieval": "retrieval",
    ]
    static let stepTypeByOpenInferenceKind: [String: String] = [
        "LLM": "llm_call", "CHAIN": "chain", "TOOL": "tool_call", "RETRIEVER": "retrieval", "EMBEDDING": "embedding",
        "AGENT": "agent", "RERANKER": "rerank", "GUARDRAIL": "guardrail", "EVALUATOR": "evaluator", "PROMPT": "chain",
    ]
    static let stepTypeByLangfuseType: [String: String] = [
        "generation": "llm_call", "embedding": "embedding", "agent": "agent", "tool": "tool_call", "chain": "chain",
        "retriever": "retrieval", "evaluator": "evaluator", "guardrail": "guardrail", "span": "span", "event": "event",
    ]
    static let stepTypeByTraceloopKind: [String: String] = [
        "workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool_call",
    ]
    static let stepTypeByRequestType: [String: String] = [
        "chat": "llm_call", "completion": "llm_call", "embedding": "embedding", "rerank": "rerank",
    ]

    /// Vercel AI SDK operation ids: the `do…` spans are the provider calls; the outer ones wrap them
    /// (and repeat their usage as a total, so they must not be counted as calls).
    static func stepType(vercelOperation operation: String) -> String? {
        switch operation {
        case "ai.generateText.doGenerate", "ai.streamText.doStream", "ai.generateObject.doGenerate", "ai.streamObject.doStream":
            return "llm_call"
        case "ai.embed.doEmbed", "ai.embedMany.doEmbed": return "embedding"
        case "ai.toolCall": return "tool_call"
        case "ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject", "ai.embed", "ai.embedMany": return "chain"
        default: return nil
        }
    }

    /// Step types whose spans are provider calls: only they carry tokens, model and cost.
    static let callStepTypes: Set<String> = ["llm_call", "embedding", "rerank"]
}
