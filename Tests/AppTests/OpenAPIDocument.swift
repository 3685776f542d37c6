import Foundation

/// The operations of `openapi.yaml` at the repository root, read with the indentation this file
/// uses (two spaces for a path, four for a method, six for an operation's keys), so that tests can
/// be generated from the document rather than from a second list that could drift from it.
struct OpenAPIDocument {
    struct Operation: Hashable, CustomStringConvertible {
        var path: String
        var method: String
        /// The security schemes that admit the operation (any one suffices); empty for a public one.
        var security: Set<String>
        /// The documented response status codes.
        var statuses: Set<Int>
        var description: String { "\(method) \(path)" }
        var isPublic: Bool { security.isEmpty }
        /// The `{parameter}` names of the path, in order.
        var pathParameters: [String] {
            path.split(separator: "/").compactMap { $0.hasPrefix("{") && $0.hasSuffix("}") ? String($0.dropFirst().dropLast()) : nil }
        }
        /// The path with each `{parameter}` replaced by `value(parameter)`.
        func path(_ value: (String) -> String) -> String {
            path.split(separator: "/", omittingEmptySubsequences: false).map { part in
                part.hasPrefix("{") && part.hasSuffix("}") ? value(String(part.dropFirst().dropLast())) : String(part)
            }.joined(separator: "/")
        }
    }

    let operations: [Operation]

    static func load() throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi.yaml")
        return OpenAPIDocument(text: try String(contentsOf: url, encoding: .utf8))
    }

    init(text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        func schemes(from start: Int) -> (Set<String>, next: Int) {
            // `security: []`, or `security:` followed by `- scheme: []` items one level deeper.
            var found = Set<String>(), i = start + 1
            let level = indent(lines[start])
            while i < lines.count, indent(lines[i]) > level || lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("- ") && indent(lines[i]) == level {
                let item = lines[i].trimmingCharacters(in: .whitespaces)
                if item.hasPrefix("- ") { found.insert(String(item.dropFirst(2).prefix { $0 != ":" })) }
                i += 1
            }
            return (found, i)
        }
        var global = Set<String>()
        var operations: [Operation] = []
        var inPaths = false
        var path: String?
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if !line.hasPrefix(" "), !line.isEmpty {
                inPaths = line == "paths:"
                if line == "security:" { let (found, next) = schemes(from: i); global = found; i = next; continue }
                i += 1
                continue
            }
            if inPaths, indent(line) == 2, line.hasSuffix(":"), line.dropFirst(2).hasPrefix("/") {
                path = String(line.dropFirst(2).dropLast())
            } else if inPaths, indent(line) == 4, let path {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "delete", "patch"].contains(key) {
                    operations.append(Operation(path: path, method: key.uppercased(), security: global, statuses: []))
                }
            } else if inPaths, indent(line) == 6, !operations.isEmpty, line.hasPrefix("      security:") {
                if line.hasSuffix("[]") { operations[operations.count - 1].security = [] } else {
                    let (found, next) = schemes(from: i)
                    operations[operations.count - 1].security = found
                    i = next
                    continue
                }
            } else if inPaths, indent(line) == 8, !operations.isEmpty, line.dropFirst(8).hasPrefix("\"") {
                if let code = Int(line.dropFirst(9).prefix(3)) { operations[operations.count - 1].statuses.insert(code) }
            }
            i += 1
        }
        self.operations = operations
    }
}
