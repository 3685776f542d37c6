/// Text as stored: U+0000 becomes U+FFFD (Postgres text cannot hold NUL), like native ingest.
func replacingNUL(_ s: String) -> String {
    guard s.utf8.contains(0) else { return s }
    return String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value == 0 ? "\u{FFFD}" : $0 }))
}

/// The longest prefix of `s` within `maxBytes` of UTF-8 that does not split a scalar.
func utf8Prefix(_ s: String, maxBytes: Int) -> String {
    let utf8 = s.utf8
    guard utf8.count > maxBytes else { return s }
    var end = utf8.index(utf8.startIndex, offsetBy: maxBytes)
    while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }   // a continuation byte
    return String(decoding: utf8[..<end], as: UTF8.self)
}
