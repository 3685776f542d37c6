import Foundation

/// An anomaly a detector saw at one evaluation: what, where, how bad.
public struct Finding: Sendable, Hashable {
    public var key: AlertKey
    public var severity: Severity
    public var unit: MeasureUnit
    /// The observed value (window cost, error rate, p95…).
    public var value: Double
    /// What was expected (seasonal median, trailing median, budget…); nil when the rule is a
    /// static cap with no expectation.
    public var baseline: Double?
    /// The value at which the rule breaches given this baseline.
    public var threshold: Double
    /// One line for a human: "Spend $4.20 in 5 min vs $0.80 expected (×5.3) …".
    public var summary: String
    /// Extra facts for the payload (`z`, `window`, `share_429`, `projected_exhaustion`…).
    public var annotations: [String: String]
    /// How long the condition must hold before the alert fires. Detectors set it from their
    /// parameters; a fast path (an overwhelming breach) sets 0.
    public var pendingFor: TimeInterval

    public init(key: AlertKey, severity: Severity, unit: MeasureUnit, value: Double, baseline: Double?,
                threshold: Double, summary: String, annotations: [String: String] = [:], pendingFor: TimeInterval) {
        self.key = key
        self.severity = severity
        self.unit = unit
        self.value = value
        self.baseline = baseline
        self.threshold = threshold
        self.summary = summary
        self.annotations = annotations
        self.pendingFor = pendingFor
    }
}

/// A detector's answer for one key at one evaluation.
///
/// Four answers, not "finding or nil", because the alert state machine needs them apart:
/// a breach starts or keeps an incident; *elevated* (between the resolve and the fire
/// threshold) keeps a firing alert firing but starts nothing — that is the value hysteresis;
/// *clear* counts toward resolution; *no data* (too little volume or history to judge) changes
/// nothing, so silence never resolves a ratio alert.
public enum Condition: Sendable, Hashable {
    case breaching(Finding)
    case elevated
    case clear
    case noData
}

public struct Evaluation: Sendable, Hashable {
    public var key: AlertKey
    public var condition: Condition

    public init(key: AlertKey, condition: Condition) {
        self.key = key
        self.condition = condition
    }

    /// The finding when breaching, else nil.
    public var finding: Finding? {
        if case .breaching(let finding) = condition { return finding }
        return nil
    }
}
