import Foundation
@testable import API
import Testing

/// `openapi.yaml` at the repository root against the live route table: every documented operation
/// is routed and answers (not 404/405) on a running server, and every route is documented with
/// exactly the methods it allows.
@Suite(.serialized)
struct OpenAPIContractTests {
    struct Operation: Hashable, CustomStringConvertible {
        var path: String
        var method: String
        var description: String { "\(method) \(path)" }
        /// The path with each `{parameter}` replaced by an id the test stores beforehand.
        var samplePath: String {
            // Dashboard files exist only by name; every other parameter is an id stored beforehand.
            path == "/ui/{file}" ? "/ui/app.js" : path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "sample", options: .regularExpression)
        }
    }

    static let adminToken = "openapi-contract-admin-token-0123"

    static func documentedOperations() throws -> [Operation] {
        try OpenAPIDocument.load().operations.map { Operation(path: $0.path, method: $0.method) }
    }

    @Test func everyRouteIsDocumentedWithItsMethods() throws {
        let operations = try Self.documentedOperations()
        #expect(operations.count >= 18)
        var documentedRoutes = Set<String>()
        for (path, group) in Dictionary(grouping: operations, by: \.path) {
            let routed = TokenmeterAPI.route(for: group[0].samplePath)
            guard let (route, allowed, _) = routed else {
                Issue.record("\(path) is documented but not routed")
                continue
            }
            documentedRoutes.insert(route.rawValue)
            #expect(Set(group.map(\.method)) == Set(allowed.filter { $0 != "HEAD" }), "\(path): documented vs allowed methods")
        }
        let routes = Set(TokenmeterAPI.Route.allCases.map(\.rawValue))
        #expect(routes.subtracting(documentedRoutes).isEmpty, "routes missing from openapi.yaml: \(routes.subtracting(documentedRoutes).sorted())")
    }

    @Test func everyDocumentedOperationAnswers() throws {
        let server = try RunningServer { $0.adminToken = Self.adminToken }
        try server.ingestAll(#"{"request_id":"sample","session_id":"sample","user_id":"sample","feature":"sample","tokens_in":1}"#)
        _ = try server.makeProject("sample")
        // A budget named like the sample id, so its status route answers 200 rather than "no such budget".
        let budget = try server.client().send(method: "PUT", path: "/v1/budgets/sample?project=test",
                                              headers: ["Authorization": "Bearer \(Self.adminToken)", "Content-Type": "application/json"],
                                              body: Array(#"{"period":"daily","limit":1}"#.utf8))
        #expect(budget.status == 201, "\(budget.text)")
        for operation in try Self.documentedOperations() {
            let key = operation.path.hasPrefix("/v1/admin/") ? Self.adminToken : operation.method == "GET" ? server.readKey : server.ingestKey
            let response = try server.client().send(method: operation.method, path: operation.samplePath,
                                                     headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                                                     body: operation.method == "GET" ? [] : Array("{}".utf8))
            #expect(response.status != 404 && response.status != 405, "\(operation): \(response.status) \(response.text.prefix(200))")
        }
    }
}
