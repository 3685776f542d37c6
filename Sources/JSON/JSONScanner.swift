/// The parsing engine: an iterative parser over a raw buffer.
///
/// Every read is guarded by `pos < end` (or an explicit `+ k <= end`); containers are
/// tracked on heap stacks (`frames`, `values`, `keys`) instead of recursion.
struct JSONScanner {
    private struct Frame {
        var isObject: Bool
        var valueStart: Int
        var keyStart: Int
    }

    let base: UnsafePointer<UInt8>
    var pos: Int
    var end: Int
    let maxDepth: Int
    private var frames: [Frame] = []
    private let values = MoveStack<JSONValue>()
    private let keys = MoveStack<String>()
    /// One ``JSONObject/keySignature(_:_:)`` per entry of `keys`.
    private let keySignatures = MoveStack<UInt64>()
    private var scratch: [UInt8] = []

    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.base = base
        self.pos = 0
        self.end = count
        self.maxDepth = max(0, min(maxDepth, JSONParser.depthCeiling))
    }

    static func bomLength(_ base: UnsafePointer<UInt8>, _ count: Int) -> Int {
        count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF ? 3 : 0
    }

    // MARK: - Errors

    private func fail(_ message: String, at offset: Int) -> JSONParseError {
        JSONParseError(offset: offset, message: message)
    }

    private func endOfInput() -> JSONParseError {
        JSONParseError(offset: end, message: "unexpected end of input")
    }

    private func unexpected(at offset: Int, expecting: String) -> JSONParseError {
        JSONParseError(
            offset: offset,
            message: "unexpected \(JSONParseError.describe(byte: base[offset])), expected \(expecting)")
    }

    // MARK: - Document

    /// Parses the value at `pos` and requires only whitespace up to `end`.
    mutating func parseDocumentResult() -> Result<JSONValue, JSONParseError> {
        do throws(JSONParseError) {
            let value = try parseValue()
            skipWhitespace()
            if pos < end {
                throw fail(
                    "unexpected \(JSONParseError.describe(byte: base[pos])) after the JSON value",
                    at: pos)
            }
            return .success(value)
        } catch {
            frames.removeAll(keepingCapacity: true)
            values.removeAll()
            keys.removeAll()
            keySignatures.removeAll()
            return .failure(error)
        }
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var value: JSONValue
        nextValue: while true {
            skipWhitespace()
            guard pos < end else { throw endOfInput() }
            switch base[pos] {
            case UInt8(ascii: "{"):
                guard frames.count < maxDepth else {
                    throw fail("nesting deeper than \(maxDepth) levels", at: pos)
                }
                pos += 1
                skipWhitespace()
                guard pos < end else { throw endOfInput() }
                if base[pos] == UInt8(ascii: "}") {
                    pos += 1
                    value = .object(JSONObject())
                } else {
                    frames.append(Frame(isObject: true, valueStart: values.count, keyStart: keys.count))
                    try parseKeyAndColon(afterComma: false)
                    continue nextValue
                }
            case UInt8(ascii: "["):
                guard frames.count < maxDepth else {
                    throw fail("nesting deeper than \(maxDepth) levels", at: pos)
                }
                pos += 1
                skipWhitespace()
                guard pos < end else { throw endOfInput() }
                if base[pos] == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false, valueStart: values.count, keyStart: keys.count))
                    continue nextValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString(signature: false))
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try parseNumber())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case UInt8(ascii: "]") where frames.last.map({ !$0.isObject && values.count > $0.valueStart }) == true:
                throw fail("trailing comma in array", at: pos)
            default:
                throw unexpected(at: pos, expecting: "a JSON value")
            }

            // A value is complete: hand it to the enclosing containers, closing as many as end here.
            while true {
                guard let frame = frames.last else { return value }
                values.push(value)
                skipWhitespace()
                guard pos < end else { throw endOfInput() }
                let c = base[pos]
                if frame.isObject {
                    if c == UInt8(ascii: ",") {
                        pos += 1
                        try parseKeyAndColon(afterComma: true)
                        continue nextValue
                    }
                    guard c == UInt8(ascii: "}") else {
                        throw unexpected(at: pos, expecting: "',' or '}'")
                    }
                    pos += 1
                    let n = keys.count - frame.keyStart
                    value = .object(JSONObject(
                        movingKeys: keys.base + frame.keyStart, values: values.base + frame.valueStart,
                        signatures: keySignatures.base + frame.keyStart, count: n))
                    keys.dropMoved(from: frame.keyStart)
                    keySignatures.dropMoved(from: frame.keyStart)
                    values.dropMoved(from: frame.valueStart)
                } else {
                    if c == UInt8(ascii: ",") {
                        pos += 1
                        continue nextValue
                    }
                    guard c == UInt8(ascii: "]") else {
                        throw unexpected(at: pos, expecting: "',' or ']'")
                    }
                    pos += 1
                    value = .array(values.popArray(from: frame.valueStart))
                }
                frames.removeLast()
            }
        }
    }

    private mutating func parseKeyAndColon(afterComma: Bool) throws(JSONParseError) {
        skipWhitespace()
        guard pos < end else { throw endOfInput() }
        guard base[pos] == UInt8(ascii: "\"") else {
            if afterComma && base[pos] == UInt8(ascii: "}") {
                throw fail("trailing comma in object", at: pos)
            }
            throw unexpected(at: pos, expecting: "'\"' to start an object key")
        }
        keys.push(try parseString(signature: true))
        skipWhitespace()
        guard pos < end else { throw endOfInput() }
        guard base[pos] == UInt8(ascii: ":") else {
            throw unexpected(at: pos, expecting: "':' after an object key")
        }
        pos += 1
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let bytes = literal.utf8Start
        for k in 0..<count {
            guard pos + k < end else { throw endOfInput() }
            guard base[pos + k] == bytes[k] else {
                throw unexpected(at: pos + k, expecting: "'\(literal)'")
            }
        }
        pos += count
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = pos
        if base[pos] == UInt8(ascii: "-") {
            pos += 1
            guard pos < end else { throw endOfInput() }
        }
        let first = base[pos]
        if first == UInt8(ascii: "0") {
            pos += 1
            if pos < end && JSONNumber.isDigit(base[pos]) {
                throw fail("leading zeros are not allowed", at: pos)
            }
        } else if JSONNumber.isDigit(first) {
            pos += 1
            while pos < end && JSONNumber.isDigit(base[pos]) { pos += 1 }
        } else {
            throw unexpected(at: pos, expecting: "a digit")
        }
        if pos < end && base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < end else { throw endOfInput() }
            guard JSONNumber.isDigit(base[pos]) else {
                throw unexpected(at: pos, expecting: "a digit after the decimal point")
            }
            while pos < end && JSONNumber.isDigit(base[pos]) { pos += 1 }
        }
        if pos < end && (base[pos] | 0x20) == UInt8(ascii: "e") {
            pos += 1
            guard pos < end else { throw endOfInput() }
            if base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-") {
                pos += 1
                guard pos < end else { throw endOfInput() }
            }
            guard JSONNumber.isDigit(base[pos]) else {
                throw unexpected(at: pos, expecting: "a digit in the exponent")
            }
            while pos < end && JSONNumber.isDigit(base[pos]) { pos += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        return JSONNumber(uncheckedText: text)
    }

    // MARK: - Strings

    /// `pos` is at the opening quote; leaves `pos` after the closing quote. With
    /// `signature`, pushes the key signature of the decoded bytes onto `keySignatures`.
    private mutating func parseString(signature: Bool) throws(JSONParseError) -> String {
        let start = pos + 1
        var i = try scanRun(from: start)
        if base[i] == UInt8(ascii: "\"") {
            pos = i + 1
            if signature { keySignatures.push(JSONObject.keySignature(base + start, i - start)) }
            return String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
        }
        // Slow path: at least one escape. Decode into the reusable scratch buffer.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
        while true {
            if base[i] == UInt8(ascii: "\"") {
                pos = i + 1
                if signature {
                    let sig = scratch.withUnsafeBufferPointer { JSONObject.keySignature($0.baseAddress!, $0.count) }
                    keySignatures.push(sig)
                }
                return String(decoding: scratch, as: UTF8.self)
            }
            i = try decodeEscape(at: i)
            let runStart = i
            i = try scanRun(from: i)
            scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
        }
    }

    /// Skips plain string bytes (validating UTF-8) and returns the index of the next
    /// `"` or `\`. Throws on a control character, bad UTF-8 or end of input.
    @inline(__always)
    private func scanRun(from start: Int) throws(JSONParseError) -> Int {
        var i = start
        while true {
            // Eight bytes at a time while none is '"', '\', < 0x20 or ≥ 0x80.
            while i &+ 8 <= end {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                let special = JSONScanner.specialBytes(word)
                if special == 0 {
                    i &+= 8
                } else {
                    i &+= special.trailingZeroBitCount &>> 3
                    break
                }
            }
            guard i < end else { throw fail("unexpected end of input in a string", at: end) }
            let c = base[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return i }
            if c < 0x20 {
                throw fail("unescaped control character \(JSONParseError.describe(byte: c)) in a string", at: i)
            }
            if c >= 0x80 {
                i = try validateUTF8Sequence(at: i)
            } else {
                i &+= 1
            }
        }
    }

    /// A mask whose lowest set bit marks the first byte that is `"`, `\`, < 0x20 or ≥ 0x80
    /// (higher bits may be false positives; only the lowest is used).
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22)
        let backslash = w ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote & highs
        let zeroBackslash = (backslash &- ones) & ~backslash & highs
        let control = (w &- (ones &* 0x20)) & ~w & highs
        return zeroQuote | zeroBackslash | control | (w & highs)
    }

    /// `i` is at a backslash; appends the decoded character and returns the index after the escape.
    private mutating func decodeEscape(at i: Int) throws(JSONParseError) -> Int {
        guard i + 1 < end else { throw fail("unexpected end of input in a string", at: end) }
        let e = base[i + 1]
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i + 2)
            var scalar = UInt32(unit)
            var next = i + 6
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard next + 1 < end, base[next] == UInt8(ascii: "\\"), base[next + 1] == UInt8(ascii: "u") else {
                    throw fail("lone high surrogate escape", at: i)
                }
                let low = try hex4(at: next + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail("lone high surrogate escape", at: i)
                }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                next += 6
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw fail("lone low surrogate escape", at: i)
            }
            appendUTF8(scalar)
            return next
        default:
            throw fail("invalid escape \\\(Character(Unicode.Scalar(e < 0x80 ? e : 0x3F)))", at: i)
        }
        return i + 2
    }

    private func hex4(at k: Int) throws(JSONParseError) -> UInt16 {
        var unit: UInt16 = 0
        for j in k..<k + 4 {
            guard j < end else { throw fail("unexpected end of input in a string", at: end) }
            let c = base[j]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw unexpected(at: j, expecting: "a hex digit in a \\u escape")
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// `i` is at a byte ≥ 0x80; returns the index after a well-formed sequence
    /// (RFC 3629 §4 table) or throws with the lead byte's offset.
    @inline(__always)
    private func validateUTF8Sequence(at i: Int) throws(JSONParseError) -> Int {
        let lead = base[i]
        @inline(__always) func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            k < end && base[k] >= low && base[k] <= high
        }
        let length: Int
        let ok: Bool
        switch lead {
        case 0xC2...0xDF:
            length = 2
            ok = continuation(i + 1)
        case 0xE0:
            length = 3
            ok = continuation(i + 1, 0xA0) && continuation(i + 2)
        case 0xE1...0xEC, 0xEE...0xEF:
            length = 3
            ok = continuation(i + 1) && continuation(i + 2)
        case 0xED:
            length = 3
            ok = continuation(i + 1, 0x80, 0x9F) && continuation(i + 2)
        case 0xF0:
            length = 4
            ok = continuation(i + 1, 0x90) && continuation(i + 2) && continuation(i + 3)
        case 0xF1...0xF3:
            length = 4
            ok = continuation(i + 1) && continuation(i + 2) && continuation(i + 3)
        case 0xF4:
            length = 4
            ok = continuation(i + 1, 0x80, 0x8F) && continuation(i + 2) && continuation(i + 3)
        default:
            length = 0
            ok = false
        }
        guard ok else { throw fail("invalid UTF-8", at: i) }
        return i + length
    }
}
