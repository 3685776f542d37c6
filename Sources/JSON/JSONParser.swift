#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Strict RFC 8259 JSON parsing of untrusted input.
///
/// - Input must be UTF-8: overlong forms, UTF-16 surrogates encoded in UTF-8, bytes
///   above `F4` and truncated sequences are rejected. A leading UTF-8 BOM is skipped.
/// - `\u` escapes must form valid scalars: a lone high or low surrogate is **rejected**
///   (not replaced with U+FFFD), so what is stored is exactly what was sent.
/// - Rejected as well: raw control characters (< U+0020) in strings, leading zeros,
///   `NaN`/`Infinity`, `+1`, `.5`, trailing commas, comments, single quotes, and any
///   non-whitespace after the document.
/// - Containers nested deeper than `maxDepth` are rejected; the parser is iterative,
///   so no input can overflow the stack. `maxDepth` is clamped to ``depthCeiling``
///   because dropping and comparing values recurses.
/// - Duplicate object keys: the last value wins (see ``JSONObject``).
/// - Errors carry the byte offset of the offending byte (the lead byte of a bad UTF-8
///   sequence, the backslash of a bad escape).
public enum JSONParser {
    /// Hard upper bound for `maxDepth`.
    public static let depthCeiling = 4096

    /// Parses one whole document.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses one whole document from memory the caller owns (no copy).
    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 64
    ) throws(JSONParseError) -> JSONValue {
        try parseResult(buffer, maxDepth: maxDepth).get()
    }

    /// Parses newline-delimited JSON: one value per line, blank (whitespace-only) lines
    /// skipped. Each non-blank line gets its own result, so one bad line does not spoil
    /// the others. Error offsets are relative to the start of `bytes`.
    public static func parseLines(
        _ bytes: [UInt8], maxDepth: Int = 64
    ) -> [Result<JSONValue, JSONParseError>] {
        bytes.withUnsafeBufferPointer { parseLines($0, maxDepth: maxDepth) }
    }

    /// ``parseLines(_:maxDepth:)`` over memory the caller owns.
    public static func parseLines(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 64
    ) -> [Result<JSONValue, JSONParseError>] {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
        var scanner = JSONScanner(base: base, count: buffer.count, maxDepth: maxDepth)
        var results: [Result<JSONValue, JSONParseError>] = []
        var lineStart = JSONScanner.bomLength(base, buffer.count)
        let count = buffer.count
        while lineStart < count {
            var lineEnd = count
            if let hit = memchr(base + lineStart, 0x0A, count - lineStart) {
                lineEnd = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            scanner.pos = lineStart
            scanner.end = lineEnd
            scanner.skipWhitespace()
            if scanner.pos < lineEnd {
                results.append(scanner.parseDocumentResult())
            }
            lineStart = lineEnd + 1
        }
        return results
    }

    private static func parseResult(
        _ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int
    ) -> Result<JSONValue, JSONParseError> {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return .failure(JSONParseError(offset: 0, message: "unexpected end of input"))
        }
        var scanner = JSONScanner(base: base, count: buffer.count, maxDepth: maxDepth)
        scanner.pos = JSONScanner.bomLength(base, buffer.count)
        return scanner.parseDocumentResult()
    }
}
