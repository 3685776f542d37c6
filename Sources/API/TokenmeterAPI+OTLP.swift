import Foundation
import HTTP
import Ingest
import OTLP
import TokenmeterCore

/// What the OTLP/HTTP receiver needs beyond the native ingest path, injected by the composition root.
public struct OTLPDependencies: Sendable {
    public var protobuf: OTLPProtobufDecoder
    public var json: OTLPJSONDecoder
    public var spans: SpanMapper
    public var logs: LogTextMapper
    public var spanTexts: any SpanTextStore

    public init(options: OTLPMappingOptions, decodingLimits: OTLPDecodingLimits = OTLPDecodingLimits(), spanTexts: any SpanTextStore) {
        self.protobuf = OTLPProtobufDecoder(limits: decodingLimits)
        self.json = OTLPJSONDecoder(limits: decodingLimits)
        self.spans = SpanMapper(options: options)
        self.logs = LogTextMapper(limits: options.limits)
        self.spanTexts = spanTexts
    }
}

/// An OTLP/HTTP failure: rendered as a `google.rpc.Status` in the request's own encoding, because
/// strict exporters cannot read a body of another type.
struct OTLPFailure: Error {
    var status: Int
    var message: String
    var retryAfterSeconds: Int?

    init(status: Int, message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    init(_ error: APIError) {
        self.init(status: error.status, message: error.message, retryAfterSeconds: error.retryAfterSeconds)
    }

    func response(_ encoding: OTLPEncoding) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: encoding.contentType)
        if let retryAfterSeconds { headers.add(name: "Retry-After", value: String(retryAfterSeconds)) }
        if status == 401 { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        let body = OTLPStatus(code: OTLPStatus.code(forHTTPStatus: status), message: message).encoded(encoding)
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}

extension TokenmeterAPI {
    /// POST /v1/traces and /v1/logs (OTLP/HTTP). Every answer, error or not, is in the request's
    /// encoding; a 2xx for traces is sent only after the spans are committed, through the same
    /// group committer (and the same insert-once event ids) as native events.
    func otlpExport(_ signal: OTLPSignal, _ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let contentType = request.headers["Content-Type"]
        guard let encoding = OTLPEncoding(contentType: contentType) else {
            // The encoding is unknown, so the Status goes out as JSON (the one a human can read).
            let shown = contentType.map { String($0.prefix(100)) } ?? "no Content-Type"
            respond(OTLPFailure(status: 415, message: "\(shown) is not supported; send application/x-protobuf or application/json").response(.json))
            return
        }
        do {
            guard let otlp = deps.otlp else { throw OTLPFailure(status: 404, message: "OTLP ingestion is not configured on this server") }
            let principal = try deps.authenticator.authenticate(request, requiring: .ingest)
            switch signal {
            case .traces: try exportTraces(request.body, encoding: encoding, project: principal.project, otlp: otlp, respond: respond)
            case .logs: try exportLogs(request.body, encoding: encoding, project: principal.project, otlp: otlp, respond: respond)
            }
        } catch let failure as OTLPFailure {
            respond(failure.response(encoding))
        } catch let error as APIError {
            respond(OTLPFailure(error).response(encoding))
        } catch StorageError.unavailable(let reason) {
            deps.logger.warning("storage unavailable", ["route": "otlp", "error": reason])
            respond(OTLPFailure(status: 503, message: "the database is unavailable; nothing was stored, retry", retryAfterSeconds: 5).response(encoding))
        } catch {
            deps.logger.error("request failed", ["route": "otlp", "error": String(describing: error)])
            respond(OTLPFailure(status: 500, message: "internal error").response(encoding))
        }
    }

    private func decode<T>(_ body: [UInt8], _ decode: ([UInt8]) throws(OTLPDecodingError) -> T) throws(OTLPFailure) -> T {
        do {
            return try decode(body)
        } catch {
            switch error {
            case .malformed(let message): throw OTLPFailure(status: 400, message: message)
            case .tooManyItems: throw OTLPFailure(status: 413, message: error.description)
            }
        }
    }

