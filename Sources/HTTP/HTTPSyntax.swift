/// Byte classes from RFC 9110 §5.6.
enum HTTPSyntax {
    /// tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// field-vchar / SP / HTAB, with obs-text (0x80–0xFF) allowed: everything but CTLs and DEL.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 ? byte != 0x7F : byte == 0x09
    }

    /// Visible ASCII, as allowed in a request target.
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    @inline(__always)
    static func isOWS(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09
    }
}

/// Strips leading and trailing spaces and tabs.
func trimOWS<C: BidirectionalCollection>(_ bytes: C) -> C.SubSequence where C.Element == UInt8 {
    var slice = bytes[...]
    while let first = slice.first, HTTPSyntax.isOWS(first) { slice = slice.dropFirst() }
    while let last = slice.last, HTTPSyntax.isOWS(last) { slice = slice.dropLast() }
    return slice
}

/// Compares bytes to a lowercase ASCII literal made of letters, digits and '-', ignoring case.
@inline(__always)
func bytesEqualLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ lowercase: StaticString) -> Bool {
    guard end - start == lowercase.utf8CodeUnitCount else { return false }
    let literal = lowercase.utf8Start
    var index = 0
    while index < end - start {
        var byte = bytes[start + index]
        if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
        if byte != literal[index] { return false }
        index += 1
    }
    return true
}
