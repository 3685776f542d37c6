/// What the redaction pass can mask in prompt, response and tool text.
public enum RedactionKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case email, phone, card, iban, secret

    /// The mask that replaces a match, e.g. `[email]`.
    public var mask: String { "[\(rawValue)]" }

    public static func < (a: RedactionKind, b: RedactionKind) -> Bool { a.rawValue < b.rawValue }
}

/// Masks e-mail addresses, phone numbers, payment card numbers (Luhn-checked), IBANs (mod-97
/// checked) and API-key-shaped secrets in free text, before anything is written.
///
/// A hand-written single pass over the UTF-8 bytes rather than regular expressions: it runs on every
/// prompt and response at ingest, and text without a candidate (no '@', no run of digits, no
/// key-like prefix) is returned untouched without copying. It errs on the side of leaving ordinary
/// numbers alone: a phone number needs 9–15 digits and a '+', a separator or a leading 0, so dates,
/// amounts and epoch timestamps survive; a card needs 13–19 digits that pass the Luhn check.
public struct Redactor: Sendable, Hashable {
    public var kinds: Set<RedactionKind>

    public init(kinds: Set<RedactionKind> = Set(RedactionKind.allCases)) {
        self.kinds = kinds
    }

    /// The text with every match replaced by its mask, and how many matches there were.
    public func redact(_ text: String) -> (text: String, matches: Int) {
        guard !kinds.isEmpty else { return (text, 0) }
        let bytes = Array(text.utf8)
        // What the text could hold at all decides which checks run: most prose has no '@' and few digits.
        var hasAt = false, hasDigit = false
        for c in bytes {
            if c == UInt8(ascii: "@") { hasAt = true } else if Redactor.isDigit(c) { hasDigit = true }
        }
        let wanted = Wanted(email: hasAt && kinds.contains(.email), phone: hasDigit && kinds.contains(.phone),
                            card: hasDigit && kinds.contains(.card), iban: hasDigit && kinds.contains(.iban),
                            secret: kinds.contains(.secret))
        var spans: [(range: Range<Int>, kind: RedactionKind)] = []
        var i = 0
        while i < bytes.count {
            if (i == 0 || !Redactor.isWordByte(bytes[i - 1])), let match = match(in: bytes, at: i, wanted) {
                if let kind = match.kind { spans.append((match.range, kind)) }
                i = max(match.range.upperBound, i + 1)
            } else {
                i += 1
            }
        }
        guard !spans.isEmpty else { return (text, 0) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var last = 0
        for span in spans {
            out.append(contentsOf: bytes[last..<span.range.lowerBound])
            out.append(contentsOf: span.kind.mask.utf8)
            last = span.range.upperBound
        }
        out.append(contentsOf: bytes[last...])
        return (String(decoding: out, as: UTF8.self), spans.count)
    }

    /// A match that starts at `i` (only at a token start, so no match begins inside a word). A nil
    /// kind is a candidate that turned out not to be sensitive (a number failing Luhn, an IBAN
    /// failing mod 97): its whole range is skipped, so no shorter match is found inside it.
    /// The kinds this text needs checking for (plain flags: a `Set` lookup per byte cost more than
    /// the scan itself).
    private struct Wanted {
        var email, phone, card, iban, secret: Bool
    }

    private func match(in b: [UInt8], at i: Int, _ wanted: Wanted) -> (range: Range<Int>, kind: RedactionKind?)? {
        let c = b[i]
        if wanted.email, Redactor.isLocalPartByte(c), let end = Redactor.emailEnd(b, from: i) {
            return (i..<end, .email)
        }
        if wanted.secret, Redactor.isSecretStart(c), let end = Redactor.secretEnd(b, from: i) {
            return (i..<end, .secret)
        }
        if wanted.iban, Redactor.isUpper(c), let candidate = Redactor.ibanCandidate(b, from: i) {
            return (i..<candidate.end, candidate.valid ? .iban : nil)
        }
        if wanted.phone || wanted.card, Redactor.isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "(") {
            return numberMatch(b, from: i, wanted)
        }
        return nil
    }

