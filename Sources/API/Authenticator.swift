import Foundation
import Synchronization
import TokenmeterCore
import HTTP

/// Resolves `Authorization: Bearer <key>` to a principal. Lookups are cached by key hash for a few
/// seconds (a revoked key stops working within `ttl` on every instance); unknown keys are cached
/// too, and an address that keeps failing is refused with 429 before any lookup (`AuthFailureLimiter`).
public final class Authenticator: Sendable {
    private struct Entry { let principal: Principal?; let expires: ContinuousClock.Instant }
    private let keys: any KeyRepository
    private let ttl: Duration
    private let cache = Mutex<[String: Entry]>([:])
    private let failures: AuthFailureLimiter

    public init(keys: any KeyRepository, ttl: Duration = .seconds(5), failures: AuthFailureLimiter = AuthFailureLimiter(limit: 30)) {
        self.keys = keys
        self.ttl = ttl
        self.failures = failures
    }

    /// The key a request presents: `Authorization: Bearer <key>`, or HTTP Basic credentials whose
    /// password is the key (the user name is ignored). Basic is there because the Langfuse SDK
    /// exports with `Basic base64(public key:secret key)` and no way to change the scheme, so its
    /// users put the ingest key in `LANGFUSE_SECRET_KEY`. Nil when absent or of another scheme.
    static func bearerToken(_ request: HTTPRequest) -> String? {
        guard let header = request.headers["Authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let credentials = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer": return credentials
        case "basic": return basicPassword(credentials)
        default: return nil
        }
    }

    /// The password of Basic credentials (`base64(user:password)`), nil when they do not decode.
    static func basicPassword(_ credentials: String) -> String? {
        guard credentials.utf8.count <= 1024, let data = Data(base64Encoded: credentials),
              let decoded = String(data: data, encoding: .utf8), let colon = decoded.firstIndex(of: ":") else { return nil }
        return String(decoded[decoded.index(after: colon)...])
    }

    /// Blocking (may query the database). Throws `APIError` 401/403 or a storage error.
    func authenticate(_ request: HTTPRequest, requiring kind: KeyKind) throws -> Principal {
        let now = ContinuousClock.now
        guard let token = Authenticator.bearerToken(request), APIKey.isWellFormed(token) else {
            throw refusal(request.remoteAddress, now: now)
        }
        let hash = APIKey.hash(token)
        let principal: Principal?
        let cached = cache.withLock { $0[hash] }
        if let cached, cached.expires > now {
            principal = cached.principal
        } else {
            // A blocked address may still refresh a key that was valid when last seen.
            if cached?.principal == nil, let wait = failures.blockedFor(request.remoteAddress, now: now) {
                throw APIError.tooManyAuthFailures(retryAfter: wait)
            }
            principal = try keys.principal(keyHash: hash)
            cache.withLock { cache in
                if cache.count > 100_000 { cache.removeAll() }
                cache[hash] = Entry(principal: principal, expires: now + ttl)
            }
        }
        guard let principal else { throw refusal(request.remoteAddress, now: now) }
        guard principal.kind == kind else {
            throw APIError.forbidden(kind == .ingest ? "this endpoint needs an ingest key; a read key was sent" : "this endpoint needs a read key; an ingest key was sent")
        }
        return principal
    }

    /// The admin token from configuration, compared in constant time; failures count like bad keys.
    func authenticateAdmin(_ request: HTTPRequest, token: String) throws {
        let now = ContinuousClock.now
        if let wait = failures.blockedFor(request.remoteAddress, now: now) { throw APIError.tooManyAuthFailures(retryAfter: wait) }
        guard let presented = Authenticator.bearerToken(request), Authenticator.constantTimeEqual(presented, token) else {
            throw refusal(request.remoteAddress, now: now)
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0 && x.count == y.count
    }

    /// The 401 for a missing, malformed or unknown key (the same answer for all three, so it never
    /// tells whether a project or key exists), counted against the client's address.
    private func refusal(_ address: String, now: ContinuousClock.Instant) -> APIError {
        if let wait = failures.blockedFor(address, now: now) { return APIError.tooManyAuthFailures(retryAfter: wait) }
        failures.recordFailure(address, now: now)
        return APIError.unauthorized
    }
}
