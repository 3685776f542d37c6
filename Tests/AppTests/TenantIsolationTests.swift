import App
import Foundation
import JSON
import Testing

/// Issue 7, part 1: for every operation in `openapi.yaml` (generated from the document, so a new
/// route is covered the day it is documented), a request with no key, a malformed key, an unknown
/// key, the wrong kind of key and another project's key — answered 401/403/404 as documented, and
/// never with a byte of the other project's data or a hint that its identifiers exist.
@Suite(.serialized)
struct TenantIsolationTests {
    static let adminToken = "tenant-isolation-admin-token-0123"

    /// Values that exist only in the victim project's data. None may appear in an answer to the
    /// attacker, except one the attacker itself put in the request.
    static let victim = (feature: "victim-feature-7f3a", user: "victim-user-7f3a", session: "victim-session-7f3a",
                         request: "victim-request-7f3a", model: "victim-model-7f3a", prompt: "victim-prompt-7f3a",
                         tool: "victim-tool-7f3a", project: "victim-project-7f3a")
    static var markers: [String] {
        [victim.feature, victim.user, victim.session, victim.request, victim.model, victim.prompt, victim.tool, victim.project]
    }

    /// The victim's identifier for a path parameter, and one that exists nowhere.
    static func victimValue(_ parameter: String) -> String {
        switch parameter {
        case "request_id": victim.request
        case "session_id": victim.session
        case "user_id": victim.user
        case "model": victim.model
        case "name": victim.project
        default: "victim-\(parameter)-7f3a"
        }
    }
    static func absentValue(_ parameter: String) -> String { "absent-\(parameter.replacingOccurrences(of: "_", with: "-"))-0000" }

