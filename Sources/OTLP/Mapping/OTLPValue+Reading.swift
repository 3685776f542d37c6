import Foundation
import JSON

extension OTLPValue {
    /// Scalars as text (ids are sometimes sent as numbers); nil for empty, bytes and containers.
    var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : nil
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// A count: an int, an integral double (JavaScript exporters send numbers as doubles) or a
    /// decimal string (some libraries stringify). `.failure` for anything else.
    var integer: Result<Int64, IntegerProblem> {
        switch self {
        case .int(let i): return .success(i)
        case .double(let d):
            guard d.isFinite, d == d.rounded(), abs(d) < 9e18 else { return .failure(.notAnInteger) }
            return .success(Int64(d))
        case .string(let s):
            guard let i = Int64(s.trimmingCharacters(in: .whitespaces)) else { return .failure(.notAnInteger) }
            return .success(i)
        default: return .failure(.notAnInteger)
        }
    }

    enum IntegerProblem: Error { case notAnInteger }

    /// A number (for seconds, milliseconds and dollars).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d.isFinite ? d : nil
        case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        default: return nil
        }
    }

    /// The value as JSON: kvlists become objects, bytes base64 strings, non-finite doubles null.
    var json: JSONValue {
        switch self {
        case .empty: return .null
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .int(let i): return .number(JSONNumber(i))
        case .double(let d): return JSONNumber(d).map(JSONValue.number) ?? .null
        case .bytes(let b): return .string(Data(b).base64EncodedString())
        case .array(let items): return .array(items.map(\.json))
        case .kvlist(let entries): return .object(JSONObject(entries.map { ($0.key, $0.value.json) }))
        }
    }

    /// Free text: a string as sent (often already JSON), anything else serialized as JSON.
    var text: String? {
        switch self {
        case .empty: return nil
        case .string(let s): return s
        default: return String(decoding: JSONWriter.bytes(for: json), as: UTF8.self)
        }
    }

    /// A string that holds JSON (Langfuse and Vercel serialize objects into attributes), parsed.
    var embeddedJSON: JSONValue? {
        switch self {
        case .string(let s): return try? JSONParser.parse(Array(s.utf8))
        case .kvlist, .array: return json
        default: return nil
        }
    }
}
