/// `opentelemetry.proto.common.v1.AnyValue`. An unset oneof is `.empty`.
public enum OTLPValue: Sendable, Hashable {
    case empty
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([OTLPValue])
    case kvlist([OTLPAttribute])
}

/// `KeyValue`: one attribute.
public struct OTLPAttribute: Sendable, Hashable {
    public var key: String
    public var value: OTLPValue

    public init(_ key: String, _ value: OTLPValue) {
        self.key = key
        self.value = value
    }
}

/// `InstrumentationScope` without its attributes (nothing maps from them).
public struct OTLPScope: Sendable, Hashable {
    public var name: String
    public var version: String

    public init(name: String = "", version: String = "") {
        self.name = name
        self.version = version
    }
}

/// `Span.Event`.
public struct OTLPSpanEvent: Sendable, Hashable {
    public var timeUnixNano: UInt64
    public var name: String
    public var attributes: [OTLPAttribute]

    public init(timeUnixNano: UInt64 = 0, name: String = "", attributes: [OTLPAttribute] = []) {
        self.timeUnixNano = timeUnixNano
        self.name = name
        self.attributes = attributes
    }
}

/// `Span`, as far as Tokenmeter uses it. Ids of the wrong length are kept as nil and named in
/// `invalid` so the span is rejected (with a reason) rather than the whole request.
public struct OTLPSpan: Sendable, Hashable {
    public enum Kind: Int64, Sendable {
        case unspecified = 0, `internal` = 1, server = 2, client = 3, producer = 4, consumer = 5
    }
    public enum StatusCode: Int64, Sendable {
        case unset = 0, ok = 1, error = 2
    }

    public var traceID: TraceID?
    public var spanID: SpanID?
    public var parentSpanID: SpanID?
    public var name: String = ""
    /// The raw enum value (unknown values are kept, and read as unspecified).
    public var kind: Int64 = 0
    public var startTimeUnixNano: UInt64 = 0
    public var endTimeUnixNano: UInt64 = 0
    public var attributes: [OTLPAttribute] = []
    public var events: [OTLPSpanEvent] = []
    public var statusCode: Int64 = 0
    public var statusMessage: String = ""
    public var flags: UInt32 = 0
    /// Attributes beyond the decoder's per-span budget (dropped) plus the sender's own count.
    public var droppedAttributes: Int = 0
    /// The first structural problem found (wrong id length), nil when the span is well formed.
    public var invalid: String?

    public init() {}

    public var spanKind: Kind { Kind(rawValue: kind) ?? .unspecified }
    public var status: StatusCode { StatusCode(rawValue: statusCode) ?? .unset }

    /// W3C flags bits 8 and 9: whether the parent is known to be in another process.
    public var parentIsRemote: Bool? {
        guard flags & 0x100 != 0 else { return nil }
        return flags & 0x200 != 0
    }
}

public struct OTLPScopeSpans: Sendable, Hashable {
    public var scope: OTLPScope
    public var spans: [OTLPSpan]

    public init(scope: OTLPScope = OTLPScope(), spans: [OTLPSpan] = []) {
        self.scope = scope
        self.spans = spans
    }
}

public struct OTLPResourceSpans: Sendable, Hashable {
    public var resource: [OTLPAttribute]
    public var scopeSpans: [OTLPScopeSpans]

    public init(resource: [OTLPAttribute] = [], scopeSpans: [OTLPScopeSpans] = []) {
        self.resource = resource
        self.scopeSpans = scopeSpans
    }
}

/// `ExportTraceServiceRequest`.
public struct OTLPTraceRequest: Sendable, Hashable {
    public var resourceSpans: [OTLPResourceSpans]

    public init(resourceSpans: [OTLPResourceSpans] = []) {
        self.resourceSpans = resourceSpans
    }

    public var spanCount: Int { resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } } }
}

/// `LogRecord`.
public struct OTLPLogRecord: Sendable, Hashable {
    public var timeUnixNano: UInt64 = 0
    public var observedTimeUnixNano: UInt64 = 0
    public var severityNumber: Int64 = 0
    public var severityText: String = ""
    public var body: OTLPValue = .empty
    public var attributes: [OTLPAttribute] = []
    public var traceID: TraceID?
    public var spanID: SpanID?
    public var eventName: String = ""
    public var droppedAttributes: Int = 0
    public var invalid: String?

    public init() {}
}

public struct OTLPScopeLogs: Sendable, Hashable {
    public var scope: OTLPScope
    public var logRecords: [OTLPLogRecord]

    public init(scope: OTLPScope = OTLPScope(), logRecords: [OTLPLogRecord] = []) {
        self.scope = scope
        self.logRecords = logRecords
    }
}

public struct OTLPResourceLogs: Sendable, Hashable {
    public var resource: [OTLPAttribute]
    public var scopeLogs: [OTLPScopeLogs]

    public init(resource: [OTLPAttribute] = [], scopeLogs: [OTLPScopeLogs] = []) {
        self.resource = resource
        self.scopeLogs = scopeLogs
    }
}

/// `ExportLogsServiceRequest`.
public struct OTLPLogsRequest: Sendable, Hashable {
    public var resourceLogs: [OTLPResourceLogs]

    public init(resourceLogs: [OTLPResourceLogs] = []) {
        self.resourceLogs = resourceLogs
    }

    public var recordCount: Int { resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } } }
}

/// Bounds on what one request may make the decoders build, so memory stays proportional to what
/// is useful whatever the input says. Past a count limit the request is refused (413); past an
/// attribute budget further attributes are dropped and counted.
public struct OTLPDecodingLimits: Sendable {
    /// Spans (or log records) per request; more is refused.
    public var maxItems = 100_000
    /// Attributes kept per span, event, record or resource (the OTel SDK default is 128).
    public var maxAttributesPerItem = 1_024
    /// Attributes kept in the whole request, nested values included.
    public var maxAttributesPerRequest = 2_000_000
    /// Span events kept per span (only the first-token and exception events are used).
    public var maxEventsPerSpan = 256
    /// Nesting of messages, AnyValue arrays and kvlists included.
    public var maxDepth = 32

    public init() {}
}

/// A body that is not an OTLP request at all (400), or one too big to take (413).
public enum OTLPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case tooManyItems(Int, limit: Int)

    public var description: String {
        switch self {
        case .malformed(let message): return message
        case .tooManyItems(let count, let limit): return "\(count) items in one request; at most \(limit)"
        }
    }
}
