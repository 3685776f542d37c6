import Foundation

public struct RunawayFeatureParameters: Sendable, Hashable {
    /// This many runaway traces of one feature firing within `window` make a feature alert.
    public var minimumTraces = 3
    public var window: TimeInterval = 15 * 60

    public init() {}
}

/// Runaway traces grouped by feature: a broken prompt or deploy makes every trace of a
/// feature loop, and one alert per trace would bury the channel. Judged over the alert
/// instances of the previous step (it aggregates alerts, not series); the per-trace alerts
/// that follow are inhibited by it and linked to it (``InhibitionRule/defaults``).
public enum RunawayFeature {
    public static func evaluate(_ alerts: [AlertInstance], parameters p: RunawayFeatureParameters = .init(),
                                now: Date) -> [Evaluation] {
        var recentByScope: [Scope: [AlertInstance]] = [:]
        for alert in alerts where alert.key.rule == .runawayTrace {
            var scope = alert.key.scope
            scope.labels["trace_id"] = nil
            let recent = alert.phase == .firing && alert.firingSince.map { now.timeIntervalSince($0) < p.window } == true
            recentByScope[scope, default: []] += recent ? [alert] : []
        }
        return recentByScope.sorted { $0.key.description < $1.key.description }.map { scope, recent in
            let key = AlertKey(rule: .runawayFeature, scope: scope)
            guard recent.count >= p.minimumTraces else { return Evaluation(key: key, condition: .clear) }
            let traces = recent.compactMap(\.key.instance).sorted()
            let finding = Finding(
                key: key, severity: .critical, unit: .count, value: Double(recent.count), baseline: nil,
                threshold: Double(p.minimumTraces),
                summary: "\(recent.count) runaway traces in \(Int(p.window / 60)) min in \(scope): "
                    + traces.prefix(5).joined(separator: ", ") + (traces.count > 5 ? ", …" : ""),
                annotations: ["traces": String(recent.count), "trace_ids": traces.joined(separator: ",")],
                pendingFor: 0)
            return Evaluation(key: key, condition: .breaching(finding))
        }
    }
}
