import Foundation
import JSON
import Testing

/// Keys: ingest keys only write, read keys only read, and one project never sees another's data.
@Suite(.serialized)
struct AuthTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    @Test func missingOrMalformedKeyIs401() throws {
        let none = try server.client().send(method: "GET", path: "/v1/usage")
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate") == "Bearer")
        #expect(try server.get("/v1/usage", key: "tm_read_doesnotexist000000000000000").status == 401)
        #expect(try server.get("/v1/usage", key: "💥").status == 401)
        #expect(try server.ingest("[]", key: "").status == 401)
    }

    @Test func keysOnlyDoTheirKind() throws {
        #expect(try server.ingest(#"{"request_id":"k"}"#, key: server.readKey).status == 403)
        #expect(try server.get("/v1/usage", key: server.ingestKey).status == 403)
    }

    @Test func projectsAreIsolated() throws {
        let other = try server.makeProject("other")
        #expect(try server.ingest(#"{"request_id":"secret-request","timestamp":"2026-11-10T00:00:00Z","feature":"secret","tokens_in":77}"#, key: other.ingest).status == 200)
        #expect(try server.ingest(#"{"request_id":"mine","timestamp":"2026-11-10T00:00:00Z","feature":"mine","tokens_in":1}"#).status == 200)

        let mine = try server.get("/v1/usage?from=2026-11-09T00:00:00Z&to=2026-11-11T00:00:00Z&group_by=feature")
        #expect(mine.status == 200)
        #expect(!mine.text.contains("secret"))
        #expect(mine.text.contains("\"mine\""))
        // Another project's request id reads as unknown, exactly like one that never existed.
        let foreign = try server.get("/v1/requests/secret-request")
        let missing = try server.get("/v1/requests/never-existed")
        #expect(foreign.status == 404)
        #expect(missing.status == 404)
        #expect(try server.get("/v1/requests/secret-request", key: other.read).status == 200)
    }
}
