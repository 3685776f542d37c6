import TokenmeterCore

/// The identity of one alert instance: project, rule and scope labels, plus an optional
/// one-shot part for rules whose incidents are bounded by something other than time (a trace
/// id, a budget period). Two findings with the same key are the same incident.
public struct AlertKey: Sendable, Hashable, CustomStringConvertible {
    public var rule: Rule
    public var scope: Scope
    /// `trace_id`, a budget's period start…; nil for rules keyed by scope alone.
    public var instance: String?

    public init(rule: Rule, scope: Scope, instance: String? = nil) {
        self.rule = rule
        self.scope = scope
        self.instance = instance
    }

    /// The canonical text the fingerprint hashes: rule, project, labels sorted by name,
    /// instance, separated by U+001F (a byte no label value may contain after ingest
    /// validation rejects control characters), so `a=b,c` and `a=b` + `c=…` cannot collide.
    public var canonical: String {
        var parts = ["rule=\(rule.rawValue)", "project=\(scope.project)"]
        parts += scope.sortedLabels.map { "\($0.name)=\($0.value)" }
        if let instance { parts.append("instance=\(instance)") }
        return parts.joined(separator: "\u{1F}")
    }

    /// 16 hex digits of SHA-256 over ``canonical``: stable across processes, instances and
    /// releases (Swift's `Hasher` is seeded per process, so it cannot serve), short enough for
    /// a unique index and an Alertmanager `fingerprint`.
    public var fingerprint: String {
        String(SHA256.hex(Array(canonical.utf8)).prefix(16))
    }

    public var description: String {
        "\(rule.rawValue) \(scope)" + (instance.map { " [\($0)]" } ?? "")
    }
}
