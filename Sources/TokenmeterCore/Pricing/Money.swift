/// An exact amount of US dollars in integer picodollars (1 pd = 10⁻¹² USD).
///
/// Range is ±9,223,372.036854775807 USD (`Int64`); `+` and `-` trap on overflow like
/// integer arithmetic, so sums over very large populations should use
/// ``adding(_:)`` and handle `nil`.
public struct Money: Sendable, Hashable, Comparable, AdditiveArithmetic, CustomStringConvertible, Codable {
    public var picodollars: Int64

    public static let picodollarsPerDollar: Int64 = 1_000_000_000_000

    public init(picodollars: Int64) {
        self.picodollars = picodollars
    }

    /// The nearest picodollar to the shortest decimal form of `usd` (so `0.15` is exactly
    /// 15 cents, not the binary value 0.1499999…). Halves round to even.
    /// `nil` for NaN, infinities and amounts outside the `Int64` picodollar range.
    public init?(usd: Double) {
        guard usd.isFinite else { return nil }
        self.init(decimalString: usd.description)
    }

    /// Parses an exact decimal such as `"0.15"`, `"2.5"`, `"-3"`, `"0.000001"` or `"1e-3"`.
    ///
    /// Grammar: optional `-`, digits with an optional `.` and fraction (at least one digit
    /// overall), optional exponent `e`/`E` with optional sign. No `+`, spaces or
    /// thousands separators. Digits below a picodollar (> 12 fraction digits) are
    /// **rounded half-to-even**. `nil` when malformed or out of range.
    public init?(decimalString: String) {
        guard let value = DecimalParser.picodollars(decimalString) else { return nil }
        self.picodollars = value
    }

    /// Exact decimal dollars with trailing zeros trimmed: `"0.00015"`, `"3"`, `"-0.000000000001"`.
    public var usdString: String {
        let magnitude = picodollars.magnitude
        let unit = UInt64(Money.picodollarsPerDollar)
        let whole = magnitude / unit
        var fraction = magnitude % unit
        var text = picodollars < 0 ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            var digits = 12
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    public var description: String { usdString }

    /// The amount as a `Double` number of dollars, for display and charts only.
    public var usd: Double { Double(picodollars) / 1e12 }

    public static var zero: Money { Money(picodollars: 0) }

    public static func + (lhs: Money, rhs: Money) -> Money {
        Money(picodollars: lhs.picodollars + rhs.picodollars)
    }

    public static func - (lhs: Money, rhs: Money) -> Money {
        Money(picodollars: lhs.picodollars - rhs.picodollars)
    }

    /// `self + other`, or `nil` on overflow.
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = picodollars.addingReportingOverflow(other.picodollars)
        return overflow ? nil : Money(picodollars: sum)
    }

    public static func < (lhs: Money, rhs: Money) -> Bool {
        lhs.picodollars < rhs.picodollars
    }

    /// Encoded as the exact decimal string (``usdString``); decodes a decimal string, or a
    /// plain number as a fallback (rounded like ``init(usd:)``).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let money = Money(decimalString: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "invalid decimal amount \"\(text)\"")
            }
            self = money
        } else {
            let number = try container.decode(Double.self)
            guard let money = Money(usd: number) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "amount \(number) is out of range")
            }
            self = money
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(usdString)
    }
}

/// Exact decimal → picodollars, without going through binary floating point.
enum DecimalParser {
    static func picodollars(_ text: String) -> Int64? {
        var digits: [UInt8] = []       // significant digits, leading zeros dropped
        var fractionDigits = 0
        var negative = false
        var sawDigit = false
        var sawPoint = false
        var exponent = 0
        var utf8 = text.utf8[...]

        if utf8.first == UInt8(ascii: "-") {
            negative = true
            utf8 = utf8.dropFirst()
        }
        while let c = utf8.first {
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                sawDigit = true
                if !(digits.isEmpty && c == UInt8(ascii: "0")) { digits.append(c - UInt8(ascii: "0")) }
                if sawPoint { fractionDigits += 1 }
            } else if c == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            utf8 = utf8.dropFirst()
        }
        guard sawDigit else { return nil }
        if let c = utf8.first, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            utf8 = utf8.dropFirst()
            var expNegative = false
            if let s = utf8.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                expNegative = s == UInt8(ascii: "-")
                utf8 = utf8.dropFirst()
            }
            var sawExpDigit = false
            while let d = utf8.first, d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
                sawExpDigit = true
                if exponent < 100_000 { exponent = exponent * 10 + Int(d - UInt8(ascii: "0")) }
                utf8 = utf8.dropFirst()
            }
            guard sawExpDigit else { return nil }
            if expNegative { exponent = -exponent }
        }
        guard utf8.isEmpty else { return nil }
        if digits.isEmpty { return 0 }

        // value = D × 10^(exponent − fractionDigits) dollars = D × 10^shift picodollars.
        let shift = exponent - fractionDigits + 12
        var magnitude: UInt64 = 0
        let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        // Digits kept before the decimal point of the picodollar amount; the rest round.
        let keptCount = shift >= 0 ? digits.count : digits.count + shift
        if keptCount > 19 { return nil }   // ≥ 10^19 pd, beyond Int64
        for d in digits.prefix(max(0, keptCount)) {
            magnitude = magnitude * 10 + UInt64(d)   // ≤ 19 digits: cannot overflow UInt64
        }
        if shift > 0 {
            for _ in 0..<shift {
                let (m, o) = magnitude.multipliedReportingOverflow(by: 10)
                if o { return nil }
                magnitude = m
            }
        } else if shift < 0 && keptCount >= 0 {
            // Round half to even on the dropped digits. (keptCount < 0: below 0.1 pd → 0.)
            let firstDropped = digits[keptCount]
            let restNonZero = digits[(keptCount + 1)...].contains { $0 != 0 }
            let roundUp = firstDropped > 5 || (firstDropped == 5 && (restNonZero || magnitude % 2 == 1))
            if roundUp { magnitude += 1 }
        }
        guard magnitude <= limit else { return nil }
        if negative {
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return Int64(magnitude)
    }
}
