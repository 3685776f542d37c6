import Foundation

/// How the lifecycle treats one rule's alerts. The pending period comes from the finding
/// (detectors own it, including fast paths).
public struct AlertPolicy: Sendable, Hashable {
    /// Clear for this long before resolving (recovery window ≥ trigger window, so a flapping
    /// condition stays one incident).
    public var resolveAfter: TimeInterval
    /// Re-notify a still-firing alert this often (Alertmanager's default 4 h).
    public var repeatInterval: TimeInterval = 4 * 3600
    /// Resolve when the key has not been evaluated at all for this long: for one-shot keys
    /// (a finished budget period, a trace no longer tracked) and count rules of a scope that
    /// vanished. Nil for ratio rules: silence never resolves them.
    public var resolveWhenAbsentFor: TimeInterval?
    /// A rise in severity re-notifies only when the value is also this multiple of the value
    /// last notified (the reference note's 2×). A value hovering around a severity boundary
    /// (a ×5 spike at "critical from ×5") would otherwise add an escalation to nearly every
    /// incident. `.infinity`: the rule never escalates.
    public var escalationValueRatio: Double

    public init(resolveAfter: TimeInterval, repeatInterval: TimeInterval = 4 * 3600,
                resolveWhenAbsentFor: TimeInterval? = nil, escalationValueRatio: Double = 2) {
        self.resolveAfter = resolveAfter
        self.repeatInterval = repeatInterval
        self.resolveWhenAbsentFor = resolveWhenAbsentFor
        self.escalationValueRatio = escalationValueRatio
    }

    /// Defaults per rule (reference note §4.2–4.6).
    public static func defaultPolicy(for rule: Rule) -> AlertPolicy {
        switch rule {
        // A spike's window keeps filling after it fires (a 15-minute window holding 3 minutes
        // of ×5 reads ×1.8, full ×5): its value grows 2–3× without the incident getting any
        // worse, so escalation asks for 4× (a ×3 spike turning into ×12 still escalates).
        case .spendSpike: AlertPolicy(resolveAfter: 10 * 60, resolveWhenAbsentFor: 30 * 60, escalationValueRatio: 4)
        case .hourlyCost: AlertPolicy(resolveAfter: 0, resolveWhenAbsentFor: 2 * 3600)
        case .expensiveRequest: AlertPolicy(resolveAfter: 5 * 60, resolveWhenAbsentFor: 30 * 60)
        case .errorSurge: AlertPolicy(resolveAfter: 5 * 60)
        // The same holds for a storm: its first breach is often a 60 s window only partly inside
        // it (bench/anomaly seed 3: told at 1.06 retries per call, 2.14 — critical — 90 s later,
        // the same storm): 4× like a spike, so 0.5 turning into 2+ per call still escalates.
        case .retryStorm: AlertPolicy(resolveAfter: 10 * 60, escalationValueRatio: 4)
        case .latencyRegression, .ttftRegression: AlertPolicy(resolveAfter: 30 * 60)
        // The detector already waits for 5 idle minutes; absent = no longer tracked. No
        // escalation: a loop alerted at step 10 or 50 that reaches 200 steps (critical) is the
        // same incident, still firing; its growth shows in the API and its resolved message
        // (final steps and cost), not in a second "firing" message.
        case .runawayTrace: AlertPolicy(resolveAfter: 0, resolveWhenAbsentFor: 10 * 60, escalationValueRatio: .infinity)
        case .runawayFeature: AlertPolicy(resolveAfter: 15 * 60, resolveWhenAbsentFor: 30 * 60)
        // Absent = the period rolled over (the next period has another key).
        // 80% → 100% is the escalation users asked for, whatever the ratio of the values.
        case .budgetThreshold: AlertPolicy(resolveAfter: 0, resolveWhenAbsentFor: 5 * 60, escalationValueRatio: 1)
        case .budgetBurn: AlertPolicy(resolveAfter: 5 * 60)
        }
    }
}

/// "A firing `source` alert mutes `target` alerts in a nested scope" (Alertmanager
/// inhibition with scope nesting in place of `equal` labels).
///
/// A muted alert keeps its own lifecycle and history (`inhibitedBy` links it to its cause,
/// and the API lists it), but is not told: not while the source fires, and not after — once
/// linked, it stays linked until it resolves, because it is the same incident (a feature's
/// 15-minute spend window clears minutes after the project's 5-minute one; telling it then
/// was a second message about one spike). A *pending* source holds a target's first message
/// for as long as it is pending (it may fire within the round or two that separate them);
/// if it drops instead, the target is told then, late but not lost.
public struct InhibitionRule: Sendable, Hashable {
    public var source: Rule
    public var target: Rule
    /// Only targets strictly narrower than the source (the source's labels are a proper
    /// subset of the target's): how a rule mutes its own copies in features and models.
    public var narrowerOnly: Bool

    public init(source: Rule, target: Rule, narrowerOnly: Bool = false) {
        self.source = source
        self.target = target
        self.narrowerOnly = narrowerOnly
    }

    /// True when an alert of `source` mutes one of `target` under this rule.
    public func applies(source sourceKey: AlertKey, target targetKey: AlertKey) -> Bool {
        guard sourceKey.rule == source, targetKey.rule == target, sourceKey != targetKey else { return false }
        return narrowerOnly ? targetKey.scope.isNarrower(than: sourceKey.scope) : sourceKey.scope.isNested(with: targetKey.scope)
    }

    /// Retries and errors *cause* spend (every retry is billed): the spend spike is a symptom.
    /// A feature-wide runaway alert stands for the traces that make it up: one message for a
    /// broken deploy, not one per looping trace. A spend spike stands for the expensive
    /// requests that make it up, and for the hourly-cost alert of the hour it falls in. And a rule breaching for the whole project stands for the
    /// same breach in its features and models (one incident, at its broadest scope).
    public static let defaults: [InhibitionRule] = [
        InhibitionRule(source: .retryStorm, target: .spendSpike),
        InhibitionRule(source: .errorSurge, target: .spendSpike),
        InhibitionRule(source: .runawayFeature, target: .runawayTrace),
        InhibitionRule(source: .spendSpike, target: .expensiveRequest),
        // The hour that closes during a spike is over its average because of it (bench/anomaly:
        // a second message at the next full hour of every big spike).
        InhibitionRule(source: .spendSpike, target: .hourlyCost),
    ] + [Rule.spendSpike, .errorSurge, .retryStorm, .latencyRegression, .ttftRegression].map {
        InhibitionRule(source: $0, target: $0, narrowerOnly: true)
    }

    /// Rules whose alerts are grouped per project: one message per (project, rule) incident.
    /// The same rule breaching at several scopes of a project at once is one incident seen from
    /// several sides (a slow model slows its features and the project; a spike in one feature
    /// lifts the project). The nesting rule above covers a project-wide alert that comes
    /// first; grouping covers the rest: narrower scopes that fire before or beside it (the
    /// project's 5-minute window or its latency sketch crosses later), and sibling scopes (two
    /// models). See ``AlertStateMachine/applyGrouping(_:held:)``.
    public static let groupedRules: Set<Rule> = [.spendSpike, .errorSurge, .retryStorm, .latencyRegression, .ttftRegression]
}
