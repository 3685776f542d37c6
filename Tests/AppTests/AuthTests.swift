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

/// An address that keeps presenting bad keys is answered 429 before any lookup; keys it has used
/// successfully before keep working.
@Suite(.serialized)
struct AuthFailureLimitTests {
    let server: RunningServer

    init() throws { server = try RunningServer { $0.authFailuresPerMinute = 5 } }

    @Test func repeatedFailuresAreRateLimited() throws {
        #expect(try server.get("/v1/usage").status == 200)          // the read key is known from now on
        for i in 0..<5 {
            let response = try server.get("/v1/usage", key: "tm_read_notARealKey000000000000000\(i)")
            #expect(response.status == 401, "attempt \(i)")
        }
        let limited = try server.get("/v1/usage", key: "tm_read_notARealKey0000000000000009")
        #expect(limited.status == 429)
        #expect(limited.header("Retry-After").flatMap(Int.init).map { (1...60).contains($0) } == true)
        #expect(limited.text.contains("too_many_auth_failures"))
        let missing = try server.client().send(method: "GET", path: "/v1/usage", headers: [:])
        #expect(missing.status == 429)
        // A key this address used successfully still works; a key it never used must wait.
        #expect(try server.get("/v1/usage").status == 200)
        #expect(try server.ingest(#"{"request_id":"x"}"#).status == 429)
    }
}
