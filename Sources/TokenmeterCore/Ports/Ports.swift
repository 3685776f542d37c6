import Foundation

/// Why the storage side could not do what was asked. `unavailable` is transient (database down,
/// overloaded, restarting): callers answer 503 with Retry-After and clients retry.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    case unavailable(String)
    case failed(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return "storage unavailable: \(reason)"
        case .failed(let reason): return "storage failure: \(reason)"
        }
    }
}

/// An event on its way to storage, tagged with its project.
public struct ProjectEvent: Sendable {
    public var project: ProjectID
    public var event: Event
    public init(project: ProjectID, event: Event) {
        self.project = project
        self.event = event
    }
}

/// The write path. `write` returns when the batch is committed (durable) and reports how many events
/// were new; events already stored (same project and event id) are skipped, never counted twice.
public protocol EventWriter: Sendable {
    func write(_ batch: [ProjectEvent]) throws -> Int
}

/// The read path for aggregated usage and single request trees.
public protocol UsageReader: Sendable {
    /// Aggregated usage; with `includeCache` the rows also carry the cache-savings figures.
    func usage(_ query: UsageQuery, includeCache: Bool) throws -> [UsageRow]
    /// Every event of the request and of its descendants (by `parent_request_id`); empty when unknown.
    func requestTree(project: ProjectID, requestID: String) throws -> [Event]
    /// Latency (or TTFT) sketches per bucket and group; only feature, model, provider and environment
    /// may be grouped by (other filters are answered from raw events).
    func latency(_ query: UsageQuery, metric: LatencyMetric) throws -> [LatencyRow]
    /// Recent events, newest first, after the keyset cursor.
    func recentEvents(_ query: RecentEventsQuery) throws -> [Event]
}

extension UsageReader {
    public func usage(_ query: UsageQuery) throws -> [UsageRow] { try usage(query, includeCache: false) }
}

/// `GET /v1/requests`: filters plus a keyset cursor (timestamp, event id) of the last row seen.
public struct RecentEventsQuery: Sendable, Hashable {
    public var project: ProjectID
    public var range: TimeRange
    public var filters: [UsageDimension: String]
    public var sessionID: String?
    public var minCost: Money?
    public var minLatencyMs: Double?
    /// Keyset cursor: the last row seen, as (timestamp in µs since the epoch, event id).
    public var after: (micros: Int64, eventID: UUID)?
    public var limit: Int

    public init(project: ProjectID, range: TimeRange, filters: [UsageDimension: String] = [:], sessionID: String? = nil,
                minCost: Money? = nil, minLatencyMs: Double? = nil, after: (micros: Int64, eventID: UUID)? = nil, limit: Int = 50) {
        self.project = project
        self.range = range
        self.filters = filters
        self.sessionID = sessionID
        self.minCost = minCost
        self.minLatencyMs = minLatencyMs
        self.after = after
        self.limit = limit
    }

    public static func == (a: RecentEventsQuery, b: RecentEventsQuery) -> Bool {
        a.project == b.project && a.range == b.range && a.filters == b.filters && a.sessionID == b.sessionID && a.minCost == b.minCost
            && a.minLatencyMs == b.minLatencyMs && a.after?.micros == b.after?.micros && a.after?.eventID == b.after?.eventID && a.limit == b.limit
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(project); hasher.combine(range); hasher.combine(after?.eventID); hasher.combine(limit)
    }
}

/// API keys and projects.
public protocol KeyRepository: Sendable {
    /// The principal for a key hash, nil when unknown or revoked.
    func principal(keyHash: String) throws -> Principal?
}

/// Per-project model prices that win over the shipped table.
public protocol PriceOverrideRepository: Sendable {
    func overrides(project: ProjectID) throws -> [ModelPrice]
    func upsertOverride(project: ProjectID, price: ModelPrice) throws
}

/// Per-project privacy settings (`TextPolicy`); a project never configured gets `.standard`.
public protocol TextPolicyRepository: Sendable {
    func textPolicy(project: ProjectID) throws -> TextPolicy
}

/// Key management for administrators (the CLI and the admin API).
public protocol KeyAdministration: Sendable {
    func createKey(projectNamed name: String, kind: KeyKind) throws -> (key: String, record: KeyRecord)
    func listKeys(project: String?) throws -> [KeyRecord]
    /// Fails with `KeyAdministrationError` when no key, or more than one, has an id starting with `id`.
    func revokeKey(id: String, after grace: Duration) throws -> KeyRecord
    func rotateKeys(project: String, kind: KeyKind, after grace: Duration) throws -> (key: String, revoked: [KeyRecord])
}

public enum KeyAdministrationError: Error, Equatable, CustomStringConvertible {
    case noSuchKey(String)
    case ambiguous(String, matches: Int)
    case noSuchProject(String)

    public var description: String {
        switch self {
        case .noSuchKey(let id): return "no key has the id \"\(id)\" (see tokenmeter keys list)"
        case .ambiguous(let id, let n): return "\(n) keys have ids starting with \"\(id)\"; give more of the id"
        case .noSuchProject(let name): return "there is no project \"\(name)\""
        }
    }
}

/// Per-project raw-event retention for administrators (the rollups keep the server's retention).
public protocol RetentionAdministration: Sendable {
    /// The project's raw retention in days, `.some(nil)` when it follows the server's; nil when there
    /// is no such project.
    func rawRetentionDays(projectNamed name: String) throws -> Int??
    /// Sets the project's raw retention (nil: back to the server's); false when there is no such project.
    func setRawRetentionDays(projectNamed name: String, days: Int?) throws -> Bool
}

/// Per-project privacy settings for administrators.
public protocol TextPolicyAdministration: Sendable {
    /// Sets what is given (nil keeps the current value); nil when there is no such project.
    func update(projectNamed name: String, storeText: Bool?, redact: Set<RedactionKind>?) throws -> TextPolicy?
}
