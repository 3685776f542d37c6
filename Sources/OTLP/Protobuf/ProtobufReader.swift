/// Why bytes could not be read as a protobuf message. The offset points at the offending byte.
public struct ProtobufError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}

/// The protobuf wire types. Groups (3, 4) are not used by OTLP and are refused.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// A cursor over one protobuf message inside a byte array, for untrusted input.
///
/// - Every read checks the remaining bytes first, so truncated input is an error, never a trap.
/// - A length prefix is checked against the bytes that are really left before anything is
///   sliced, so no declared length can make the reader allocate or read beyond the input.
/// - Every call consumes at least one byte or throws, so no input can make a decoding loop spin.
/// - Nested messages are opened with ``message(at:)``, which counts depth; past `maxDepth` the
///   input is refused, so recursion is bounded whatever the bytes say.
/// - Unknown fields are skipped by wire type (``skip(_:)``).
public struct ProtobufReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int
    public let depth: Int
    public let maxDepth: Int

    public init(_ bytes: [UInt8], maxDepth: Int = 32) {
        self.init(bytes: bytes, range: 0..<bytes.count, depth: 0, maxDepth: maxDepth)
    }

    private init(bytes: [UInt8], range: Range<Int>, depth: Int, maxDepth: Int) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.depth = depth
        self.maxDepth = maxDepth
    }

    public var isAtEnd: Bool { position >= end }

    private func error(_ message: String, at offset: Int? = nil) -> ProtobufError {
        ProtobufError(offset: offset ?? position, message: message)
    }

    /// The next field's number and wire type, or nil at the end of the message.
    public mutating func nextField() throws(ProtobufError) -> (number: UInt32, wireType: WireType)? {
        guard position < end else { return nil }
        let start = position
        let key = try varint()
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else { throw error("invalid field number \(number)", at: start) }
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw error("unsupported wire type \(key & 7) for field \(number)", at: start)
        }
        return (UInt32(number), wireType)
    }

    /// A base-128 varint of at most 10 bytes.
    public mutating func varint() throws(ProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else { throw error("truncated varint", at: start) }
            let byte = bytes[position]
            position += 1
            if shift == 63, byte > 1 { throw error("varint overflows 64 bits", at: start) }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error("varint longer than 10 bytes", at: start) }
        }
    }

    public mutating func fixed64() throws(ProtobufError) -> UInt64 {
        guard end - position >= 8 else { throw error("truncated fixed64") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    public mutating func fixed32() throws(ProtobufError) -> UInt32 {
        guard end - position >= 4 else { throw error("truncated fixed32") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    /// The byte range of a length-delimited field's payload (already checked against the input).
    public mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
        let start = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw error("length \(length) runs past the end of the message (\(end - position) bytes left)", at: start)
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A nested message's reader over `range` (from ``lengthDelimited()``), one level deeper.
    public func message(at range: Range<Int>) throws(ProtobufError) -> ProtobufReader {
        guard depth + 1 <= maxDepth else { throw error("messages nested deeper than \(maxDepth)", at: range.lowerBound) }
        return ProtobufReader(bytes: bytes, range: range, depth: depth + 1, maxDepth: maxDepth)
    }

    /// A length-delimited field read as a nested message.
    /// The embedded message of a field that must be length-delimited (wire type checked first).
    public mutating func message(_ actual: WireType, field: UInt32) throws(ProtobufError) -> ProtobufReader {
        try expect(.lengthDelimited, actual, field: field)
        return try message()
    }

    public mutating func message() throws(ProtobufError) -> ProtobufReader {
        try message(at: lengthDelimited())
    }

    /// A length-delimited field as UTF-8 text; invalid sequences become U+FFFD and NUL too
    /// (Postgres text cannot hold NUL).
    public mutating func string() throws(ProtobufError) -> String {
        let range = try lengthDelimited()
        return Self.text(bytes[range])
    }

    /// A length-delimited field's bytes.
    public mutating func data() throws(ProtobufError) -> ArraySlice<UInt8> {
        bytes[try lengthDelimited()]
    }

    /// Skips a field's payload by its wire type.
    public mutating func skip(_ wireType: WireType) throws(ProtobufError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        }
    }

    /// Refuses a field whose wire type is not the one its number requires.
    public func expect(_ wireType: WireType, _ actual: WireType, field: UInt32) throws(ProtobufError) {
        guard wireType == actual else { throw error("field \(field) has wire type \(actual.rawValue), expected \(wireType.rawValue)") }
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        replacingNUL(String(decoding: bytes, as: UTF8.self))
    }
}
