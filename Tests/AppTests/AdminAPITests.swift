import Foundation
import JSON
import Testing
import TokenmeterCore

/// `/v1/admin/…`: keys and project settings over HTTP, only with the admin token from configuration.
@Suite(.serialized)
struct AdminAPITests {
    static let token = "admin-token-for-tests-0123456789"
    let server: RunningServer

    init() throws { server = try RunningServer { $0.adminToken = AdminAPITests.token } }

    private func send(_ method: String, _ path: String, _ body: String? = nil, token: String? = AdminAPITests.token) throws -> HTTPClient.Response {
        var headers: [String: String] = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try server.client().send(method: method, path: path, headers: headers, body: Array((body ?? "").utf8))
    }

    private func object(_ response: HTTPClient.Response) -> JSONObject? {
        if case .object(let o)? = response.json { return o }
        return nil
    }

    @Test func onlyTheAdminTokenOpensIt() throws {
        #expect(try send("GET", "/v1/admin/keys").status == 200)
        for wrong in [nil, "admin-token-for-tests-012345678X", server.readKey, server.ingestKey, AdminAPITests.token + "x"] {
            let response = try send("GET", "/v1/admin/keys", token: wrong)
            #expect(response.status == 401, "\(wrong ?? "no token")")
            #expect(!response.text.contains("tm_"), "a refusal never shows keys")
        }
        let disabled = try RunningServer()
        let response = try disabled.client().send(method: "GET", path: "/v1/admin/keys", headers: ["Authorization": "Bearer \(AdminAPITests.token)"])
        #expect(response.status == 404)
    }

    @Test func createListRevokeRotate() throws {
        let created = try send("POST", "/v1/admin/keys", #"{"project":"second","kind":"ingest"}"#)
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(object(created)?["key"]?.stringValue)
        guard case .object(let record)? = object(created)?["record"] else { Issue.record("no record"); return }
        let id = try #require(record["id"]?.stringValue)
        #expect(id == String(APIKey.hash(key).prefix(12)))
        #expect(record["active"] == .bool(true))
        #expect(try server.ingest(#"{"request_id":"admin-1"}"#, key: key).status == 200)

        let listed = try send("GET", "/v1/admin/keys?project=second")
        guard case .array(let keys)? = object(listed)?["keys"] else { Issue.record("no keys: \(listed.text)"); return }
        #expect(keys.count == 1)
        #expect(!listed.text.contains(key))

        let revoked = try send("DELETE", "/v1/admin/keys/\(id)")
        #expect(revoked.status == 200, "\(revoked.text)")
        #expect(object(revoked)?["active"] == .bool(false))
        #expect(try send("DELETE", "/v1/admin/keys/zzzzzz").status == 400)
        #expect(try send("DELETE", "/v1/admin/keys/abcdef0123").status == 404)

        let rotated = try send("POST", "/v1/admin/keys/rotate", #"{"project":"test","kind":"read","grace_seconds":600}"#)
        #expect(rotated.status == 200, "\(rotated.text)")
        guard case .array(let old)? = object(rotated)?["revoked"] else { Issue.record("no revoked list"); return }
        #expect(old.count == 1)
        let newKey = try #require(object(rotated)?["key"]?.stringValue)
        #expect(try server.get("/v1/usage", key: newKey).status == 200)
        #expect(try server.get("/v1/usage").status == 200)          // the old read key has 10 minutes left
    }

    @Test func projectSettings() throws {
        let shown = try send("GET", "/v1/admin/projects/test/settings")
        #expect(shown.status == 200)
        #expect(shown.json == (try JSONParser.parse(Array(#"{"project":"test","store_text":true,"redact":["card","email","iban","phone","secret"],"raw_retention_days":null}"#.utf8))))
        let changed = try send("PUT", "/v1/admin/projects/test/settings", #"{"store_text":false,"redact":["email"]}"#)
        #expect(changed.json == (try JSONParser.parse(Array(#"{"project":"test","store_text":false,"redact":["email"],"raw_retention_days":null}"#.utf8))))
        #expect(try send("GET", "/v1/admin/projects/absent/settings").status == 404)
        #expect(try send("PUT", "/v1/admin/projects/absent/settings", #"{"raw_retention_days":7}"#).status == 404)
        for (body, field) in [(#"{"redact":["emails"]}"#, "redact"), (#"{"store_text":"no"}"#, "store_text"), (#"{"colour":1}"#, "colour"), ("[]", "body"),
                              (#"{"raw_retention_days":0}"#, "raw_retention_days"), (#"{"raw_retention_days":"7"}"#, "raw_retention_days"),
                              (#"{"raw_retention_days":3651}"#, "raw_retention_days"), (#"{"raw_retention_days":1.5}"#, "raw_retention_days")] {
            let response = try send("PUT", "/v1/admin/projects/test/settings", body)
            #expect(response.status == 400, "\(body)")
            guard case .object(let error)? = object(response)?["error"] else { Issue.record("no error body"); continue }
            #expect(error["field"] == .string(field), "\(body)")
        }
        // Raw retention: set alone (the text policy stays), seen by the CLI and the storage maintainer's
        // source (project_settings), and back to the server's with null.
        let retained = try send("PUT", "/v1/admin/projects/test/settings", #"{"raw_retention_days":7}"#)
        #expect(retained.json == (try JSONParser.parse(Array(#"{"project":"test","store_text":false,"redact":["email"],"raw_retention_days":7}"#.utf8))))
        #expect(try server.sqlValue("SELECT raw_retention_days::text FROM project_settings s JOIN projects p ON p.id = s.project_id WHERE p.name = 'test'") == "7")
        #expect(try server.runBinary(["projects", "settings", "test"]).stdout.contains("raw_retention_days\t7"))
        let reset = try send("PUT", "/v1/admin/projects/test/settings", #"{"raw_retention_days":null}"#)
        #expect(object(reset)?["raw_retention_days"] == .null)
        #expect(try send("GET", "/v1/admin/projects/test/settings").json?["raw_retention_days"] == .null)
    }

    @Test func badRequests() throws {
        for (body, field) in [(#"{"project":"","kind":"read"}"#, "project"), (#"{"project":"p","kind":"admin"}"#, "kind"),
                              (#"{"project":"p","kind":"read","grace_seconds":-1}"#, "grace_seconds"), ("not json", "body")] {
            let path = field == "grace_seconds" ? "/v1/admin/keys/rotate" : "/v1/admin/keys"
            let response = try send("POST", path, body)
            #expect(response.status == 400, "\(body): \(response.text)")
            guard case .object(let error)? = object(response)?["error"] else { Issue.record("no error body"); continue }
            #expect(error["field"] == .string(field), "\(body)")
        }
        #expect(try send("PUT", "/v1/admin/keys").status == 405)
        #expect(try send("GET", "/v1/admin/keys?colour=red").status == 400)
    }
}
