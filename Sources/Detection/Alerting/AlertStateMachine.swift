import Foundation
import TokenmeterCore

/// The alert lifecycle as a pure function: previous instances + this round's evaluations +
/// now → next instances + notifications. No clock is read; `now` is the evaluation time.
///
/// Per fingerprint: nothing → pending on a breach; pending → firing once breaching for the
/// finding's `pendingFor` (0 fires at once); pending drops back to nothing on any answer
/// but a breach (the condition must be seen at every evaluation, as Prometheus' `for`); firing stays firing while breaching or elevated, and resolves after being clear for
/// the rule's `resolveAfter`. No data holds every state and restarts the clear clock, so a
/// ratio alert never resolves by silence. Notifications: one firing and one resolved per
/// incident, repeats every `repeatInterval`, escalation at once when severity and value rise; an inhibited alert is
/// linked to its cause and not notified for the rest of its incident (a pending cause only holds it), and an incident
/// never notified resolves silently.
public struct AlertStateMachine: Sendable {
    public var policies: [Rule: AlertPolicy]
    public var inhibitions: [InhibitionRule]
    /// Rules told once per (project, rule) incident (see ``applyGrouping(_:held:)``).
    public var groupedRules: Set<Rule>

    public init(policies: [Rule: AlertPolicy] = [:], inhibitions: [InhibitionRule] = InhibitionRule.defaults,
                groupedRules: Set<Rule> = InhibitionRule.groupedRules) {
        self.policies = policies
        self.inhibitions = inhibitions
        self.groupedRules = groupedRules
    }

    public func policy(for rule: Rule) -> AlertPolicy {
        policies[rule] ?? AlertPolicy.defaultPolicy(for: rule)
    }

    public struct Step: Sendable {
        /// Pending and firing instances, plus those resolved in this step (once).
        public var alerts: [String: AlertInstance]
        public var notifications: [AlertNotification]
    }

    public func step(previous: [String: AlertInstance], evaluations: [Evaluation], now: Date) -> Step {
        var conditions: [String: (key: AlertKey, condition: Condition)] = [:]
        for evaluation in evaluations {
            let fingerprint = evaluation.key.fingerprint
            // Two evaluations of one key in a round: the more severe answer wins.
            if let existing = conditions[fingerprint], rank(existing.condition) >= rank(evaluation.condition) { continue }
            conditions[fingerprint] = (evaluation.key, evaluation.condition)
        }

        var alerts: [String: AlertInstance] = [:]
        var resolvedNow: Set<String> = []
        let live = previous.filter { $0.value.phase != .resolved }
        for fingerprint in Set(live.keys).union(conditions.keys) {
            let next = advance(live[fingerprint], conditions[fingerprint]?.condition, now: now)
            if let next {
                alerts[fingerprint] = next
                if next.phase == .resolved { resolvedNow.insert(fingerprint) }
            }
        }

        let held = applyInhibitions(&alerts)
        applyGrouping(&alerts, held: held)
        var notifications: [AlertNotification] = []
        for fingerprint in alerts.keys.sorted() {
            guard var alert = alerts[fingerprint], !(held.contains(fingerprint) && alert.phase == .firing),
                  let kind = notification(for: alert, resolvedNow: resolvedNow, now: now)
            else { continue }
            if kind != .resolved {
                alert.notifiedSeverity = max(alert.notifiedSeverity ?? alert.finding.severity, alert.finding.severity)
                alert.lastNotifiedAt = now
                alert.notifiedValue = alert.finding.value
                alerts[fingerprint] = alert
            }
            let inhibits = alerts.values.filter { $0.inhibitedBy == fingerprint }.map(\.fingerprint).sorted()
            notifications.append(AlertNotification(kind: kind, alert: alert, inhibits: inhibits))
        }
        return Step(alerts: alerts, notifications: notifications)
    }

    /// The next instance for one fingerprint; nil when it is (back to) inactive.
    func advance(_ current: AlertInstance?, _ condition: Condition?, now: Date) -> AlertInstance? {
        guard var alert = current else {
            guard case .breaching(let finding)? = condition else { return nil }
            var fresh = AlertInstance(finding: finding, now: now)
            if finding.pendingFor <= 0 { fresh.phase = .firing; fresh.firingSince = now }
            return fresh
        }
        let policy = policy(for: alert.key.rule)
        if condition != nil { alert.lastEvaluated = now }
        switch condition {
        case .breaching(let finding)?:
            alert.finding = finding
            alert.peakValue = max(alert.peakValue, finding.value)
            alert.clearSince = nil
            if alert.phase == .pending && now.timeIntervalSince(alert.pendingSince) >= finding.pendingFor {
                alert.phase = .firing
                alert.firingSince = now
            }
        case .elevated?:
            if alert.phase == .pending { return nil }
            alert.clearSince = nil
        case .clear?:
            if alert.phase == .pending { return nil }
            let since = alert.clearSince ?? now
            alert.clearSince = since
            if now.timeIntervalSince(since) >= policy.resolveAfter { return resolve(alert, now) }
        case .noData?:
            // Pending needs the breach seen at every evaluation; unknown is not seen.
            if alert.phase == .pending { return nil }
            alert.clearSince = nil
        case nil:
            if alert.phase == .pending { return nil }
            if let limit = policy.resolveWhenAbsentFor, now.timeIntervalSince(alert.lastEvaluated) >= limit {
                return resolve(alert, now)
            }
        }
        return alert
    }

