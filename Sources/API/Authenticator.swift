import Foundation
import Synchronization
import TokenmeterCore
import HTTP

/// Resolves `Authorization: Bearer <key>` to a principal. Lookups are cached by key hash for a few
/// seconds (a revoked key stops working within `ttl` on every instance); unknown keys are cached
/// too, so a flood of bad keys does not become a flood of queries.
public final class Authenticator: Sendable {
    private struct Entry { let principal: Principal?; let expires: ContinuousClock.Instant }
    private let keys: any KeyRepository
    private let ttl: Duration
    private let cache = Mutex<[String: Entry]>([:])

    public init(keys: any KeyRepository, ttl: Duration = .seconds(5)) {
        self.keys = keys
        self.ttl = ttl
    }

    /// The bearer token of a request, nil when absent or not of the Bearer scheme.
    static func bearerToken(_ request: HTTPRequest) -> String? {
        guard let header = request.headers["Authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// Blocking (may query the database). Throws `APIError` 401/403 or a storage error.
    func authenticate(_ request: HTTPRequest, requiring kind: KeyKind) throws -> Principal {
        guard let token = Authenticator.bearerToken(request), APIKey.isWellFormed(token) else { throw APIError.unauthorized }
        let hash = APIKey.hash(token)
        let now = ContinuousClock.now
        let principal: Principal?
        if let hit = cache.withLock({ $0[hash] }), hit.expires > now {
            principal = hit.principal
        } else {
            principal = try keys.principal(keyHash: hash)
            cache.withLock { cache in
                if cache.count > 100_000 { cache.removeAll() }
                cache[hash] = Entry(principal: principal, expires: now + ttl)
            }
        }
        guard let principal else { throw APIError.unauthorized }
        guard principal.kind == kind else {
            throw APIError.forbidden(kind == .ingest ? "this endpoint needs an ingest key; a read key was sent" : "this endpoint needs a read key; an ingest key was sent")
        }
        return principal
    }
}

/// The price book of each project: shipped prices plus the project's overrides, refreshed every few
/// seconds so an override made on any instance applies everywhere soon after.
public final class ProjectPriceBooks: Sendable {
    private struct Entry { let book: PriceBook; let expires: ContinuousClock.Instant }
    private let shipped: PriceBook
    private let overrides: any PriceOverrideRepository
    private let ttl: Duration
    private let cache = Mutex<[ProjectID: Entry]>([:])

    public init(shipped: PriceBook, overrides: any PriceOverrideRepository, ttl: Duration = .seconds(5)) {
        self.shipped = shipped
        self.overrides = overrides
        self.ttl = ttl
    }

    public var shippedBook: PriceBook { shipped }

    func book(for project: ProjectID) throws -> PriceBook {
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[project] }), hit.expires > now { return hit.book }
        let projectOverrides = try overrides.overrides(project: project)
        let book = projectOverrides.isEmpty ? shipped : shipped.overriding(with: projectOverrides)
        cache.withLock { $0[project] = Entry(book: book, expires: now + ttl) }
        return book
    }

    func invalidate(_ project: ProjectID) {
        _ = cache.withLock { $0.removeValue(forKey: project) }
    }
}
