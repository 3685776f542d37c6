/// A tenant. Every stored row and every query is scoped by one project.
public struct ProjectID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
}

/// What a key may do: ingest keys only write events, read keys only query.
public enum KeyKind: String, Sendable, Hashable, CaseIterable {
    case ingest
    case read
}

/// The identity behind a valid API key.
public struct Principal: Sendable, Hashable {
    public var project: ProjectID
    public var projectName: String
    public var kind: KeyKind
    public init(project: ProjectID, projectName: String, kind: KeyKind) {
        self.project = project
        self.projectName = projectName
        self.kind = kind
    }
}
