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
    func usage(_ query: UsageQuery) throws -> [UsageRow]
    /// Every event of the request and of its descendants (by `parent_request_id`); empty when unknown.
    func requestTree(project: ProjectID, requestID: String) throws -> [Event]
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
