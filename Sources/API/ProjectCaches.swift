import Synchronization
import TokenmeterCore

/// Per-project values read from the database and kept for a few seconds, so a change made on any
/// instance applies everywhere soon after without a query per request.
final class ExpiringProjectCache<Value: Sendable>: Sendable {
    private struct Entry { let value: Value; let expires: ContinuousClock.Instant }
    private let ttl: Duration
    private let load: @Sendable (ProjectID) throws -> Value
    private let entries = Mutex<[ProjectID: Entry]>([:])

    init(ttl: Duration, load: @escaping @Sendable (ProjectID) throws -> Value) {
        self.ttl = ttl
        self.load = load
    }

    func value(for project: ProjectID) throws -> Value {
        let now = ContinuousClock.now
        if let hit = entries.withLock({ $0[project] }), hit.expires > now { return hit.value }
        let value = try load(project)
        entries.withLock { entries in
            if entries.count > 100_000 { entries.removeAll() }
            entries[project] = Entry(value: value, expires: now + ttl)
        }
        return value
    }

    func invalidate(_ project: ProjectID) {
        _ = entries.withLock { $0.removeValue(forKey: project) }
    }
}

/// The price book of each project: shipped prices plus the project's overrides.
public final class ProjectPriceBooks: Sendable {
    private let shipped: PriceBook
    private let cache: ExpiringProjectCache<PriceBook>

    public init(shipped: PriceBook, overrides: any PriceOverrideRepository, ttl: Duration = .seconds(5)) {
        self.shipped = shipped
        cache = ExpiringProjectCache(ttl: ttl) { project in
            let projectOverrides = try overrides.overrides(project: project)
            return projectOverrides.isEmpty ? shipped : shipped.overriding(with: projectOverrides)
        }
    }

    public var shippedBook: PriceBook { shipped }

    func book(for project: ProjectID) throws -> PriceBook { try cache.value(for: project) }

    func invalidate(_ project: ProjectID) { cache.invalidate(project) }
}

/// The text policy (storage and redaction) of each project.
public final class ProjectTextPolicies: Sendable {
    private let cache: ExpiringProjectCache<TextPolicy>

    public init(repository: any TextPolicyRepository, ttl: Duration = .seconds(5)) {
        cache = ExpiringProjectCache(ttl: ttl) { try repository.textPolicy(project: $0) }
    }

    func policy(for project: ProjectID) throws -> TextPolicy { try cache.value(for: project) }
}