    private func resolve(_ alert: AlertInstance, _ now: Date) -> AlertInstance {
        var resolved = alert
        resolved.phase = .resolved
        resolved.resolvedAt = now
        return resolved
    }

    /// Marks each target with the firing source that inhibits it. The mark stays once set
    /// (see ``InhibitionRule``): the link lasts for the target's incident. Returns the targets
    /// held back this round by a *pending* source only (not marked: if the source drops,
    /// they are told next round).
    @discardableResult
    func applyInhibitions(_ alerts: inout [String: AlertInstance]) -> Set<String> {
        let sources = alerts.values.filter { $0.phase == .firing || $0.phase == .pending }
        var held: Set<String> = []
        for (fingerprint, alert) in alerts where alert.phase != .resolved {
            // A muted source still stands for its own scope and narrower ones (a project-wide
            // spike muted by a storm still mutes its features' spikes), but never for a broader
            // scope: a muted feature-level error surge, held in "no data" for hours by the
            // feature's low volume, hid a later project-wide spend spike (bench/anomaly).
            // An alert of a grouped rule already told is its family's leader: a broader scope of
            // the same rule firing later joins its incident (``applyGrouping``) instead of muting it.
            let leads = alert.notifiedSeverity != nil && groupedRules.contains(alert.key.rule)
            let inhibitors = sources.filter { source in
                (source.inhibitedBy == nil || !alert.key.scope.isBroader(than: source.key.scope))
                    && !(leads && source.key.rule == alert.key.rule)
                    && inhibitions.contains { $0.applies(source: source.key, target: alert.key) }
            }
            if let firing = inhibitors.filter({ $0.phase == .firing }).map(\.fingerprint).min() {
                alerts[fingerprint]?.inhibitedBy = firing
            } else if alert.inhibitedBy == nil && !inhibitors.isEmpty {
                held.insert(fingerprint)
            }
        }
        return held
    }

    /// One message per (project, rule) incident for ``groupedRules``. Among a family's firing
    /// alerts (same project and rule, any scopes), the leader is the one already told, else the
    /// broadest one free to be told this round (fewest labels, then fingerprint); every other
    /// member not told yet is linked to it (`inhibitedBy`) and muted like an inhibited alert:
    /// kept, listed by the API, named in the leader's `inhibits`, silent until it resolves.
    /// So a model whose latency regression fires before its project's, or two models spiking
    /// together, make one firing and one resolved message, not one pair each.
    func applyGrouping(_ alerts: inout [String: AlertInstance], held: Set<String>) {
        struct Family: Hashable { var project: ProjectID, rule: Rule }
        var families: [Family: [AlertInstance]] = [:]
        for alert in alerts.values where alert.phase == .firing && alert.key.instance == nil
            && groupedRules.contains(alert.key.rule) {
            families[Family(project: alert.key.scope.project, rule: alert.key.rule), default: []].append(alert)
        }
        for members in families.values where members.count > 1 {
            let told = members.filter { $0.notifiedSeverity != nil }
            let candidates = told.isEmpty ? members.filter { $0.inhibitedBy == nil && !held.contains($0.fingerprint) } : told
            guard let leader = candidates.min(by: {
                ($0.key.scope.labels.count, $0.fingerprint) < ($1.key.scope.labels.count, $1.fingerprint)
            }) else { continue }
            for member in members where member.fingerprint != leader.fingerprint
                && member.inhibitedBy == nil && member.notifiedSeverity == nil {
                alerts[member.fingerprint]?.inhibitedBy = leader.fingerprint
            }
        }
    }

    private func notification(for alert: AlertInstance, resolvedNow: Set<String>, now: Date) -> NotificationKind? {
        switch alert.phase {
        case .pending:
            return nil
        case .resolved:
            return resolvedNow.contains(alert.fingerprint) && alert.notifiedSeverity != nil ? .resolved : nil
        case .firing:
            guard alert.inhibitedBy == nil else { return nil }
            guard let notified = alert.notifiedSeverity, let last = alert.lastNotifiedAt else { return .firing }
            let policy = policy(for: alert.key.rule)
            if alert.finding.severity > notified,
               alert.finding.value >= policy.escalationValueRatio * (alert.notifiedValue ?? 0) { return .escalated }
            return now.timeIntervalSince(last) >= policy.repeatInterval ? .repeat : nil
        }
    }

    private func rank(_ condition: Condition) -> Int {
        switch condition {
        case .breaching: 3
        case .elevated: 2
        case .clear: 1
        case .noData: 0
        }
    }
}
