/// Writes compact JSON into a byte buffer, either whole values or piece by piece.
///
/// Commas and colons are inserted automatically: inside an object call ``key(_:)``
/// before each value; inside an array just write the values. Strings are escaped
/// minimally (`"`, `\`, and control characters; the short forms `\n \r \t \b \f`,
/// otherwise `\u00XX`); other characters, including non-ASCII, stay as UTF-8.
/// Doubles are written in their shortest round-trip form; NaN and infinities, which JSON
/// cannot express, become `null`.
///
/// Calls out of order (a value in an object without a key, unbalanced `end…`) are a
/// programming error; they produce invalid JSON rather than trapping.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8]
    /// One flag per open container: has it already got an element (so the next needs a comma)?
    private var hasElement: [Bool] = []
    private var afterKey = false

    public init() {
        bytes = []
    }

    public init(reservingCapacity capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// `value` as compact JSON.
    public static func bytes(for value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes
    }

    @inline(__always)
    private mutating func beforeValue() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = hasElement.indices.last else { return }
        if hasElement[last] {
            bytes.append(UInt8(ascii: ","))
        } else {
            hasElement[last] = true
        }
    }

    // MARK: - Streaming

    public mutating func beginObject() {
        beforeValue()
        bytes.append(UInt8(ascii: "{"))
        hasElement.append(false)
    }

    public mutating func endObject() {
        _ = hasElement.popLast()
        afterKey = false
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        beforeValue()
        bytes.append(UInt8(ascii: "["))
        hasElement.append(false)
    }

    public mutating func endArray() {
        _ = hasElement.popLast()
        afterKey = false
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object member name encoded once (quoted, escaped, with its colon), for names written in
    /// every row of a long answer: escaping the same name per row was a seventh of the time spent
    /// answering a 1,000-row usage breakdown.
    public struct Key: Sendable {
        @usableFromInline let encoded: [UInt8]

        public init(_ name: String) {
            var writer = JSONWriter()
            writer.appendQuoted(name)
            writer.bytes.append(UInt8(ascii: ":"))
            encoded = writer.bytes
        }
    }

    /// An object member name encoded beforehand; the next value written belongs to it.
    public mutating func key(_ key: Key) {
        beforeValue()
        bytes.append(contentsOf: key.encoded)
        afterKey = true
    }

    /// An object member name; the next value written belongs to it.
    public mutating func key(_ k: String) {
        beforeValue()
        appendQuoted(k)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ s: String) {
        beforeValue()
        appendQuoted(s)
    }

    public mutating func int(_ v: Int64) {
        beforeValue()
        appendInteger(v)
    }

    public mutating func int(_ v: Int) {
        int(Int64(v))
    }

    /// Shortest round-trip form; NaN and ±infinity are written as `null`.
    public mutating func double(_ v: Double) {
        beforeValue()
        if v.isFinite {
            bytes.append(contentsOf: v.description.utf8)
        } else {
            appendNull()
        }
    }

    public mutating func bool(_ v: Bool) {
        beforeValue()
        if v {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    public mutating func null() {
        beforeValue()
        appendNull()
    }

    /// A number literal written as is (e.g. an exact decimal). A literal that is not a
    /// valid RFC 8259 number is written as `null` so the output stays valid JSON.
    public mutating func rawNumber(_ literal: String) {
        beforeValue()
        var copy = literal
        if copy.withUTF8({ JSONNumber.isValidLiteral($0) }) {
            bytes.append(contentsOf: literal.utf8)
        } else {
            appendNull()
        }
    }

    // MARK: - Whole values

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            null()
        case .bool(let b):
            bool(b)
        case .number(let n):
            beforeValue()
            bytes.append(contentsOf: n.text.utf8)
        case .string(let s):
            string(s)
        case .array(let elements):
            beginArray()
            for element in elements { write(element) }
            endArray()
        case .object(let object):
            beginObject()
            for (k, v) in object.entries {
                key(k)
                write(v)
            }
            endObject()
        }
    }

    // MARK: - Encoding

    private mutating func appendNull() {
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    private mutating func appendInteger(_ v: Int64) {
        var magnitude = v.magnitude
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var i = start + digits - 1
        repeat {
            bytes[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            i -= 1
        } while magnitude > 0
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { p in
            var runStart = 0
            for i in 0..<p.count {
                let c = p[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[runStart..<i])) }
                runStart = i + 1
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
                case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        JSONWriter.hexDigits[Int(c >> 4)], JSONWriter.hexDigits[Int(c & 0xF)],
                    ])
                }
            }
            if runStart < p.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[runStart...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
