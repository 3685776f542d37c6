import Foundation
import TokenmeterCore

/// A stored incident as the API lists it: the instance plus its row id.
public struct StoredAlert: Sendable, Hashable {
    public var id: Int64
    public var alert: AlertInstance

    public init(id: Int64, alert: AlertInstance) {
        self.id = id
        self.alert = alert
    }
}

/// Which incidents `GET /v1/alerts` wants.
public struct AlertListQuery: Sendable, Hashable {
    public var project: ProjectID
    public var states: Set<AlertPhase>
    /// Incidents overlapping [from, to): started before `to`, not resolved before `from`.
    public var range: TimeRange?
    public var limit: Int

    public init(project: ProjectID, states: Set<AlertPhase>, range: TimeRange?, limit: Int) {
        self.project = project
        self.states = states
        self.range = range
        self.limit = limit
    }
}

/// A setting refused by a repository (the API answers 400 naming `field`; `reason` never echoes
/// the value, which may be a secret).
public struct InvalidAlertSetting: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// Rules, budgets and incidents of a project: what the alert routes read and write.
public protocol AlertRepository: Sendable {
    /// The project's id by name (the admin token names projects), nil when absent.
    func project(named name: String) throws -> ProjectID?
    func ruleOverrides(project: ProjectID) throws -> [Rule: RuleOverride]
    /// Replaces the project's override of `rule`; an empty override removes it.
    func setRuleOverride(_ override: RuleOverride, rule: Rule, project: ProjectID) throws
    func budgets(project: ProjectID) throws -> [Budget]
    func budget(id: String, project: ProjectID) throws -> Budget?
    /// Creates or replaces; true when it was created.
    func putBudget(_ budget: Budget) throws -> Bool
    /// False when there was no such budget.
    func deleteBudget(id: String, project: ProjectID) throws -> Bool
    /// Spend against `budget` up to `now` (period so far and the burn-rate windows), exact.
    func usage(of budget: Budget, now: Date) throws -> BudgetUsage
    func alerts(_ query: AlertListQuery) throws -> [StoredAlert]
}

/// A project's notification destinations as the API shows them: the secret never in full.
public struct DestinationSettings: Sendable, Hashable {
    public var webhookURL: String?
    public var slackURL: String?
    public var hasHMACSecret: Bool
    public var updatedAt: Date?

    public init(webhookURL: String?, slackURL: String?, hasHMACSecret: Bool, updatedAt: Date?) {
        self.webhookURL = webhookURL
        self.slackURL = slackURL
        self.hasHMACSecret = hasHMACSecret
        self.updatedAt = updatedAt
    }
}

/// A notification given up on, as the API lists it (no URL, no body).
public struct DeadLetterRecord: Sendable, Hashable {
    public var id: String
    public var fingerprint: String
    public var kind: String
    public var destination: String
    public var attempts: Int
    public var lastStatus: Int?
    public var lastError: String?
    public var createdAt: Date
    public var deadAt: Date

    public init(id: String, fingerprint: String, kind: String, destination: String, attempts: Int, lastStatus: Int?,
                lastError: String?, createdAt: Date, deadAt: Date) {
        self.id = id
        self.fingerprint = fingerprint
        self.kind = kind
        self.destination = destination
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.createdAt = createdAt
        self.deadAt = deadAt
    }
}

/// Where notifications go and what could not be delivered.
public protocol AlertDestinationRepository: Sendable {
    func destinations(project: ProjectID) throws -> DestinationSettings?
    /// Validates (throws ``InvalidAlertSetting``) and replaces the project's destinations.
    func setDestinations(webhookURL: String?, slackURL: String?, hmacSecret: String?, project: ProjectID) throws
    func deadLetters(project: ProjectID, limit: Int) throws -> [DeadLetterRecord]
}
