import Foundation
import Postgres
import Store
import Testing
import TokenmeterCore

/// Prompts and responses are redacted before they are written, or not stored at all, per project.
@Suite(.serialized)
struct PrivacyTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    static let sensitive = "mail jane@example.com, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwxyz0123"

    private func ingest(_ requestID: String, key: String? = nil) throws {
        let body = #"{"request_id":"\#(requestID)","model":"gpt-4o-mini","tokens_in":10,"tokens_out":5,"prompt":"\#(PrivacyTests.sensitive)","response":"call +1 (555) 123-4567","tool_output":"plain"}"#
        let response = try server.ingest(body, key: key)
        #expect(response.status == 200, "\(response.text)")
    }

    private func storedText(_ requestID: String) throws -> [String: String?] {
        let result = try server.sql("""
            SELECT t.prompt, t.response, t.tool_output, e.has_text, e.tokens_in FROM events e
            LEFT JOIN event_texts t ON t.project_id = e.project_id AND t.event_id = e.event_id WHERE e.request_id = '\(requestID)'
            """)
        guard let row = result.rows.first else { return [:] }
        return ["prompt": row["prompt"], "response": row["response"], "tool_output": row["tool_output"], "has_text": row["has_text"],
                "tokens_in": row["tokens_in"]]
    }

    private func settings(_ project: String, storeText: Bool?, redact: Set<RedactionKind>?) throws -> TextPolicy? {
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        return try PostgresProjectSettings(pool: pool).update(projectNamed: project, storeText: storeText, redact: redact)
    }

    @Test func everythingIsRedactedByDefault() throws {
        try ingest("private-1")
        let stored = try storedText("private-1")
        #expect(stored["prompt"] == "mail [email], card [card], key [secret]")
        #expect(stored["response"] == "call [phone]")
        #expect(stored["tool_output"] == "plain")
        let everything = try server.sql("SELECT string_agg(coalesce(prompt, '') || coalesce(response, ''), ' ') AS all_text FROM event_texts")
        #expect(everything.rows.first?["all_text"]?.contains("jane@example.com") == false)
        #expect(everything.rows.first?["all_text"]?.contains("4111") == false)
        let metrics = try server.client().send(method: "GET", path: "/metrics")
        #expect(metrics.text.contains("tokenmeter_redactions_total 4"))
    }

    @Test func aProjectCanChooseKindsOrStoreNoTextAtAll() throws {
        let quiet = try server.makeProject("no-text")
        #expect(try settings("no-text", storeText: false, redact: nil) == TextPolicy(storeText: false, redactor: Redactor()))
        try ingest("quiet-1", key: quiet.ingest)
        let dropped = try storedText("quiet-1")
        #expect(dropped["has_text"] == "f")
        #expect(dropped["prompt"] == .some(nil))
        #expect(dropped["tokens_in"] == "10")        // the numbers are kept

        let open = try server.makeProject("emails-only")
        #expect(try settings("emails-only", storeText: nil, redact: [.email])?.redactor.kinds == [.email])
        try ingest("open-1", key: open.ingest)
        let partly = try storedText("open-1")
        #expect(partly["prompt"] == "mail [email], card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwxyz0123")
        #expect(partly["response"] == "call +1 (555) 123-4567")

        #expect(try settings("no such project", storeText: true, redact: nil) == nil)
    }

    @Test func commandLine() throws {
        let shown = try server.runBinary(["projects", "settings", "test"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout == "store_text\ton\nredact\tcard,email,iban,phone,secret\nraw_retention_days\tdefault\n")
        let changed = try server.runBinary(["projects", "settings", "test", "--store-text", "off", "--redact", "phone, secret"])
        #expect(changed.stdout == "store_text\toff\nredact\tphone,secret\nraw_retention_days\tdefault\n")
        let none = try server.runBinary(["projects", "settings", "test", "--redact", "none"])
        #expect(none.stdout == "store_text\toff\nredact\tnone\nraw_retention_days\tdefault\n")
        for bad in [["projects", "settings"], ["projects", "settings", "test", "--store-text", "maybe"],
                    ["projects", "settings", "test", "--redact", "emails"], ["projects", "list"]] {
            let result = try server.runBinary(bad)
            #expect(result.status == 2, "\(bad): \(result.stderr)")
        }
        #expect(try server.runBinary(["projects", "settings", "absent"]).status == 1)
    }
}
