import Foundation

/// A value bound as a query parameter.
///
/// Every case except `.bytes` is sent in text format; `.bytes` is sent in binary so bytea needs
/// no hex round trip. Parameter types sent to the server:
/// - `.text` and `.null`: unspecified (OID 0), so the server infers the type from context;
///   a string can go into text, varchar, uuid, jsonb, numeric ... columns without a cast.
/// - `.int` → int8, `.double` → float8, `.bool` → bool, `.bytes` → bytea,
///   `.timestamp` → timestamptz (UTC, microseconds), `.textArray` → text[].
///   Functions that only take int4 (for example `repeat`) need an explicit `$1::int`.
public enum PostgresValue: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytes([UInt8])
    case timestamp(Date)
    case textArray([String])
}

extension PostgresValue: CustomStringConvertible {
    /// Names the kind of value only, so logging a query never leaks its data.
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .text: return "<text>"
        case .int: return "<int8>"
        case .double: return "<float8>"
        case .bool: return "<bool>"
        case .bytes(let b): return "<bytea \(b.count) bytes>"
        case .timestamp: return "<timestamptz>"
        case .textArray(let a): return "<text[] \(a.count) elements>"
        }
    }
}

/// Postgres type OIDs used for parameters and for naming column types.
enum PostgresOID {
    static let unspecified: UInt32 = 0
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let int8: UInt32 = 20
    static let float8: UInt32 = 701
    static let textArray: UInt32 = 1009
    static let timestamptz: UInt32 = 1184
}

extension PostgresValue {
    /// The wire form of this parameter: type OID, format (0 text, 1 binary) and the bytes
    /// (text values get no terminator here; the encoder adds one). nil bytes means SQL NULL.
    var wireForm: (oid: UInt32, format: Int32, bytes: [UInt8]?) {
        switch self {
        case .null: return (PostgresOID.unspecified, 0, nil)
        case .text(let s): return (PostgresOID.unspecified, 0, Array(s.utf8))
        case .int(let i): return (PostgresOID.int8, 0, Array(String(i).utf8))
        case .double(let d): return (PostgresOID.float8, 0, Array(PostgresText.double(d).utf8))
        case .bool(let b): return (PostgresOID.bool, 0, Array((b ? "true" : "false").utf8))
        case .bytes(let b): return (PostgresOID.bytea, 1, b)
        case .timestamp(let date): return (PostgresOID.timestamptz, 0, Array(PostgresTimestamp.format(date).utf8))
        case .textArray(let a): return (PostgresOID.textArray, 0, Array(PostgresText.arrayLiteral(a).utf8))
        }
    }
}

/// Text forms shared by binds and COPY.
enum PostgresText {
    /// Shortest text that float8 input parses back to the same Double.
    static func double(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return "\(d)"
    }

    /// `{"a","b\"c"}`: every element quoted so empty strings, NULL-looking text, commas,
    /// braces and whitespace survive; backslash and double quote are escaped.
    static func arrayLiteral(_ elements: [String]) -> String {
        var out = "{"
        for (i, element) in elements.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in element.unicodeScalars {
                if ch == "\\" || ch == "\"" { out.unicodeScalars.append("\\") }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    /// Parses a one-dimensional array in Postgres text output (`{a,"b c",NULL}`).
    /// Returns nil for malformed or multi-dimensional input; NULL elements come back as nil.
    static func parseArray(_ text: String) -> [String?]? {
        var bytes = Array(text.utf8)[...]
        // Arrays with non-default bounds are printed as "[0:1]={...}".
        if bytes.first == UInt8(ascii: "[") {
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            bytes = bytes[(eq + 1)...]
        }
        guard bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        bytes = bytes.dropFirst().dropLast()
        if bytes.isEmpty { return [] }
        var result: [String?] = []
        var i = bytes.startIndex
        while true {
            var element: [UInt8] = []
            var quoted = false
            if i < bytes.endIndex, bytes[i] == UInt8(ascii: "\"") {
                quoted = true
                i += 1
                while true {
                    guard i < bytes.endIndex else { return nil }
                    let b = bytes[i]
                    if b == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.endIndex else { return nil }
                        element.append(bytes[i + 1]); i += 2
                    } else if b == UInt8(ascii: "\"") {
                        i += 1; break
                    } else {
                        element.append(b); i += 1
                    }
                }
            } else {
                while i < bytes.endIndex, bytes[i] != UInt8(ascii: ",") {
                    let b = bytes[i]
                    if b == UInt8(ascii: "{") || b == UInt8(ascii: "\"") { return nil }  // nested or malformed
                    if b == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.endIndex else { return nil }
                        element.append(bytes[i + 1]); i += 2
                    } else {
                        element.append(b); i += 1
                    }
                }
            }
            let string = String(decoding: element, as: UTF8.self)
            result.append(!quoted && string == "NULL" ? nil : string)
            if i == bytes.endIndex { return result }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// bytea hex output form: `\x0a1b...`.
    static func byteaHex(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(2 + bytes.count * 2)
        out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "x"))
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses bytea text output in either `hex` or the legacy `escape` format.
    static func parseBytea(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") {
            guard utf8.count % 2 == 0 else { return nil }
            var out = [UInt8]()
            out.reserveCapacity((utf8.count - 2) / 2)
            var i = 2
            while i < utf8.count {
                guard let hi = hexValue(utf8[i]), let lo = hexValue(utf8[i + 1]) else { return nil }
                out.append(hi << 4 | lo)
                i += 2
            }
            return out
        }
        var out = [UInt8]()
        var i = 0
        while i < utf8.count {
            if utf8[i] != UInt8(ascii: "\\") { out.append(utf8[i]); i += 1; continue }
            if i + 1 < utf8.count, utf8[i + 1] == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")); i += 2; continue }
            guard i + 3 < utf8.count else { return nil }
            var value = 0
            for k in 1...3 {
                let d = utf8[i + k]
                guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "7") else { return nil }
                value = value * 8 + Int(d - UInt8(ascii: "0"))
            }
            guard value <= 255 else { return nil }
            out.append(UInt8(value))
            i += 4
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
