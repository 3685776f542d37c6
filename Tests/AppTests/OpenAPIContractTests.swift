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
        var samplePath: String { path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "sample", options: .regularExpression) }
    }

    static let adminToken = "openapi-contract-admin-token-0123"

    /// The `paths:` section of openapi.yaml, read with the two indentation levels this file uses:
    /// two spaces for a path, four for a method.
    static func documentedOperations() throws -> [Operation] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        var operations: [Operation] = []
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" "), !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "delete", "patch", "head", "options"].contains(key) {
                    operations.append(Operation(path: path, method: key.uppercased()))
                }
            }
        }
        return operations
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
