import Foundation
import JSON
import TokenmeterCore

/// Typed, bounded access to one event's fields. Every failure names the field. JSON `null` reads as
/// absent. Text never carries NUL (Postgres text cannot hold it): NUL becomes U+FFFD.
struct FieldReader {
    let object: JSONObject
    let index: Int
    let limits: IngestLimits

    private func reject(_ field: String, _ message: String) -> Rejection {
        Rejection(index: index, field: field, error: message)
    }

    private func value(_ name: String) -> JSONValue? {
        guard let value = object[name] else { return nil }
        if case .null = value { return nil }
        return value
    }

    func string(_ name: String, maxBytes: Int) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let s) = value else { throw reject(name, "must be a string") }
        guard s.utf8.count <= maxBytes else { throw reject(name, "is too long (at most \(maxBytes) bytes)") }
        return s
    }

    /// Ids and dimension values: non-empty after trimming, bounded, no control characters.
    func identifier(_ name: String) throws -> String? {
        guard let raw = try string(name, maxBytes: limits.maxStringBytes) else { return nil }
        let s = FieldReader.trimmingSpaces(raw)
        if s.isEmpty { return nil }
        // Control characters are ASCII; every byte of a multi-byte UTF-8 sequence is ≥ 0x80.
        if s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw reject(name, "must not contain control characters")
        }
        return s
    }

    /// `trimmingCharacters(in: .whitespaces)` (spaces, tabs and other space separators) without
    /// Foundation's bridging, which cost a fifth of the ingest CPU; untouched strings are returned as is.
    static func trimmingSpaces(_ s: String) -> String {
        func isSpace(_ c: Unicode.Scalar) -> Bool {
            c == " " || c == "\t" || (c.value >= 0x80 && c.properties.generalCategory == .spaceSeparator)
        }
        let scalars = s.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, isSpace(scalars[start]) { start = scalars.index(after: start) }
        while end > start, isSpace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        if start == scalars.startIndex && end == scalars.endIndex { return s }
        return String(scalars[start..<end])
    }

    func integer(_ name: String, max: Int64) throws -> Int64? {
        guard let value = value(name) else { return nil }
        guard case .number(let number) = value else { throw reject(name, "must be an integer") }
        let integer: Int64
        if let exact = number.int64 {
            integer = exact
        } else if let d = number.double, d.isFinite, d == d.rounded(), abs(d) < 9e18 {
            integer = Int64(d)
        } else {
            throw reject(name, "must be an integer")
        }
        guard integer >= 0 else { throw reject(name, "must not be negative") }
        guard integer <= max else { throw reject(name, "must be at most \(max)") }
        return integer
    }

    func number(_ name: String, max: Double) throws -> Double? {
        guard let value = value(name) else { return nil }
        guard case .number(let number) = value, let d = number.double, d.isFinite else { throw reject(name, "must be a number") }
        guard d >= 0 else { throw reject(name, "must not be negative") }
        guard d <= max else { throw reject(name, "must be at most \(max)") }
        return d
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let b) = value else { throw reject(name, "must be true or false") }
        return b
    }

    /// RFC 3339 string or epoch milliseconds.
    func timestamp(_ name: String, receivedAt: Date) throws -> Date? {
        guard let value = value(name) else { return nil }
        let date: Date
        switch value {
        case .string(let s):
            guard let parsed = Timestamp.parseRFC3339(s) else { throw reject(name, "must be an RFC 3339 timestamp (2026-01-31T12:00:00Z) or epoch milliseconds") }
            date = parsed
        case .number(let n):
            guard let ms = n.double, ms.isFinite else { throw reject(name, "must be an RFC 3339 timestamp or epoch milliseconds") }
            date = Date(timeIntervalSince1970: ms / 1000)
        default:
            throw reject(name, "must be an RFC 3339 timestamp or epoch milliseconds")
        }
        if let problem = limits.timestampProblem(date, receivedAt: receivedAt) { throw reject(name, problem) }
        return date
    }

    func tags(_ name: String) throws -> [String] {
        guard let value = value(name) else { return [] }
        guard case .array(let items) = value else { throw reject(name, "must be an array of strings") }
        guard items.count <= limits.maxTags else { throw reject(name, "has too many entries (at most \(limits.maxTags))") }
        var tags: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw reject(name, "must be an array of strings") }
            guard s.utf8.count <= limits.maxStringBytes else { throw reject(name, "has an entry longer than \(limits.maxStringBytes) bytes") }
            guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                throw reject(name, "must not contain control characters")
            }
            tags.append(s)
        }
        return tags
    }

    /// Free text: a string as is, anything else (e.g. a messages array) as its JSON. Cut at the cap.
    func text(_ name: String, truncated: inout Bool) -> String? {
        guard let value = value(name) else { return nil }
        var s: String
        if case .string(let string) = value {
            s = string
        } else {
            var writer = JSONWriter()
            writer.write(value)
            s = String(decoding: writer.bytes, as: UTF8.self)
        }
        s = FieldReader.withoutNUL(s)
        if s.utf8.count > limits.textCapBytes {
            s = FieldReader.prefix(s, maxBytes: limits.textCapBytes)
            truncated = true
        }
        return s
    }

    /// The `metadata` object plus every unknown top-level field (metadata's own keys win), serialized.
    func metadata(unknownFieldsFrom object: JSONObject, known: Set<String>) throws -> String? {
        var entries: [(String, JSONValue)] = []
        var seen = Set<String>()
        if let value = value("metadata") {
            guard case .object(let meta) = value else { throw reject("metadata", "must be an object") }
            for (key, v) in meta.entries {
                entries.append((key, v))
                seen.insert(key)
            }
        }
        for (key, v) in object.entries where !known.contains(key) && !seen.contains(key) {
            entries.append((key, v))
            seen.insert(key)
        }
        guard !entries.isEmpty else { return nil }
        var writer = JSONWriter()
        writer.write(FieldReader.sanitized(.object(JSONObject(entries))))
        guard writer.bytes.count <= limits.maxMetadataBytes else {
            throw reject("metadata", "is too large (at most \(limits.maxMetadataBytes) bytes, unknown fields included)")
        }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func withoutNUL(_ s: String) -> String {
        guard s.utf8.contains(0) else { return s }
        return String(s.unicodeScalars.map { $0.value == 0 ? "\u{FFFD}" : Character($0) })
    }

    /// jsonb rejects \u0000 anywhere, keys included.
    static func sanitized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(withoutNUL(s))
        case .array(let items): return .array(items.map(sanitized))
        case .object(let object): return .object(JSONObject(object.entries.map { (withoutNUL($0.key), sanitized($0.value)) }))
        default: return value
        }
    }

    /// The longest prefix of `s` that fits in `maxBytes` of UTF-8 without splitting a character.
    static func prefix(_ s: String, maxBytes: Int) -> String {
        var bytes = 0
        var end = s.unicodeScalars.startIndex
        for index in s.unicodeScalars.indices {
            let width = UTF8.width(s.unicodeScalars[index])
            if bytes + width > maxBytes { break }
            bytes += width
            end = s.unicodeScalars.index(after: index)
        }
        return String(s.unicodeScalars[s.unicodeScalars.startIndex..<end])
    }
}
