import Foundation

/// What may be shown about a stored API key: never the key, only its id (the first 12 hex digits of
/// its SHA-256, enough to name it in `keys revoke`), its visible prefix and its life.
public struct KeyRecord: Sendable, Hashable {
    public static let idLength = 12

    public var id: String
    public var project: String
    public var kind: KeyKind
    public var prefix: String
    public var createdAt: Date
    /// When the key stops (or stopped) working; nil while it has no end.
    public var revokedAt: Date?

    public init(id: String, project: String, kind: KeyKind, prefix: String, createdAt: Date, revokedAt: Date?) {
        self.id = id
        self.project = project
        self.kind = kind
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    public func isActive(at now: Date) -> Bool {
        revokedAt.map { $0 > now } ?? true
    }
}
