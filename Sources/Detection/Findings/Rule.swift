/// What kind of anomaly a finding reports; the raw value is the `alertname` label.
public enum Rule: String, Sendable, Hashable, CaseIterable {
    case spendSpike = "spend_spike"
    case hourlyCost = "hourly_cost"
    case expensiveRequest = "expensive_request"
    case errorSurge = "error_surge"
    case retryStorm = "retry_storm"
    case runawayTrace = "runaway_trace"
    /// Several runaway traces of one feature at once: one alert instead of one per trace.
    case runawayFeature = "runaway_feature"
    case latencyRegression = "latency_regression"
    case ttftRegression = "ttft_regression"
    case budgetThreshold = "budget_threshold"
    case budgetBurn = "budget_burn"
}

/// How urgent an alert is. Ordered: a rise re-notifies at once (escalation).
public enum Severity: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    case warning = 1
    case critical = 2

    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
    public var description: String { self == .warning ? "warning" : "critical" }
}

/// The unit of a finding's value, baseline and threshold.
public enum MeasureUnit: String, Sendable, Hashable {
    case usd
    case tokens
    case ratio
    case milliseconds = "ms"
    case count
    case retriesPerCall = "retries_per_call"
}
