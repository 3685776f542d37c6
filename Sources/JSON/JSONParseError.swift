/// Why a JSON document was rejected, and where.
///
/// `offset` is a 0-based byte offset into the buffer given to the parser (for
/// ``JSONParser/parseLines(_:maxDepth:)`` too, so it points into the whole body,
/// not into the line). A UTF-8 BOM, when present, is counted.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the offending byte; the input length for "unexpected end of input".
    public let offset: Int
    /// What is wrong, without the position, e.g. "unexpected end of input".
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// e.g. "unexpected end of input at byte 1042".
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONParseError {
    static func describe(byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
