import Foundation

/// Text form of timestamps, done by hand (no formatter, no locale, no ICU) because it sits on
/// the hot path of COPY and row decoding.
enum PostgresTimestamp {
    /// `2024-05-06 07:08:09.123456+00`, always UTC and always six fractional digits.
    /// Years before 1 AD use Postgres' ` BC` suffix.
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, microOfDay) = floorDivMod(micros, 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let secondOfDay = microOfDay / 1_000_000
        let fraction = microOfDay % 1_000_000
        var out = [UInt8]()
        out.reserveCapacity(32)
        let bc = year <= 0
        appendDigits(&out, bc ? 1 - year : year, width: 4)
        out.append(UInt8(ascii: "-")); appendDigits(&out, month, width: 2)
        out.append(UInt8(ascii: "-")); appendDigits(&out, day, width: 2)
        out.append(UInt8(ascii: " ")); appendDigits(&out, secondOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":")); appendDigits(&out, secondOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":")); appendDigits(&out, secondOfDay % 60, width: 2)
        out.append(UInt8(ascii: ".")); appendDigits(&out, fraction, width: 6)
        out.append(UInt8(ascii: "+")); out.append(UInt8(ascii: "0")); out.append(UInt8(ascii: "0"))
        if bc { out.append(contentsOf: " BC".utf8) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses Postgres ISO output of timestamptz, timestamp (taken as UTC) and date:
    /// `YYYY-MM-DD[ HH:MM:SS[.ffffff]][±HH[:MM[:SS]]][ BC]`, also with `T` as separator,
    /// plus `infinity` / `-infinity` (→ `Date.distantFuture` / `Date.distantPast`).
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var p = Scanner(Array(text.utf8))
        guard let rawYear = p.digits(min: 4, max: 9), p.eat("-"),
              let month = p.digits(min: 2, max: 2), p.eat("-"),
              let day = p.digits(min: 2, max: 2),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var micros: Int64 = 0
        if p.startsTime, p.eat(" ") || p.eat("T") {
            guard let hour = p.digits(min: 2, max: 2), p.eat(":"),
                  let minute = p.digits(min: 2, max: 2), p.eat(":"),
                  let second = p.digits(min: 2, max: 2),
                  hour <= 24, minute < 60, second <= 60
            else { return nil }
            micros = (hour * 3600 + minute * 60 + second) * 1_000_000
            if p.eat(".") {
                let start = p.index
                guard let fraction = p.digits(min: 1, max: 9) else { return nil }
                var scaled = fraction
                var width = p.index - start
                while width < 6 { scaled *= 10; width += 1 }
                while width > 6 { scaled /= 10; width -= 1 }
                micros += scaled
            }
            if let sign = p.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                p.index += 1
                guard let offsetHours = p.digits(min: 2, max: 2) else { return nil }
                var offset = offsetHours * 3600
                if p.eat(":") {
                    guard let m = p.digits(min: 2, max: 2) else { return nil }
                    offset += m * 60
                    if p.eat(":") {
                        guard let s = p.digits(min: 2, max: 2) else { return nil }
                        offset += s
                    }
                }
                // Local time = UTC + offset, so UTC = local - offset.
                micros -= (sign == UInt8(ascii: "+") ? offset : -offset) * 1_000_000
            } else if p.eat("Z") {
                // explicit UTC
            }
        }
        var year = rawYear
        if p.eat(" ") {
            guard p.eat("B"), p.eat("C") else { return nil }
            year = 1 - rawYear
        }
        guard p.atEnd else { return nil }
        let total = days(fromCivil: year, month, day) * 86_400_000_000 + micros
        return Date(timeIntervalSince1970: Double(total) / 1_000_000)
    }

    // MARK: calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms)

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivMod(y, 400).0
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = floorDivMod(z, 146_097).0
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    static func appendDigits(_ out: inout [UInt8], _ value: Int64, width: Int) {
        var digits = [UInt8]()
        var v = value
        repeat { digits.append(UInt8(ascii: "0") + UInt8(v % 10)); v /= 10 } while v > 0
        for _ in digits.count..<max(width, digits.count) { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: digits.reversed())
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { index == bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
        /// A ` ` or `T` followed by a digit: the time part of a timestamp (not a ` BC` suffix).
        var startsTime: Bool {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T")
            else { return false }
            return bytes[index + 1] >= UInt8(ascii: "0") && bytes[index + 1] <= UInt8(ascii: "9")
        }
        mutating func eat(_ c: Unicode.Scalar) -> Bool {
            guard peek == UInt8(ascii: c) else { return false }
            index += 1
            return true
        }
        mutating func digits(min: Int, max: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while count < max, let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                value = value * 10 + Int64(c - UInt8(ascii: "0"))
                index += 1
                count += 1
            }
            return count >= min ? value : nil
        }
    }
}