    private func exportTraces(_ body: [UInt8], encoding: OTLPEncoding, project: ProjectID, otlp: OTLPDependencies,
                              respond: @escaping @Sendable (HTTPResponse) -> Void) throws {
        let decoded = try decode(body, encoding == .protobuf ? otlp.protobuf.decodeTraces : otlp.json.decodeTraces)
        let mapping = otlp.spans.map(decoded, receivedAt: deps.clock())
        deps.metrics.increment("tokenmeter_otlp_spans_rejected_total", by: Double(mapping.rejections.count), help: "OTLP spans rejected by validation.")
        let answer = OTLPExportResponse(signal: .traces, rejected: Int64(mapping.rejections.count), errorMessage: mapping.rejectionMessage)
        if mapping.spans.isEmpty {
            // Nothing to store: an empty export is a success, an export of only bad spans is a 400
            // (exporters do not retry it; retrying would not make the spans valid).
            respond(mapping.rejections.isEmpty ? Self.otlpSuccess(answer, encoding) : OTLPFailure(status: 400, message: answer.errorMessage).response(encoding))
            return
        }
        var preparation = try ingestPreparation(for: project)
        var events: [ProjectEvent] = []
        events.reserveCapacity(mapping.spans.count)
        for mapped in mapping.spans {
            var event = mapped.event
            // The library's own cost counts only for models the price table does not know.
            preparation.prepare(&event, reportedCost: mapped.reportedCost)
            events.append(ProjectEvent(project: project, event: event))
        }
        record(preparation)
        deps.committer.submit(events) { result in
            switch result {
            case .success:
                respond(Self.otlpSuccess(answer, encoding))
            case .failure(.overloaded):
                respond(OTLPFailure(APIError.overloaded()).response(encoding))
            case .failure(.unavailable):
                respond(OTLPFailure(status: 503, message: "the database is unavailable; nothing from this request was stored, retry it", retryAfterSeconds: 5).response(encoding))
            case .failure(.shuttingDown):
                respond(OTLPFailure(status: 503, message: "shutting down; retry", retryAfterSeconds: 2).response(encoding))
            case .failure(.rejected):
                respond(OTLPFailure(status: 500, message: "the spans could not be stored").response(encoding))
            }
        }
    }

    private func exportLogs(_ body: [UInt8], encoding: OTLPEncoding, project: ProjectID, otlp: OTLPDependencies,
                            respond: @escaping @Sendable (HTTPResponse) -> Void) throws {
        let decoded = try decode(body, encoding == .protobuf ? otlp.protobuf.decodeLogs : otlp.json.decodeLogs)
        let mapping = otlp.logs.map(decoded, receivedAt: deps.clock())
        let answer = OTLPExportResponse(signal: .logs, rejected: Int64(mapping.rejections.count), errorMessage: mapping.rejectionMessage)
        if mapping.texts.isEmpty, !mapping.rejections.isEmpty, mapping.ignored == 0 {
            throw OTLPFailure(status: 400, message: answer.errorMessage)
        }
        // The project's text policy applies to log texts as to the text of events.
        var preparation = try ingestPreparation(for: project)
        let texts = mapping.texts.compactMap { text -> SpanText? in
            var text = text
            guard let body = preparation.prepare(text: text.body) else { return nil }
            text.body = body
            return text
        }
        record(preparation)
        // Blocking, and committed before the answer: the texts survive a restart like events do.
        if !texts.isEmpty { try otlp.spanTexts.attach(texts, project: project) }
        respond(Self.otlpSuccess(answer, encoding))
    }

    static func otlpSuccess(_ answer: OTLPExportResponse, _ encoding: OTLPEncoding) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": encoding.contentType], body: answer.encoded(encoding))
    }
}

extension TokenmeterAPI {
    /// The HTTP layer's own refusals (a body that does not decompress, an unsupported
    /// `Content-Encoding`, a body too large) answer OTLP requests as a `google.rpc.Status` in the
    /// request's encoding too, like every other OTLP answer.
    public func refusal(_ error: HTTPParseError, for head: HTTPRequestHead) -> HTTPResponse {
        let path = HTTPRequest(method: head.method, target: head.target).path
        guard path == "/v1/traces" || path == "/v1/logs", let encoding = OTLPEncoding(contentType: head.headers["Content-Type"]) else {
            return error.response
        }
        return OTLPFailure(status: error.status, message: error.message).response(encoding)
    }
}
