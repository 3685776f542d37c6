import Foundation

/// Where an incident is in its life. There is no "inactive" value: an inactive key simply has
/// no instance.
public enum AlertPhase: String, Sendable, Hashable {
    /// Breaching, but not yet for the finding's `pendingFor`.
    case pending
    /// Notified (or held back by inhibition); stays firing while recovering.
    case firing
    /// Over. Returned once, in the step that resolves it, for the store to archive.
    case resolved
}

/// One incident of one fingerprint, carried from one evaluation to the next.
public struct AlertInstance: Sendable, Hashable {
    public var key: AlertKey
    public var phase: AlertPhase
    /// The latest breaching finding (what notifications show).
    public var finding: Finding
    /// The largest value seen during the incident.
    public var peakValue: Double
    /// First breach of this incident.
    public var pendingSince: Date
    public var firingSince: Date?
    public var resolvedAt: Date?
    /// Firing and clear since then (Grafana's "recovering"); nil while breaching or elevated.
    public var clearSince: Date?
    /// The last evaluation that mentioned this key with any condition.
    public var lastEvaluated: Date
    /// The highest severity notified so far; nil when no firing notification went out yet.
    public var notifiedSeverity: Severity?
    /// The finding's value at the last firing, repeat or escalation notification.
    public var notifiedValue: Double?
    public var lastNotifiedAt: Date?
    /// The fingerprint of the firing alert that inhibited this one: it is not notified (for the
    /// rest of its incident, even after the cause resolves), but linked, so the cause's
    /// notification and history can show it.
    public var inhibitedBy: String?

    public var fingerprint: String { key.fingerprint }

    /// A new incident, pending from `now`.
    init(finding: Finding, now: Date) {
        self.init(key: finding.key, phase: .pending, finding: finding, peakValue: finding.value,
                  pendingSince: now, lastEvaluated: now)
    }

    /// Every field, for the store to load instances back.
    public init(key: AlertKey, phase: AlertPhase, finding: Finding, peakValue: Double, pendingSince: Date,
                firingSince: Date? = nil, resolvedAt: Date? = nil, clearSince: Date? = nil, lastEvaluated: Date,
                notifiedSeverity: Severity? = nil, notifiedValue: Double? = nil, lastNotifiedAt: Date? = nil,
                inhibitedBy: String? = nil) {
        self.key = key
        self.phase = phase
        self.finding = finding
        self.peakValue = peakValue
        self.pendingSince = pendingSince
        self.firingSince = firingSince
        self.resolvedAt = resolvedAt
        self.clearSince = clearSince
        self.lastEvaluated = lastEvaluated
        self.notifiedSeverity = notifiedSeverity
        self.notifiedValue = notifiedValue
        self.lastNotifiedAt = lastNotifiedAt
        self.inhibitedBy = inhibitedBy
    }
}

/// What the delivery side must send.
public enum NotificationKind: String, Sendable, Hashable {
    case firing
    /// Still firing, `repeatInterval` after the last notification.
    case `repeat`
    /// Still firing at a higher severity than ever notified and a value grown by the policy's
    /// `escalationValueRatio`: re-notified at once.
    case escalated
    /// Sent only for incidents whose firing was notified.
    case resolved
}

public struct AlertNotification: Sendable, Hashable {
    public var kind: NotificationKind
    /// The instance as it is after this step.
    public var alert: AlertInstance
    /// Fingerprints of the alerts this one inhibits (a retry storm lists the spend spike it
    /// caused; a feature-wide runaway alert its traces, including any announced before it
    /// fired), so the message can say so.
    public var inhibits: [String]
}
