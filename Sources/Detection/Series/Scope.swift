import TokenmeterCore

/// Where a series, finding or alert applies: a project plus the labels that narrow it
/// (`feature`, `model`, `provider`, `environment`, `user_id`, `trace_id`, `budget_id`).
/// An empty label set is the whole project.
public struct Scope: Sendable, Hashable, CustomStringConvertible {
    public var project: ProjectID
    /// Label name → value. Order does not matter: every rendering sorts by name.
    public var labels: [String: String]

    public init(project: ProjectID, labels: [String: String] = [:]) {
        self.project = project
        self.labels = labels
    }

    /// The labels sorted by name, the one order used for fingerprints and text.
    public var sortedLabels: [(name: String, value: String)] {
        labels.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// `project=7 feature=chat model=gpt-4o`.
    public var description: String {
        (["project=\(project)"] + sortedLabels.map { "\($0.name)=\($0.value)" }).joined(separator: " ")
    }

    /// This scope with one more label.
    public func adding(_ name: String, _ value: String) -> Scope {
        var copy = self
        copy.labels[name] = value
        return copy
    }

    /// True when one scope narrows the other (same project, and one label set contains the
    /// other with equal values): a retry storm on `model=a` and a spend spike on the whole
    /// project are nested; `model=a` and `feature=f` are not, nor are `model=a` and `model=b`.
    public func isNested(with other: Scope) -> Bool {
        guard project == other.project else { return false }
        func contains(_ big: [String: String], _ small: [String: String]) -> Bool {
            small.allSatisfy { big[$0.key] == $0.value }
        }
        return contains(labels, other.labels) || contains(other.labels, labels)
    }

    /// True when this scope narrows `other` strictly: same project, and every label of
    /// `other` is here with the same value, plus at least one more (`feature=chat` narrows the
    /// project; `feature=chat` does not narrow `model=a`, nor itself).
    public func isNarrower(than other: Scope) -> Bool {
        project == other.project && labels.count > other.labels.count
            && other.labels.allSatisfy { labels[$0.key] == $0.value }
    }

    /// True when `other` narrows this scope strictly (see ``isNarrower(than:)``).
    public func isBroader(than other: Scope) -> Bool { other.isNarrower(than: self) }
}
