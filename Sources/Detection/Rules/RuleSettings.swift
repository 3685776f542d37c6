import Foundation
import TokenmeterCore

/// A project's override of one rule; nil fields keep the built-in default. Stored per project
/// (`alert_rules`), so a project without any row runs every rule with its defaults.
public struct RuleOverride: Sendable, Hashable {
    public var enabled: Bool?
    /// The rule's main knob, in ``RuleDefaults/thresholdMeaning``.
    public var threshold: Double?
    public var minimumCalls: Int?
    public var pendingSeconds: Double?

    public init(enabled: Bool? = nil, threshold: Double? = nil, minimumCalls: Int? = nil, pendingSeconds: Double? = nil) {
        self.enabled = enabled
        self.threshold = threshold
        self.minimumCalls = minimumCalls
        self.pendingSeconds = pendingSeconds
    }

    public var isEmpty: Bool { self == RuleOverride() }
}

/// What a rule's knobs mean and default to, for the API and for validation.
public struct RuleDefaults: Sendable, Hashable {
    public var rule: Rule
    public var threshold: Double
    /// What the threshold measures ("error rate (0–1) over 60 s", …).
    public var thresholdMeaning: String
    /// The range a threshold override must fall in.
    public var thresholdRange: ClosedRange<Double>
    /// Nil when the rule has no minimum volume (a min_calls override is refused).
    public var minimumCalls: Int?
    /// Nil when the rule fires at once (a pending_seconds override is refused).
    public var pendingSeconds: Double?
    public var description: String

    /// Defaults of every rule, from the detectors' parameter structs (one source of truth).
    public static let all: [Rule: RuleDefaults] = {
        let spend = SpendSpikeParameters(), errors = ErrorSurgeParameters(), retries = RetryStormParameters()
        let latency = LatencyRegressionParameters(), hourly = HourlyCostParameters(), expensive = ExpensiveRequestParameters()
        let runaway = RunawayTraceParameters(), feature = RunawayFeatureParameters(), budget = BudgetParameters()
        let list: [RuleDefaults] = [
            RuleDefaults(rule: .spendSpike, threshold: spend.minimumLift, thresholdMeaning: "minimum lift over the baseline (×)",
                         thresholdRange: 1.1...100, minimumCalls: spend.minimumCalls, pendingSeconds: spend.pendingFor,
                         description: "Spend of the last window (5, 15 or 60 min by volume) far above the seasonal baseline: robust z ≥ 6, lift, +$0.10 floor, minimum calls, and not on one minute alone"),
            RuleDefaults(rule: .hourlyCost, threshold: hourly.multiple, thresholdMeaning: "multiple of the 7-day average of the same hour (×)",
                         thresholdRange: 1.1...100, minimumCalls: nil, pendingSeconds: nil,
                         description: "Cost of the last closed hour above a multiple of the same hour's 7-day average (and +$1)"),
            RuleDefaults(rule: .expensiveRequest, threshold: expensive.threshold.usd, thresholdMeaning: "cost of one request (USD)",
                         thresholdRange: 0.000001...100_000, minimumCalls: nil, pendingSeconds: expensive.groupWait,
                         description: "A single request costing more than the cap in the last 10 min; one alert per scope, naming the worst request; held 5 min so a spend spike of the project can absorb it"),
            RuleDefaults(rule: .errorSurge, threshold: errors.fireRate, thresholdMeaning: "share of failed requests over the last 60 s (0–1)",
                         thresholdRange: 0.01...0.99, minimumCalls: errors.minimumCalls, pendingSeconds: errors.pendingFor,
                         description: "Share of requests (a trace counts once) with an error over the last 60 s, evaluated every round; min_calls counts requests"),
            RuleDefaults(rule: .retryStorm, threshold: retries.fireRetriesPerCall, thresholdMeaning: "retries per call over 5 min",
                         thresholdRange: 0.01...100, minimumCalls: retries.minimumRetries, pendingSeconds: retries.pendingFor,
                         description: "Retries per call far above their own baseline (×3) and an absolute rate, over 5 and 2 closed minutes and the freshest 60 s; min_calls counts retries (5-min window)"),
            RuleDefaults(rule: .runawayTrace, threshold: Double(runaway.stepCap), thresholdMeaning: "steps in one trace",
                         thresholdRange: 2...100_000, minimumCalls: nil, pendingSeconds: nil,
                         description: "A trace over the step cap, repeating one tool with the same input, far over the feature's cost norm, or still growing after 15 min"),
            RuleDefaults(rule: .runawayFeature, threshold: Double(feature.minimumTraces), thresholdMeaning: "runaway traces of one feature in 15 min",
                         thresholdRange: 2...10_000, minimumCalls: nil, pendingSeconds: nil,
                         description: "Several runaway traces of one feature at once: one alert standing for them"),
            RuleDefaults(rule: .latencyRegression, threshold: latency.fireRatio, thresholdMeaning: "p95 latency over the baseline (×)",
                         thresholdRange: 1.05...100, minimumCalls: latency.minimumCalls, pendingSeconds: latency.pendingFor,
                         description: "p95 latency of a model or feature over 15 min well above its baseline (and +500 ms)"),
            RuleDefaults(rule: .ttftRegression, threshold: latency.fireRatio, thresholdMeaning: "p95 time to first token over the baseline (×)",
                         thresholdRange: 1.05...100, minimumCalls: latency.minimumCalls, pendingSeconds: latency.pendingFor,
                         description: "p95 time to first token of a model or feature over 15 min well above its baseline (and +500 ms)"),
            RuleDefaults(rule: .budgetThreshold, threshold: budget.warningFraction, thresholdMeaning: "fraction of the budget that warns (critical at 1)",
                         thresholdRange: 0.05...0.999, minimumCalls: nil, pendingSeconds: nil,
                         description: "A budget at 80% (warning) and 100% (critical) of its limit in the current period"),
            RuleDefaults(rule: .budgetBurn, threshold: budget.fastBurnRate, thresholdMeaning: "burn rate over 1 h and 5 min that is critical",
                         thresholdRange: 1.01...1_000, minimumCalls: nil, pendingSeconds: nil,
                         description: "A budget spent at several times its sustainable rate (1 h and 5 min windows; slow burn over 6 h and 30 min)"),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.rule, $0) })
    }()
}

