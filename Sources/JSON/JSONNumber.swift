/// A JSON number, kept as the literal that was sent so nothing is lost.
///
/// Equality and hashing compare the literal text: `1`, `1.0` and `1e0` are
/// different `JSONNumber`s even though they denote the same value.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal exactly as it appeared in the document (always valid RFC 8259 grammar).
    public let text: String

    /// For the parser, which has already checked the grammar.
    init(uncheckedText: String) {
        self.text = uncheckedText
    }

    /// A number from a literal; `nil` unless `literal` is a valid RFC 8259 number
    /// (no leading `+`, no leading zeros, no `NaN`/`Infinity`, no surrounding spaces).
    public init?(literal: String) {
        var copy = literal
        let valid = copy.withUTF8 { JSONNumber.isValidLiteral($0) }
        guard valid else { return nil }
        self.text = literal
    }

    public init(_ value: Int64) {
        self.text = String(value)
    }

    public init(_ value: Int) {
        self.text = String(value)
    }

    /// The shortest literal that reads back as `value`; `nil` for NaN and infinities,
    /// which JSON cannot represent.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.text = value.description
    }

    public var description: String { text }

    /// The value as an `Int64` when it is an exact integer in range.
    ///
    /// A fraction or exponent is fine when the value is still integral (`"2.50e1"` → 25,
    /// `"-0"` → 0); `"1.5"` and `"9223372036854775808"` give `nil`.
    public var int64: Int64? {
        var copy = text
        return copy.withUTF8 { JSONNumber.exactInt64($0) }
    }

    /// The nearest `Double`; `nil` when the magnitude is too large for a finite `Double`.
    public var double: Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}

extension JSONNumber {
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// RFC 8259: `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`, the whole buffer.
    static func isValidLiteral(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = p.count
        var i = 0
        if i < n && p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n else { return false }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(p[i]) {
            while i < n && isDigit(p[i]) { i += 1 }
        } else {
            return false
        }
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n && isDigit(p[i]) else { return false }
            while i < n && isDigit(p[i]) { i += 1 }
        }
        if i < n && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < n && isDigit(p[i]) else { return false }
            while i < n && isDigit(p[i]) { i += 1 }
        }
        return i == n
    }

    /// Exact integer value of a valid literal, or nil (fractional or out of Int64 range).
    static func exactInt64(_ p: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = p.count
        var i = 0
        var negative = false
        if i < n && p[i] == UInt8(ascii: "-") { negative = true; i += 1 }

        // Significant digits (integer and fraction part, leading zeros dropped) as a range
        // walk; we only need their count, position of the last non-zero one, and value.
        var magnitude: UInt64 = 0
        var significant = 0          // digits after the first non-zero digit
        var trailingZeros = 0        // zeros at the end of the digit string
        var fractionDigits = 0
        var overflow = false
        var seenNonZero = false
        var inFraction = false
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: ".") { inFraction = true; i += 1; continue }
            guard isDigit(c) else { break }
            let d = UInt64(c &- 0x30)
            if inFraction { fractionDigits += 1 }
            if d != 0 { seenNonZero = true }
            if seenNonZero {
                significant += 1
                trailingZeros = d == 0 ? trailingZeros + 1 : 0
                if !overflow {
                    let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (m2, o2) = m1.addingReportingOverflow(d)
                    if o1 || o2 { overflow = true } else { magnitude = m2 }
                }
            }
            i += 1
        }
        var exponent = 0
        if i < n && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) {
                expNegative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            while i < n && isDigit(p[i]) {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(p[i] &- 0x30) }
                i += 1
            }
            if expNegative { exponent = -exponent }
        }
        guard seenNonZero else { return 0 }
        // value = digits × 10^(exponent - fractionDigits); strip trailing zeros first.
        var scale = exponent - fractionDigits + trailingZeros
        let kept = significant - trailingZeros
        guard scale >= 0 else { return nil }               // a non-zero fraction remains
        guard kept + scale <= 19 else { return nil }        // ≥ 10^19 cannot fit
        // Recompute the magnitude without the trailing zeros when the first pass overflowed.
        if overflow {
            guard kept <= 19 else { return nil }
            magnitude = 0
            var seen = 0
            var j = negative ? 1 : 0
            var started = false
            while j < n && seen < kept {
                let c = p[j]
                j += 1
                guard isDigit(c) else { continue }
                if c != UInt8(ascii: "0") { started = true }
                guard started else { continue }
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(c &- 0x30))
                if o1 || o2 { return nil }
                magnitude = m2
                seen += 1
            }
            scale = exponent - fractionDigits + trailingZeros
        } else {
            for _ in 0..<trailingZeros { magnitude /= 10 }
        }
        for _ in 0..<scale {
            let (m, o) = magnitude.multipliedReportingOverflow(by: 10)
            if o { return nil }
            magnitude = m
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
