import Foundation
import JSON
import OTLP

/// OTLP/HTTP requests against a running server, and the fixtures the unit tests use too.
enum OTLPFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("OTLPTests/Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The trace id every span of the Python SDK fixtures carries.
    static let traceID = "0af7651916cd43dd8448eb211c80319c"
}

extension RunningServer {
    func otlp(_ path: String, _ body: [UInt8], contentType: String = "application/x-protobuf", encoding: String? = nil,
              key: String? = nil) throws -> HTTPClient.Response {
        var headers = ["Authorization": "Bearer \(key ?? ingestKey)", "Content-Type": contentType]
        if let encoding { headers["Content-Encoding"] = encoding }
        return try client().send(method: "POST", path: path, headers: headers, body: body)
    }

    /// `/v1/usage` rows of a query as objects.
    func usageRows(_ query: String) throws -> [JSONObject] {
        let response = try get("/v1/usage?\(query)")
        guard response.status == 200, case .object(let body)? = response.json, case .array(let rows)? = body["rows"] else {
            throw TestSetupError("usage query failed: \(response.status) \(response.text)")
        }
        return rows.compactMap { if case .object(let o) = $0 { return o } else { return nil } }
    }

    /// The `/v1/requests/{id}` answer.
    func requestTree(_ id: String) throws -> JSONObject {
        let response = try get("/v1/requests/\(id)")
        guard response.status == 200, case .object(let body)? = response.json else {
            throw TestSetupError("request tree failed: \(response.status) \(response.text)")
        }
        return body
    }
}

extension JSONObject {
    func int(_ key: String) -> Int64? {
        if case .number(let n)? = self[key] { return n.int64 }
        return nil
    }

    /// A number as the server wrote it (exact decimal text, for money).
    func decimal(_ key: String) -> String? {
        if case .number(let n)? = self[key] { return n.text }
        return nil
    }

    func object(_ key: String) -> JSONObject? {
        if case .object(let o)? = self[key] { return o }
        return nil
    }

    func objects(_ key: String) -> [JSONObject] {
        guard case .array(let items)? = self[key] else { return [] }
        return items.compactMap { if case .object(let o) = $0 { return o } else { return nil } }
    }

    func string(_ key: String) -> String? { self[key]?.stringValue }
}

/// Every step of a request tree, depth first.
func allSteps(_ node: JSONObject) -> [JSONObject] {
    node.objects("steps") + node.objects("children").flatMap(allSteps)
}

/// A `google.rpc.Status` or `Export…ServiceResponse` read back from protobuf, as field → values.
func protobufFields(_ bytes: [UInt8]) throws -> [UInt32: [ProtobufFieldValue]] {
    var reader = ProtobufReader(bytes)
    var fields: [UInt32: [ProtobufFieldValue]] = [:]
    while let (field, wire) = try reader.nextField() {
        switch wire {
        case .varint: fields[field, default: []].append(.varint(try reader.varint()))
        case .lengthDelimited: fields[field, default: []].append(.bytes(Array(try reader.data())))
        case .fixed64: fields[field, default: []].append(.varint(try reader.fixed64()))
        case .fixed32: fields[field, default: []].append(.varint(UInt64(try reader.fixed32())))
        }
    }
    return fields
}

enum ProtobufFieldValue: Equatable {
    case varint(UInt64)
    case bytes([UInt8])

    var text: String? { if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) } else { return nil } }
    var bytes: [UInt8]? { if case .bytes(let b) = self { return b } else { return nil } }
    var int: UInt64? { if case .varint(let v) = self { return v } else { return nil } }
}
