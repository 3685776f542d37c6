import Foundation
import HTTP
import JSON
import TokenmeterCore

/// The administrator's side of the API: keys and project settings, behind the admin token from
/// configuration (`TOKENMETER_ADMIN_TOKEN`). Without a token configured these routes do not exist.
public struct AdminDependencies: Sendable {
    public var token: String
    public var keys: any KeyAdministration
    public var settings: any TextPolicyAdministration
    public var retention: any RetentionAdministration

    public init(token: String, keys: any KeyAdministration, settings: any TextPolicyAdministration, retention: any RetentionAdministration) {
        self.token = token
        self.keys = keys
        self.settings = settings
        self.retention = retention
    }
}

extension TokenmeterAPI {
    /// `/v1/admin/keys`, `/v1/admin/keys/rotate`, `/v1/admin/keys/{id}`, `/v1/admin/projects/{name}/settings`.
    static func adminRoute(for path: String) -> (Route, allowed: [String], parameter: String?)? {
        switch path {
        case "/v1/admin/keys": return (.adminKeys, ["GET", "HEAD", "POST"], nil)
        case "/v1/admin/keys/rotate": return (.adminKeyRotation, ["POST"], nil)
        default:
            if path.hasPrefix("/v1/admin/keys/") {
                let id = String(path.dropFirst("/v1/admin/keys/".count))
                return id.isEmpty || id.contains("/") ? nil : (.adminKey, ["DELETE"], id)
            }
            if path.hasPrefix("/v1/admin/projects/"), path.hasSuffix("/settings") {
                let name = String(path.dropFirst("/v1/admin/projects/".count).dropLast("/settings".count))
                return name.isEmpty || name.contains("/") ? nil : (.adminProjectSettings, ["GET", "HEAD", "PUT"], name.removingPercentEncoding ?? name)
            }
            return nil
        }
    }

    func admin(_ route: Route, parameter: String?, request: HTTPRequest) throws -> HTTPResponse {
        guard let admin = deps.admin else { throw APIError.notFound("no route for \(request.path.prefix(200))") }
        try deps.authenticator.authenticateAdmin(request, token: admin.token)
        do {
            switch (route, request.method) {
            case (.adminKeys, "POST"):
                let body = try AdminBody(request)
                let (key, record) = try admin.keys.createKey(projectNamed: try body.project(), kind: try body.kind())
                return json(201) { w in
                    w.key("key"); w.string(key)
                    w.key("record"); TokenmeterAPI.writeKey(record, now: deps.clock(), into: &w)
                }
            case (.adminKeys, _):
                let params = QueryParameters(request: request)
                try params.rejectUnknown(allowed: ["project"])
                let records = try admin.keys.listKeys(project: try params.string("project", maxBytes: 128))
                return json(200) { w in
                    w.key("keys"); w.beginArray()
                    for record in records { TokenmeterAPI.writeKey(record, now: deps.clock(), into: &w) }
                    w.endArray()
                }
            case (.adminKeyRotation, _):
                let body = try AdminBody(request)
                let (key, revoked) = try admin.keys.rotateKeys(project: try body.project(), kind: try body.kind(), after: try body.grace())
                return json(200) { w in
                    w.key("key"); w.string(key)
                    w.key("revoked"); w.beginArray()
                    for record in revoked { TokenmeterAPI.writeKey(record, now: deps.clock(), into: &w) }
                    w.endArray()
                }
            case (.adminKey, _):
                let params = QueryParameters(request: request)
                try params.rejectUnknown(allowed: ["grace_seconds"])
                let id = parameter ?? ""
                guard (6...64).contains(id.count), id.allSatisfy(\.isHexDigit) else {
                    throw APIError.badRequest("a key id is 6 to 64 hexadecimal digits", field: "id")
                }
                let grace = try params.integer("grace_seconds", default: 0, in: 0...31_536_000)
                let record = try admin.keys.revokeKey(id: id, after: .seconds(grace))
                return json(200) { w in TokenmeterAPI.writeKeyFields(record, now: deps.clock(), into: &w) }
            default:
                let name = parameter ?? ""
                var storeText: Bool?
                var redact: Set<RedactionKind>?
                var retention: Int??
                if request.method == "PUT" {
                    let body = try AdminBody(request, allowed: ["store_text", "redact", "raw_retention_days"])
                    (storeText, redact, retention) = (try body.storeText(), try body.redact(), try body.rawRetentionDays())
                }
                let absent = APIError.notFound("there is no project \(name.prefix(128))")
                if let retention, try !admin.retention.setRawRetentionDays(projectNamed: name, days: retention) { throw absent }
                // Without a body this only reads: an update that sets nothing returns the current values.
                guard let policy = try admin.settings.update(projectNamed: name, storeText: storeText, redact: redact),
                      let days = try admin.retention.rawRetentionDays(projectNamed: name) else { throw absent }
                return json(200) { w in
                    w.key("project"); w.string(name)
                    w.key("store_text"); w.bool(policy.storeText)
                    w.key("redact"); w.beginArray()
                    for kind in policy.redactor.kinds.sorted() { w.string(kind.rawValue) }
                    w.endArray()
                    w.key("raw_retention_days"); if let days { w.int(Int64(days)) } else { w.null() }
                }
            }
        } catch let error as KeyAdministrationError {
            switch error {
            case .noSuchKey, .noSuchProject: throw APIError.notFound(error.description)
            case .ambiguous: throw APIError.badRequest(error.description, field: "id")
            }
        }
    }

