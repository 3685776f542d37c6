import HTTP

/// An error that renders itself as the JSON error body `{"error": {"code", "message", "field"}}`.
/// Anything else thrown by a handler becomes a bare 500 with details only in the log.
public struct APIError: Error, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?
    public var retryAfterSeconds: Int?

    public init(status: Int, code: String, message: String, field: String? = nil, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var response: HTTPResponse {
        var headers = HTTPHeaders()
        if let retryAfterSeconds { headers.add(name: "Retry-After", value: String(retryAfterSeconds)) }
        if status == 401 { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        return HTTPResponse.error(status: status, code: code, message: message, field: field, headers: headers)
    }

    public static func badRequest(_ message: String, field: String? = nil, code: String = "invalid_request") -> APIError {
        APIError(status: 400, code: code, message: message, field: field)
    }
    public static let unauthorized = APIError(status: 401, code: "unauthorized", message: "a valid API key is required: Authorization: Bearer <key>", field: "Authorization")
    public static func forbidden(_ message: String) -> APIError { APIError(status: 403, code: "forbidden", message: message, field: "Authorization") }
    public static func notFound(_ message: String) -> APIError { APIError(status: 404, code: "not_found", message: message) }
    public static func unavailable(_ message: String, retryAfter: Int = 5) -> APIError {
        APIError(status: 503, code: "unavailable", message: message, retryAfterSeconds: retryAfter)
    }
    public static func tooManyAuthFailures(retryAfter: Int) -> APIError {
        APIError(status: 429, code: "too_many_auth_failures", message: "too many requests with invalid API keys from this address; retry after \(retryAfter) s",
                 field: "Authorization", retryAfterSeconds: retryAfter)
    }
    public static func overloaded(retryAfter: Int = 1) -> APIError {
        APIError(status: 429, code: "overloaded", message: "too many requests in flight; retry after \(retryAfter) s", retryAfterSeconds: retryAfter)
    }
}