    // MARK: - E-mail

    static func isLocalPartByte(_ c: UInt8) -> Bool {
        isAlnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "%") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
    }

    /// `local@domain.tld` starting at `i`: a local part, '@', labels of letters, digits and '-'
    /// separated by dots, and a last label of at least two letters.
    static func emailEnd(_ b: [UInt8], from i: Int) -> Int? {
        var j = i
        while j < b.count, j - i < 64, isLocalPartByte(b[j]) { j += 1 }
        guard j > i, j < b.count, b[j] == UInt8(ascii: "@") else { return nil }
        j += 1
        var labels = 0
        var lastLabelLetters = true
        var lastLabelLength = 0
        var end = j
        while j < b.count {
            let start = j
            var letters = true
            while j < b.count, isAlnum(b[j]) || b[j] == UInt8(ascii: "-") {
                if !isLetter(b[j]) { letters = false }
                j += 1
            }
            guard j > start else { break }
            labels += 1
            lastLabelLetters = letters
            lastLabelLength = j - start
            end = j
            guard j + 1 < b.count, b[j] == UInt8(ascii: "."), isAlnum(b[j + 1]) else { break }
            j += 1
        }
        return labels >= 2 && lastLabelLetters && lastLabelLength >= 2 ? end : nil
    }

    // MARK: - Phone numbers and cards

    /// Digits with short separators between them (space, '-', parentheses; not '.', which would
    /// catch decimals), optionally
    /// after a '+': a card when 13–19 digits pass the Luhn check, a phone number when 9–15 digits
    /// come with a '+', a separator or a leading 0.
    private func numberMatch(_ b: [UInt8], from i: Int, _ wanted: Wanted) -> (range: Range<Int>, kind: RedactionKind?)? {
        var j = i
        let plus = b[j] == UInt8(ascii: "+")
        if plus { j += 1 }
        var digits: [UInt8] = []
        var separators = 0
        var end = j
        while j < b.count {
            if Redactor.isDigit(b[j]) {
                digits.append(b[j] - UInt8(ascii: "0"))
                j += 1
                end = j
                continue
            }
            // One or two separators ("-", " ", ") ") between groups of digits.
            var k = j
            while k < b.count, k - j < 2, Redactor.isNumberSeparator(b[k]) { k += 1 }
            guard k > j, k < b.count, Redactor.isDigit(b[k]) else { break }
            separators += 1
            j = k
        }
        guard !digits.isEmpty else { return nil }
        // A number glued to letters is part of something else (an id, a version).
        if end < b.count, Redactor.isWordByte(b[end]) { return (i..<end, nil) }
        if wanted.card, (13...19).contains(digits.count), !plus, Redactor.luhnValid(digits) {
            return (i..<end, .card)
        }
        if wanted.phone, (9...15).contains(digits.count), plus || separators > 0 || digits.first == 0 {
            return (i..<end, .phone)
        }
        return (i..<end, nil)
    }

    static func isNumberSeparator(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "-") || c == UInt8(ascii: "(") || c == UInt8(ascii: ")")
    }

    static func luhnValid(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            var d = Int(digit)
            if position % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return sum % 10 == 0
    }

    // MARK: - IBAN

    /// Two capital letters, two check digits, then 11–30 letters or digits (single spaces allowed
    /// between groups), passing the ISO 13616 mod-97 check.
    static func ibanCandidate(_ b: [UInt8], from i: Int) -> (end: Int, valid: Bool)? {
        guard i + 4 <= b.count, isUpper(b[i]), isUpper(b[i + 1]), isDigit(b[i + 2]), isDigit(b[i + 3]) else { return nil }
        var chars: [UInt8] = Array(b[i..<(i + 4)])
        var j = i + 4
        var end = j
        while j < b.count, chars.count < 34 {
            if isUpper(b[j]) || isDigit(b[j]) {
                chars.append(b[j])
                j += 1
                end = j
            } else if b[j] == UInt8(ascii: " "), j + 1 < b.count, isUpper(b[j + 1]) || isDigit(b[j + 1]) {
                j += 1
            } else {
                break
            }
        }
        guard chars.count >= 15, end >= b.count || !isWordByte(b[end]) else { return nil }
        guard chars[4...].contains(where: isDigit) else { return nil }
        // Move the first four characters to the end, letters become 10...35, remainder mod 97 must be 1.
        var remainder = 0
        for c in chars[4...] + chars[..<4] {
            let value = isDigit(c) ? Int(c - UInt8(ascii: "0")) : Int(c - UInt8(ascii: "A")) + 10
            remainder = (value < 10 ? remainder * 10 + value : remainder * 100 + value) % 97
        }
        return (end, remainder == 1)
    }

    // MARK: - Secrets

    /// Prefixes of widely used API keys and tokens, and the least number of characters after them.
    static let secretPrefixes: [(prefix: [UInt8], minimumRest: Int)] = [
        ("sk-ant-", 20), ("sk-proj-", 20), ("sk-", 20), ("sk_live_", 16), ("sk_test_", 16), ("rk_live_", 16), ("pk_live_", 16),
        ("AKIA", 16), ("ASIA", 16), ("ghp_", 30), ("gho_", 30), ("ghs_", 30), ("ghu_", 30), ("github_pat_", 30), ("glpat-", 20),
        ("xoxb-", 20), ("xoxp-", 20), ("xoxa-", 20), ("AIza", 30), ("hf_", 30), ("gsk_", 30), ("tm_ingest_", 20), ("tm_read_", 20),
    ].map { (Array($0.0.utf8), $0.1) }

    static func isSecretStart(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "s") || c == UInt8(ascii: "r") || c == UInt8(ascii: "p") || c == UInt8(ascii: "A") || c == UInt8(ascii: "g")
            || c == UInt8(ascii: "x") || c == UInt8(ascii: "h") || c == UInt8(ascii: "t") || c == UInt8(ascii: "e")
    }

    static func isSecretByte(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") }

    /// A known key prefix followed by enough key characters, or a JSON Web Token (three base64url
    /// parts, the first two starting with "eyJ").
    static func secretEnd(_ b: [UInt8], from i: Int) -> Int? {
        // Every secret is a long run of key characters: measure the run before trying prefixes.
        var runEnd = i
        while runEnd < b.count, isSecretByte(b[runEnd]) || b[runEnd] == UInt8(ascii: ".") { runEnd += 1 }
        guard runEnd - i >= 20 else { return nil }
        for (prefix, minimumRest) in secretPrefixes where prefix[0] == b[i] && b.count - i >= prefix.count + minimumRest {
            guard b[i..<(i + prefix.count)].elementsEqual(prefix) else { continue }
            var j = i + prefix.count
            while j < b.count, isSecretByte(b[j]) { j += 1 }
            return j - i - prefix.count >= minimumRest ? j : nil
        }
        let jwt = Array("eyJ".utf8)
        guard b.count - i > 20, b[i..<(i + 3)].elementsEqual(jwt) else { return nil }
        var j = i
        var parts = 1
        while j < b.count {
            if isSecretByte(b[j]) { j += 1 } else if b[j] == UInt8(ascii: "."), parts < 3, j + 1 < b.count, isSecretByte(b[j + 1]) {
                parts += 1
                j += 1
            } else { break }
        }
        return parts == 3 && j - i >= 30 ? j : nil
    }

    // MARK: - Bytes

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    static func isUpper(_ c: UInt8) -> Bool { c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") }
    static func isLetter(_ c: UInt8) -> Bool { isUpper(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) }
    static func isAlnum(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) }
    /// Letters, digits, '_' and any byte of a non-ASCII character: the inside of a word.
    static func isWordByte(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c >= 0x80 }
}