    static func writeKey(_ record: KeyRecord, now: Date, into w: inout JSONWriter) {
        w.beginObject()
        writeKeyFields(record, now: now, into: &w)
        w.endObject()
    }

    static func writeKeyFields(_ record: KeyRecord, now: Date, into w: inout JSONWriter) {
        w.key("id"); w.string(record.id)
        w.key("project"); w.string(record.project)
        w.key("kind"); w.string(record.kind.rawValue)
        w.key("prefix"); w.string(record.prefix)
        w.key("created_at"); w.string(Timestamp.rfc3339(record.createdAt))
        w.key("revoked_at"); if let end = record.revokedAt { w.string(Timestamp.rfc3339(end)) } else { w.null() }
        w.key("active"); w.bool(record.isActive(at: now))
    }
}

/// A validated JSON object body of an admin request.
struct AdminBody {
    let object: JSONObject

    init(_ request: HTTPRequest, allowed: Set<String> = ["project", "kind", "grace_seconds"]) throws {
        guard case .object(let object)? = try? JSONParser.parse(request.body) else {
            throw APIError.badRequest("the body must be a JSON object", field: "body", code: "invalid_json")
        }
        if let unknown = object.map(\.key).first(where: { !allowed.contains($0) }) {
            throw APIError.badRequest("unknown field \(unknown.prefix(64))", field: String(unknown.prefix(64)))
        }
        self.object = object
    }

    func project() throws -> String {
        guard let name = object["project"]?.stringValue, !name.isEmpty, name.utf8.count <= 128,
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw APIError.badRequest("project must be a name of 1-128 printable characters", field: "project")
        }
        return name
    }

    func kind() throws -> KeyKind {
        guard let kind = object["kind"]?.stringValue.flatMap(KeyKind.init(rawValue:)) else {
            throw APIError.badRequest("kind must be ingest or read", field: "kind")
        }
        return kind
    }

    func grace() throws -> Duration {
        guard let value = object["grace_seconds"], value != .null else { return .zero }
        guard let seconds = value.int64Value, (0...31_536_000).contains(seconds) else {
            throw APIError.badRequest("grace_seconds must be an integer in 0...31536000", field: "grace_seconds")
        }
        return .seconds(seconds)
    }

    /// Absent: keep; null: the server's retention; else 1–3650 days (as `projects settings` takes).
    func rawRetentionDays() throws -> Int?? {
        guard let value = object["raw_retention_days"] else { return nil }
        if value == .null { return .some(nil) }
        guard let days = value.int64Value, (1...3650).contains(days) else {
            throw APIError.badRequest("raw_retention_days must be null (the server's) or a number of days from 1 to 3650", field: "raw_retention_days")
        }
        return .some(Int(days))
    }

    func storeText() throws -> Bool? {
        guard let value = object["store_text"], value != .null else { return nil }
        guard let flag = value.boolValue else { throw APIError.badRequest("store_text must be true or false", field: "store_text") }
        return flag
    }

    func redact() throws -> Set<RedactionKind>? {
        guard let value = object["redact"], value != .null else { return nil }
        guard case .array(let items) = value else {
            throw APIError.badRequest("redact must be an array of \(RedactionKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "redact")
        }
        var kinds = Set<RedactionKind>()
        for item in items {
            guard let kind = item.stringValue.flatMap(RedactionKind.init(rawValue:)) else {
                throw APIError.badRequest("redact may hold only \(RedactionKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "redact")
            }
            kinds.insert(kind)
        }
        return kinds
    }
}