    static func body(for operation: OpenAPIDocument.Operation, request: String) -> [UInt8] {
        switch (operation.method, operation.path) {
        case ("GET", _), ("DELETE", _): []
        case ("POST", "/v1/events"): Array(#"{"request_id":"\#(request)","feature":"attacker-feature","model":"gpt-4o-mini","tokens_in":1,"tokens_out":1}"#.utf8)
        case ("PUT", "/v1/prices/{model}"): Array(#"{"input_per_million":999,"output_per_million":999}"#.utf8)
        default: Array("{}".utf8)
        }
    }

    struct Setup {
        let server: RunningServer
        let victimKeys: (ingest: String, read: String)
        let victimUsage: JSONValue?
        let victimTree: String
        let victimPrices: String
    }

    /// One server, the attacker's project ("test", the server's own keys) and a victim project whose
    /// data carries the markers; both have calls, a tree, a session, a user and a price override.
    static func setUp() throws -> Setup {
        let server = try RunningServer {
            $0.adminToken = adminToken
            $0.authFailuresPerMinute = 1_000_000  // this test fails authentication on purpose, hundreds of times
        }
        let victimKeys = try server.makeProject(victim.project)
        let victimEvents = """
        [{"request_id":"\(victim.request)","session_id":"\(victim.session)","user_id":"\(victim.user)","feature":"\(victim.feature)",
          "model":"\(victim.model)","provider":"openai","tokens_in":1000,"tokens_out":100,"cost_usd":1.25,"latency_ms":420,"prompt":"\(victim.prompt)"},
         {"request_id":"\(victim.request)","step_index":1,"step_type":"tool_call","tool_name":"\(victim.tool)","feature":"\(victim.feature)","latency_ms":12}]
        """
        #expect(try server.ingest(victimEvents, key: victimKeys.ingest).status == 200)
        let price = try server.client().send(method: "PUT", path: "/v1/prices/\(victim.model)",
                                             headers: ["Authorization": "Bearer \(victimKeys.ingest)", "Content-Type": "application/json"],
                                             body: Array(#"{"input_per_million":3,"output_per_million":9}"#.utf8))
        #expect(price.status == 200, "\(price.text)")
        #expect(try server.ingest(#"{"request_id":"attacker-request","session_id":"attacker-session","user_id":"attacker-user","feature":"attacker-feature","model":"gpt-4o-mini","tokens_in":5,"tokens_out":5,"prompt":"attacker prompt"}"#).status == 200)
        return Setup(server: server, victimKeys: victimKeys,
                     victimUsage: try server.get("/v1/usage?group_by=feature,model,user_id", key: victimKeys.read).json?["rows"],
                     victimTree: try server.get("/v1/requests/\(victim.request)", key: victimKeys.read).text,
                     victimPrices: try server.get("/v1/prices?model=\(victim.model)", key: victimKeys.read).text)
    }

    static func send(_ server: RunningServer, _ operation: OpenAPIDocument.Operation, path: String, authorization: String?,
                     request: String = "attacker-request") throws -> HTTPClient.Response {
        var headers = ["Content-Type": "application/json"]
        if let authorization { headers["Authorization"] = authorization }
        return try server.client().send(method: operation.method, path: path, headers: headers, body: body(for: operation, request: request))
    }

    static func isOTLP(_ operation: OpenAPIDocument.Operation) -> Bool {
        ["/v1/traces", "/v1/logs", "/api/public/otel/v1/traces"].contains(operation.path)
    }

    static func leaked(_ response: HTTPClient.Response, besides sent: [String]) -> [String] {
        markers.filter { marker in !sent.contains(marker) && response.text.contains(marker) }
    }

    @Test func everyDocumentedOperationRefusesStrangersAndLeaksNothing() throws {
        let setup = try Self.setUp()
        let server = setup.server
        let operations = try OpenAPIDocument.load().operations
        // Reads first: the writes below put the victim's identifiers into the attacker's own data
        // (which the attacker may then read back), so every read probe must come before them.
        let keyed = operations.filter { !$0.isPublic }.sorted { ($0.method == "GET" ? 0 : 1) < ($1.method == "GET" ? 0 : 1) }
        #expect(keyed.count >= 18, "the document's keyed operations: \(keyed)")
        let unknownKey = "tm_read_" + String(repeating: "a", count: 40)

        for operation in keyed {
            let victimPath = operation.path(Self.victimValue)
            let absentPath = operation.path(Self.absentValue)
            let sentMarkers = operation.pathParameters.map(Self.victimValue)

            // No key, a malformed key, an unknown well-formed key: the same 401, whatever the path names.
            var refusals: [String] = []
            for authorization in [nil, "Bearer not-a-key", "Bearer \(unknownKey)", "Basic !!!", "Token \(server.readKey)"] {
                let response = try Self.send(server, operation, path: victimPath, authorization: authorization)
                #expect(response.status == 401, "\(operation) with \(authorization ?? "no key"): \(response.status) \(response.text)")
                #expect(operation.statuses.contains(401), "\(operation) answers 401 but does not document it")
                // OTLP routes answer in OTLP's own error shape (a google.rpc.Status), the others in ours.
                let code = Self.isOTLP(operation) ? response.json?["code"] : response.json?["error"]?["code"]
                #expect(code != nil, "\(operation): a JSON error body: \(response.text)")
                #expect(Self.leaked(response, besides: []).isEmpty, "\(operation): \(response.text)")
                refusals.append(response.text)
            }
            #expect(Set(refusals).count == 1, "\(operation): the 401 must not vary with the key or the project: \(Set(refusals))")

            if operation.security.contains("adminToken") {
                // Project keys of either kind are not the admin token: refused (401, or 403 where the
                // route says "an API key cannot do this"), as documented, alike for every project key.
                var statuses = Set<Int>()
                for key in [server.readKey, server.ingestKey, setup.victimKeys.read] {
                    let response = try Self.send(server, operation, path: victimPath, authorization: "Bearer \(key)")
                    #expect([401, 403].contains(response.status) && operation.statuses.contains(response.status),
                            "\(operation) with a project key: \(response.status)")
                    #expect(Self.leaked(response, besides: sentMarkers).isEmpty, "\(operation): \(response.text)")
                    statuses.insert(response.status)
                }
                #expect(statuses.count == 1, "\(operation): project keys answered \(statuses)")
                continue
            }

            // The wrong kind of key: 403 and nothing else.
            let wantsIngest = operation.security.contains("ingestKey")
            let wrongKind = wantsIngest ? server.readKey : server.ingestKey
            let wrong = try Self.send(server, operation, path: victimPath, authorization: "Bearer \(wrongKind)")
            #expect(wrong.status == 403, "\(operation) with the wrong kind of key: \(wrong.status) \(wrong.text)")
            #expect(operation.statuses.contains(403), "\(operation) answers 403 but does not document it")
            #expect(Self.leaked(wrong, besides: sentMarkers).isEmpty, "\(operation): \(wrong.text)")

            // The attacker's own key of the right kind, aimed at the victim's identifiers: the answer
            // is the one for identifiers that exist nowhere, and carries none of the victim's data.
            let rightKind = wantsIngest ? server.ingestKey : server.readKey
            let aimed = try Self.send(server, operation, path: victimPath, authorization: "Bearer \(rightKind)", request: Self.victim.request)
            let blank = try Self.send(server, operation, path: absentPath, authorization: "Bearer \(rightKind)", request: "absent-request-0000")
            #expect(aimed.status == blank.status, "\(operation): \(aimed.status) for the victim's ids vs \(blank.status) for absent ones — existence shows")
            #expect(operation.statuses.contains(aimed.status), "\(operation) answered an undocumented \(aimed.status)")
            #expect(Self.leaked(aimed, besides: sentMarkers + [Self.victim.request]).isEmpty, "\(operation): \(aimed.text)")
            // The probe meant something: the same request with the victim's key finds the data.
            if operation.method == "GET", !operation.pathParameters.isEmpty,
               Set(operation.pathParameters).isSubset(of: ["request_id", "session_id", "user_id"]) {
                let own = try Self.send(server, operation, path: victimPath, authorization: "Bearer \(setup.victimKeys.read)")
                #expect(own.status == 200, "\(operation) for the victim itself: \(own.status) \(own.text) \(victimPath)")
            }
        }

        // A cursor is a position, not a capability: the victim's next-page cursor used with the
        // attacker's key pages the attacker's own calls and shows none of the victim's.
        let victimPage = try server.get("/v1/requests?limit=1", key: setup.victimKeys.read)
        let cursor = try #require(victimPage.json?["next_cursor"]?.stringValue, "the victim has two calls, so a next page: \(victimPage.text)")
        let replayed = try server.get("/v1/requests?limit=50&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)")
        #expect(replayed.status == 200, "\(replayed.text)")
        // (the attacker's own events written above under the victim's request id may show that id)
        #expect(Self.leaked(replayed, besides: [Self.victim.request]).isEmpty, "\(replayed.text)")

        // What the attacker wrote under the victim's identifiers (an event with the victim's request
        // id, a price for the victim's model) changed nothing the victim sees.
        #expect(try server.get("/v1/usage?group_by=feature,model,user_id", key: setup.victimKeys.read).json?["rows"] == setup.victimUsage)
        #expect(try server.get("/v1/requests/\(Self.victim.request)", key: setup.victimKeys.read).text == setup.victimTree)
        #expect(try server.get("/v1/prices?model=\(Self.victim.model)", key: setup.victimKeys.read).text == setup.victimPrices)
        #expect(setup.victimUsage.map { "\($0)" }?.contains(Self.victim.feature) == true && setup.victimUsage.map { "\($0)" }?.contains("attacker") == false)
        #expect(setup.victimTree.contains(Self.victim.tool), "the victim's own tree is readable by the victim: \(setup.victimTree)")
    }
}
