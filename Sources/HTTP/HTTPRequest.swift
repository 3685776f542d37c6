/// One query parameter, percent-decoded, with `+` read as a space.
public struct QueryItem: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A complete request as handed to an `HTTPResponder`.
public struct HTTPRequest: Sendable {
    /// The method as sent, e.g. "GET".
    public var method: String
    /// The raw request target, e.g. "/v1/events?limit=10".
    public var target: String
    /// The percent-decoded path without the query ("*" for `OPTIONS *`).
    public var path: String
    public var query: [QueryItem]
    /// The headers as sent (a `Content-Encoding` header is left in place although `body` is already decoded).
    public var headers: HTTPHeaders
    /// The body, de-chunked and decompressed.
    public var body: [UInt8]
    /// The peer's address, e.g. "127.0.0.1".
    public var remoteAddress: String

    public init(
        method: String, target: String, headers: HTTPHeaders = .init(), body: [UInt8] = [],
        remoteAddress: String = "127.0.0.1"
    ) {
        self.method = method
        self.target = target
        let (path, query) = splitTarget(target)
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The first query value named `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}

/// Splits an origin-form (or absolute-form) target into a decoded path and query items.
func splitTarget(_ target: String) -> (path: String, query: [QueryItem]) {
    var utf8 = Array(target.utf8)[...]
    // absolute-form "http://host/path?q": keep only the path and query.
    if utf8.first != UInt8(ascii: "/"), let schemeEnd = firstIndex(of: Array("://".utf8), in: utf8) {
        let afterScheme = utf8[(schemeEnd + 3)...]
        if let slash = afterScheme.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) {
            utf8 = afterScheme[slash...]
            if utf8.first == UInt8(ascii: "?") { utf8 = ([UInt8(ascii: "/")] + utf8)[...] }
        } else {
            utf8 = [UInt8(ascii: "/")][...]
        }
    }
    guard let questionMark = utf8.firstIndex(of: UInt8(ascii: "?")) else {
        return (percentDecode(utf8, plusAsSpace: false), [])
    }
    let path = percentDecode(utf8[..<questionMark], plusAsSpace: false)
    return (path, parseQuery(utf8[(questionMark + 1)...]))
}

/// Parses `a=1&b=two+words&c` into items; a name without `=` gets an empty value.
func parseQuery(_ bytes: ArraySlice<UInt8>) -> [QueryItem] {
    var items: [QueryItem] = []
    var start = bytes.startIndex
    while start < bytes.endIndex {
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.endIndex
        let pair = bytes[start..<end]
        if !pair.isEmpty {
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                items.append(QueryItem(
                    name: percentDecode(pair[..<equals], plusAsSpace: true),
                    value: percentDecode(pair[(equals + 1)...], plusAsSpace: true)))
            } else {
                items.append(QueryItem(name: percentDecode(pair, plusAsSpace: true), value: ""))
            }
        }
        start = end == bytes.endIndex ? end : end + 1
    }
    return items
}

/// Decodes `%XX` escapes (an invalid escape is kept literally) and optionally `+` as space.
/// Invalid UTF-8 after decoding becomes U+FFFD.
func percentDecode(_ bytes: ArraySlice<UInt8>, plusAsSpace: Bool) -> String {
    guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
        return String(decoding: bytes, as: UTF8.self)
    }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let byte = bytes[index]
        if byte == UInt8(ascii: "%"), bytes.endIndex - index >= 3,
           let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
            out.append(high << 4 | low)
            index += 3
            continue
        }
        out.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
        index += 1
    }
    return String(decoding: out, as: UTF8.self)
}

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    var index = haystack.startIndex
    while index + needle.count <= haystack.endIndex {
        if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        index += 1
    }
    return nil
}