/// The detector parameters a project's overrides produce.
public struct RuleSettings: Sendable {
    public var overrides: [Rule: RuleOverride]

    public init(overrides: [Rule: RuleOverride] = [:]) {
        self.overrides = overrides
    }

    public func isEnabled(_ rule: Rule) -> Bool { overrides[rule]?.enabled ?? true }

    public var spendSpike: SpendSpikeParameters {
        var p = SpendSpikeParameters()
        let o = overrides[.spendSpike]
        if let v = o?.threshold { p.minimumLift = v }
        if let v = o?.minimumCalls { p.minimumCalls = v }
        if let v = o?.pendingSeconds { p.pendingFor = v }
        return p
    }

    public var hourlyCost: HourlyCostParameters {
        var p = HourlyCostParameters()
        if let v = overrides[.hourlyCost]?.threshold { p.multiple = v }
        return p
    }

    public var expensiveRequest: ExpensiveRequestParameters {
        var p = ExpensiveRequestParameters()
        if let v = overrides[.expensiveRequest]?.threshold, let money = Money(usd: v) { p.threshold = money }
        if let v = overrides[.expensiveRequest]?.pendingSeconds {
            p.groupWait = v
            // The request must stay in the window for the whole wait.
            p.window = max(p.window, v + 300)
        }
        return p
    }

    public var errorSurge: ErrorSurgeParameters {
        var p = ErrorSurgeParameters()
        let o = overrides[.errorSurge]
        if let v = o?.threshold {
            p.fireRate = v
            // Keep the hysteresis band: resolve at half the fire rate, as the defaults do.
            p.resolveRate = v / 2
            p.criticalRate = max(p.criticalRate, v)
        }
        if let v = o?.minimumCalls { p.minimumCalls = v }
        if let v = o?.pendingSeconds { p.pendingFor = v }
        return p
    }

    public var retryStorm: RetryStormParameters {
        var p = RetryStormParameters()
        let o = overrides[.retryStorm]
        if let v = o?.threshold {
            p.fireRetriesPerCall = v
            p.resolveRetriesPerCall = min(p.resolveRetriesPerCall, v / 2)
        }
        if let v = o?.minimumCalls { p.minimumRetries = v }
        if let v = o?.pendingSeconds { p.pendingFor = v }
        return p
    }

    public func latency(_ metric: LatencyMetric) -> LatencyRegressionParameters {
        var p = LatencyRegressionParameters()
        let o = overrides[metric == .latency ? .latencyRegression : .ttftRegression]
        if let v = o?.threshold {
            p.fireRatio = v
            p.resolveRatio = min(p.resolveRatio, 1 + (v - 1) / 2)
        }
        if let v = o?.minimumCalls { p.minimumCalls = v }
        if let v = o?.pendingSeconds { p.pendingFor = v }
        return p
    }

    public var runawayTrace: RunawayTraceParameters {
        var p = RunawayTraceParameters()
        if let v = overrides[.runawayTrace]?.threshold { p.stepCap = Int(v) }
        return p
    }

    public var runawayFeature: RunawayFeatureParameters {
        var p = RunawayFeatureParameters()
        if let v = overrides[.runawayFeature]?.threshold { p.minimumTraces = Int(v) }
        return p
    }

    public var budget: BudgetParameters {
        var p = BudgetParameters()
        if let v = overrides[.budgetThreshold]?.threshold { p.warningFraction = v }
        if let v = overrides[.budgetBurn]?.threshold {
            p.fastBurnRate = v
            p.slowBurnRate = min(p.slowBurnRate, v)
        }
        return p
    }
}
