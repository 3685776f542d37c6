import Foundation
import HTTP
import Ingest
import JSON
import TokenmeterCore

extension TokenmeterAPI {
    /// POST /v1/events: validate each event, price it, group-commit the valid ones, and answer only
    /// after the commit: `{"accepted": N, "rejected": [{"index", "field", "error"}]}`.
    func ingest(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) throws {
        let principal = try deps.authenticator.authenticate(request, requiring: .ingest)
        let receivedAt = deps.clock()
        let batch: EventDecoder.Batch
        do {
            batch = try deps.decoder.decodeBody(request.body, contentType: request.headers["Content-Type"], receivedAt: receivedAt)
        } catch {
            switch error {
            case .invalidJSON(let message): throw APIError.badRequest("the body is not valid JSON: \(message)", field: "body", code: "invalid_json")
            case .invalidShape(let message): throw APIError.badRequest(message, field: "body", code: "invalid_body")
            case .tooManyEvents(let count):
                throw APIError(status: 413, code: "too_many_events", message: "\(count) events in one request; at most \(deps.decoder.limits.maxEventsPerRequest)", field: "body")
            case .unsupportedContentType(let type):
                throw APIError(status: 415, code: "unsupported_media_type", message: "Content-Type \(type.prefix(100)) is not supported; send application/json or application/x-ndjson", field: "Content-Type")
            }
        }
        deps.metrics.increment("tokenmeter_ingest_events_rejected_total", by: Double(batch.rejections.count), help: "Events rejected by validation.")
        if batch.events.isEmpty {
            if batch.rejections.isEmpty {
                respond(TokenmeterAPI.ingestAnswer(status: 200, accepted: 0, rejections: []))
            } else {
                respond(TokenmeterAPI.ingestAnswer(status: 400, accepted: 0, rejections: batch.rejections,
                                                   error: APIError.badRequest("no valid event in the request", field: batch.rejections[0].field, code: "no_valid_events")))
            }
            return
        }
        let events = try prepare(batch.events, for: principal.project)
        let rejections = batch.rejections
        deps.committer.submit(events) { result in
            switch result {
            case .success(let accepted):
                respond(TokenmeterAPI.ingestAnswer(status: 200, accepted: accepted, rejections: rejections))
            case .failure(.overloaded):
                respond(APIError.overloaded().response)
            case .failure(.unavailable):
                respond(APIError.unavailable("the database is unavailable; nothing from this request was stored, retry it").response)
            case .failure(.shuttingDown):
                respond(APIError.unavailable("shutting down; retry against another instance", retryAfter: 2).response)
            case .failure(.rejected):
                respond(APIError(status: 500, code: "internal", message: "the events could not be stored").response)
            }
        }
    }

    /// Prices the events with the project's price book and applies its text policy (drop or redact
    /// free text) before they go anywhere near storage.
    func prepare(_ decoded: [Event], for project: ProjectID) throws -> [ProjectEvent] {
        var preparation = try ingestPreparation(for: project)
        let events = decoded.map { event in
            var event = event
            preparation.prepare(&event)
            return ProjectEvent(project: project, event: event)
        }
        record(preparation)
        return events
    }

    func ingestPreparation(for project: ProjectID) throws -> IngestPreparation {
        IngestPreparation(book: try deps.priceBooks.book(for: project), policy: try deps.textPolicies?.policy(for: project) ?? .standard)
    }

    func record(_ preparation: IngestPreparation) {
        if preparation.masked > 0 {
            deps.metrics.increment("tokenmeter_redactions_total", by: Double(preparation.masked), help: "Matches masked by the redaction pass.")
        }
    }

    static func ingestAnswer(status: Int, accepted: Int, rejections: [Rejection], error: APIError? = nil) -> HTTPResponse {
        json(status) { w in
            if let error {
                w.key("error"); w.beginObject()
                w.key("code"); w.string(error.code)
                w.key("message"); w.string(error.message)
                if let field = error.field { w.key("field"); w.string(field) }
                w.endObject()
            }
            w.key("accepted"); w.int(Int64(accepted))
            w.key("rejected"); w.beginArray()
            for rejection in rejections.prefix(1000) {
                w.beginObject()
                w.key("index"); w.int(Int64(rejection.index))
                if let field = rejection.field { w.key("field"); w.string(field) } else { w.key("field"); w.null() }
                w.key("error"); w.string(rejection.error)
                w.endObject()
            }
            w.endArray()
            if rejections.count > 1000 { w.key("rejected_total"); w.int(Int64(rejections.count)) }
        }
    }
}

/// What every ingest path (native events, OTLP spans and log texts) does to an event before it is
/// stored: price it, and apply the project's text policy.
struct IngestPreparation {
    let book: PriceBook
    let policy: TextPolicy
    private(set) var masked = 0

    init(book: PriceBook, policy: TextPolicy) {
        self.book = book
        self.policy = policy
    }

    /// `reportedCost` is a cost the sender computed itself, used only when the price table does not
    /// know the model.
    mutating func prepare(_ event: inout Event, reportedCost: Money? = nil) {
        Pricer.price(&event, with: book)
        if event.cost == nil, let reportedCost {
            event.cost = reportedCost
            event.costSource = .client
        }
        masked += policy.apply(to: &event)
    }

    /// Free text that arrives apart from its event (OTLP log records): nil when the project stores none.
    mutating func prepare(text: String) -> String? {
        guard policy.storeText else { return nil }
        let result = policy.redactor.redact(text)
        masked += result.matches
        return result.text
    }
}
