import Foundation
import Synchronization
import TokenmeterCore

/// A generated month of traffic: 50 features, 10k users (skewed: a few heavy ones), 20 models (two
/// the price table does not know), agent runs with steps and child requests, sessions, errors,
/// retries, fallbacks, app-cache hits, prompt-cache reads and writes, heavy-tailed latencies. Sent
/// shuffled (children before parents, days out of order) with a share of events delivered twice.
struct Workload {
    static let start = Timestamp.parseRFC3339("2026-09-01T00:00:00Z")!
    static let days = 30
    static let models: [(provider: String, model: String)] = [
        ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("openai", "gpt-4.1-mini"), ("openai", "gpt-5"), ("openai", "gpt-5-mini"),
        ("openai", "o3"), ("openai", "o4-mini"), ("anthropic", "claude-sonnet-4-5"), ("anthropic", "claude-haiku-4-5"),
        ("anthropic", "claude-opus-4-1"), ("anthropic", "claude-3-5-haiku"), ("google", "gemini-2.5-pro"), ("google", "gemini-2.5-flash"),
        ("google", "gemini-2.0-flash"), ("mistral", "mistral-large"), ("mistral", "mistral-small"), ("deepseek", "deepseek-chat"),
        ("xai", "grok-4"), ("acme", "acme-llm-1"), ("local", "in-house-7b"),
    ]
    static let environments = ["prod", "prod", "prod", "staging", "dev"]

    /// Every distinct event as a JSON object, and the order in which they are delivered (indexes into
    /// `events`; some appear twice).
    var events: [String] = []
    var deliveries: [Int] = []
    /// Agent runs that have at least one child request (for tree checks), and some session ids.
    var agentRoots: [String] = []
    var sessions: [String] = []

    init(minimumEvents: Int) {
        var rng = SystemRandomNumberGenerator()
        func uniform() -> Double { Double.random(in: 0..<1, using: &rng) }
        func latency() -> Double {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng)
            // Pareto tail, capped at an hour: a real call times out long before the 24 h the API accepts.
            if uniform() < 0.04 { return min(2000 / pow(u, 1 / 1.3), 3_600_000).rounded(toPlaces: 3) }
            let normal = sqrt(-2 * log(u)) * cos(2 * .pi * uniform())
            return exp(log(600) + 0.9 * normal).rounded(toPlaces: 3)
        }
        let span = Double(Workload.days * 86_400)
        var agents: [(id: String, time: Double)] = []
        var request = 0
        while events.count < minimumEvents {
            request += 1
            let time = (uniform() * (span - 120) * 1000).rounded() / 1000
            let feature = "f\(String(format: "%02d", Int(uniform() * 50)))"
            let user = uniform() < 0.03 ? nil : "u\(Int(pow(uniform(), 3) * 10_000))"
            let environment = Workload.environments[Int(uniform() * 5)]
            let session = uniform() < 0.3 ? "s\(request / 7)" : nil
            var parent: String?
            var base = time
            let kind = uniform()
            if kind > 0.95, let agent = agents.randomElement(using: &rng) {
                parent = agent.id
                base = min(agent.time + 1 + uniform() * 30, span - 60)
                if agentRoots.count < 20, !agentRoots.contains(agent.id) { agentRoots.append(agent.id) }
            }
            let steps = kind > 0.85 && kind <= 0.95 ? 2 + Int(uniform() * 3) : (parent == nil ? 1 : 1 + Int(uniform() * 2))
            let requestID = "r\(request)"
            if steps > 1, parent == nil { agents.append((requestID, base)) }
            if let session, sessions.count < 20, uniform() < 0.01 { sessions.append(session) }
            for step in 0..<steps {
                let ts = Timestamp.rfc3339(Workload.start.addingTimeInterval(base + Double(step) * 0.75))
                var fields = [#""request_id":"\#(requestID)""#, #""timestamp":"\#(ts)""#, #""feature":"\#(feature)""#,
                              #""environment":"\#(environment)""#]
                if let user { fields.append(#""user_id":"\#(user)""#) }
                if let session { fields.append(#""session_id":"\#(session)""#) }
                if let parent, step == steps - 1 { fields.append(#""parent_request_id":"\#(parent)""#) }   // not always the first step
                if steps > 1 { fields.append(#""step_index":\#(step)"#) }
                let isTool = steps > 1 && step % 2 == 1
                if isTool {
                    fields.append(#""step_type":"\#(uniform() < 0.5 ? "tool_call" : "retrieval")","tool_name":"search","latency_ms":\#((uniform() * 300).rounded(toPlaces: 2))"#)
                } else {
                    let (provider, model) = Workload.models[Int(pow(uniform(), 1.5) * 20)]
                    fields.append(#""provider":"\#(provider)","model":"\#(model)""#)
                    if steps > 1 { fields.append(#""step_type":"llm_call""#) }
                    if uniform() < 0.08 {
                        fields.append(#""cache_hit":true,"latency_ms":\#((uniform() * 5).rounded(toPlaces: 3))"#)
                    } else {
                        let input = 50 + Int(pow(uniform(), 2) * 20_000)
                        let cached = uniform() < 0.3 ? Int(uniform() * Double(input) * 0.8) : 0
                        let written = provider == "anthropic" && uniform() < 0.2 ? Int(uniform() * Double(input - cached)) : 0
                        let output = Int(uniform() * 2000)
                        let total = latency()
                        fields.append(#""tokens_in":\#(input),"cached_tokens":\#(cached),"cache_write_tokens":\#(written),"tokens_out":\#(output),"latency_ms":\#(total)"#)
                        if uniform() < 0.6 { fields.append(#""ttft_ms":\#((total * (0.1 + 0.4 * uniform())).rounded(toPlaces: 3))"#) }
                        if uniform() < 0.03 { fields.append(#""status":"error","error_type":"rate_limit","http_status":429"#) }
                        if uniform() < 0.1 { fields.append(#""retries":\#(1 + Int(uniform() * 3))"#) }
                        if uniform() < 0.02 { fields.append(#""fallback_triggered":true"#) }
                        if uniform() < 0.01 { fields.append(#""cost_usd":\#((uniform() * 0.5).rounded(toPlaces: 6))"#) }
                    }
                }
                events.append("{" + fields.joined(separator: ",") + "}")
            }
        }
        deliveries = Array(events.indices) + (0..<(events.count / 20)).map { _ in Int.random(in: 0..<events.count, using: &rng) }
        deliveries.shuffle(using: &rng)
    }

    /// Sends every delivery in batches over `clients` concurrent connections; returns the failures.
    func send(to server: RunningServer, batchSize: Int = 2000, clients: Int = 4) -> [String] {
        let batches = stride(from: 0, to: deliveries.count, by: batchSize).map { deliveries[$0..<min(deliveries.count, $0 + batchSize)] }
        let next = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let port = server.port
        let key = server.ingestKey
        DispatchQueue.concurrentPerform(iterations: clients) { _ in
            let client = HTTPClient(port: port)
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < batches.count else { return }
                let body = "[" + batches[index].map { events[$0] }.joined(separator: ",") + "]"
                do {
                    let response = try client.send(method: "POST", path: "/v1/events",
                                                   headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                                                   body: Array(body.utf8))
                    if response.status != 200 || response.text.contains("\"index\"") {
                        failures.withLock { $0.append("batch \(index): \(response.status) \(response.text.prefix(300))") }
                    }
                } catch {
                    failures.withLock { $0.append("batch \(index): \(error)") }
                }
            }
        }
        return failures.withLock { $0 }
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
