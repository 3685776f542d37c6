/// Why one event of a batch was not accepted. `field` names the offending field (nil: the whole event).
public struct Rejection: Sendable, Hashable, Error {
    public var index: Int
    public var field: String?
    public var error: String

    public init(index: Int, field: String?, error: String) {
        self.index = index
        self.field = field
        self.error = error
    }
}

/// A body that cannot be read as events at all.
public enum BodyError: Error, Sendable, Hashable {
    /// Not JSON (or NDJSON with no parsable line): 400.
    case invalidJSON(String)
    /// JSON, but not an event, an array of events or `{"events": [...]}`: 400.
    case invalidShape(String)
    /// More events than `IngestLimits.maxEventsPerRequest`: 413.
    case tooManyEvents(Int)
    /// A Content-Type that is neither JSON nor NDJSON: 415.
    case unsupportedContentType(String)
}
