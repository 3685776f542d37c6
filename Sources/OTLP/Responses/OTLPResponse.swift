import JSON

/// The two OTLP/HTTP body encodings. A response is always in the request's encoding.
public enum OTLPEncoding: Sendable, Hashable {
    case protobuf
    case json

    /// From a `Content-Type` value; nil for anything else (415).
    public init?(contentType: String?) {
        guard let contentType else { return nil }
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch media {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    public var contentType: String {
        switch self {
        case .protobuf: return "application/x-protobuf"
        case .json: return "application/json"
        }
    }
}

/// Which export service answers: the partial-success count is named per signal.
public enum OTLPSignal: Sendable, Hashable {
    case traces
    case logs

    var rejectedFieldJSONName: String {
        switch self {
        case .traces: return "rejectedSpans"
        case .logs: return "rejectedLogRecords"
        }
    }
}

/// `Export{Trace,Logs}ServiceResponse`: empty on full success; `partial_success { rejected_…,
/// error_message }` when some items were rejected (or the server has a warning to pass on).
public struct OTLPExportResponse: Sendable, Hashable {
    public var signal: OTLPSignal
    public var rejected: Int64
    public var errorMessage: String

    public init(signal: OTLPSignal, rejected: Int64 = 0, errorMessage: String = "") {
        self.signal = signal
        self.rejected = rejected
        self.errorMessage = errorMessage
    }

    private var isPartial: Bool { rejected != 0 || !errorMessage.isEmpty }

    public func encoded(_ encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .protobuf:
            guard isPartial else { return [] }
            var writer = ProtobufWriter()
            writer.message(1) { partial in
                if rejected != 0 { partial.int(1, rejected) }
                if !errorMessage.isEmpty { partial.string(2, errorMessage) }
            }
            return writer.bytes
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            if isPartial {
                writer.key("partialSuccess")
                writer.beginObject()
                // proto3 JSON writes int64 as a decimal string.
                if rejected != 0 { writer.key(signal.rejectedFieldJSONName); writer.string(String(rejected)) }
                if !errorMessage.isEmpty { writer.key("errorMessage"); writer.string(errorMessage) }
                writer.endObject()
            }
            writer.endObject()
            return writer.bytes
        }
    }
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error response.
public struct OTLPStatus: Sendable, Hashable {
    /// gRPC status codes used here.
    public static let invalidArgument: Int32 = 3
    public static let resourceExhausted: Int32 = 8
    public static let unauthenticated: Int32 = 16
    public static let permissionDenied: Int32 = 7
    public static let unavailable: Int32 = 14
    public static let `internal`: Int32 = 13
    public static let unimplemented: Int32 = 12

    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public func encoded(_ encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .protobuf:
            var writer = ProtobufWriter()
            if code != 0 { writer.int(1, Int64(code)) }
            if !message.isEmpty { writer.string(2, message) }
            return writer.bytes
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("code"); writer.int(Int64(code))
            writer.key("message"); writer.string(message)
            writer.endObject()
            return writer.bytes
        }
    }

    /// The gRPC code that matches an HTTP status (per the gRPC HTTP mapping).
    public static func code(forHTTPStatus status: Int) -> Int32 {
        switch status {
        case 400, 413, 415: return invalidArgument
        case 401: return unauthenticated
        case 403: return permissionDenied
        case 429: return resourceExhausted
        case 502, 503, 504: return unavailable
        case 404, 405: return unimplemented
        default: return `internal`
        }
    }
}
