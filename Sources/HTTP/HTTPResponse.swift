/// A response to send. The server sets `Content-Length` and `Connection` itself.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int = 200, headers: HTTPHeaders = .init(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with `Content-Type: application/json`.
    public static func json(status: Int, body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    /// A plain-text response (`text/plain; charset=utf-8`).
    public static func text(status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// The uniform error body: `{"error":{"code":"…","message":"…","field":"…"}}`, `field` omitted when nil.
    public static func error(
        status: Int, code: String, message: String, field: String? = nil, headers: HTTPHeaders = .init()
    ) -> HTTPResponse {
        var body: [UInt8] = []
        body.reserveCapacity(40 + code.utf8.count + message.utf8.count + (field?.utf8.count ?? 0))
        body.append(contentsOf: #"{"error":{"code":"#.utf8)
        appendJSONString(code, to: &body)
        body.append(contentsOf: #","message":"#.utf8)
        appendJSONString(message, to: &body)
        if let field {
            body.append(contentsOf: #","field":"#.utf8)
            appendJSONString(field, to: &body)
        }
        body.append(contentsOf: "}}".utf8)
        var allHeaders = headers
        allHeaders["Content-Type"] = "application/json"
        return HTTPResponse(status: status, headers: allHeaders, body: body)
    }
}

/// Appends `string` as a JSON string literal (quotes included), escaping `"`, `\` and control characters.
public func appendJSONString(_ string: String, to out: inout [UInt8]) {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x00..<0x20:
            out.append(contentsOf: Array(#"\u00"#.utf8))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}
