import Glibc

extension HTTPResponse {
    /// 1xx, 204 and 304 responses never carry a body (RFC 9112 §6.3).
    var statusForbidsBody: Bool {
        status < 200 || status == 204 || status == 304
    }

    /// Whether the responder itself asked to close the connection (`Connection: close`).
    var asksToClose: Bool {
        guard let value = headers["Connection"] else { return false }
        return value.utf8.split(separator: UInt8(ascii: ",")).contains { token in
            asciiCaseInsensitiveEquals(String(decoding: trimOWS(token), as: UTF8.self), "close")
        }
    }

    /// Serializes the status line and headers. `Content-Length`, `Connection` and `Transfer-Encoding` from the
    /// responder are replaced by the server's own; header fields containing CR, LF or NUL are dropped
    /// (response splitting).
    func encodeHead(keepAlive: Bool, date: [UInt8]?, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + 128 + headers.count * 32)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: reasonPhrase(status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        var hasDate = false
        for (name, value) in headers {
            if asciiCaseInsensitiveEquals(name, "content-length") || asciiCaseInsensitiveEquals(name, "connection")
                || asciiCaseInsensitiveEquals(name, "transfer-encoding") {
                continue
            }
            guard isValidFieldName(name), isValidFieldValue(value) else { continue }
            if !hasDate, asciiCaseInsensitiveEquals(name, "date") { hasDate = true }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        // 1xx and 204 must not carry Content-Length; for 304 it would describe a body we do not have.
        if status >= 200 && status != 204 && status != 304 {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(statusForbidsBody ? 0 : body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: keepAlive ? "Connection: keep-alive\r\n".utf8 : "Connection: close\r\n".utf8)
        if !hasDate, let date {
            out.append(contentsOf: "Date: ".utf8)
            out.append(contentsOf: date)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
    }
}

private func isValidFieldName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.allSatisfy { HTTPSyntax.isTokenByte($0) }
}

private func isValidFieldValue(_ value: String) -> Bool {
    value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }
}

func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    if value < 10 && value >= 0 {
        out.append(UInt8(ascii: "0") + UInt8(value))
        return
    }
    out.append(contentsOf: String(value).utf8)
}

/// Standard reason phrases; clients ignore them, so unknown codes get an empty one.
func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 100: "Continue"
    case 101: "Switching Protocols"
    case 200: "OK"
    case 201: "Created"
    case 202: "Accepted"
    case 204: "No Content"
    case 206: "Partial Content"
    case 301: "Moved Permanently"
    case 302: "Found"
    case 303: "See Other"
    case 304: "Not Modified"
    case 307: "Temporary Redirect"
    case 308: "Permanent Redirect"
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 406: "Not Acceptable"
    case 408: "Request Timeout"
    case 409: "Conflict"
    case 410: "Gone"
    case 411: "Length Required"
    case 412: "Precondition Failed"
    case 413: "Content Too Large"
    case 414: "URI Too Long"
    case 415: "Unsupported Media Type"
    case 417: "Expectation Failed"
    case 422: "Unprocessable Content"
    case 429: "Too Many Requests"
    case 431: "Request Header Fields Too Large"
    case 500: "Internal Server Error"
    case 501: "Not Implemented"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 504: "Gateway Timeout"
    case 505: "HTTP Version Not Supported"
    default: ""
    }
}

/// Formats and caches the IMF-fixdate for the `Date` header, once per second.
struct HTTPDateCache {
    private var second: time_t = -1
    private(set) var bytes: [UInt8] = []

    mutating func current() -> [UInt8] {
        let now = time(nil)
        if now != second {
            second = now
            bytes = Self.format(now)
        }
        return bytes
    }

    static func format(_ seconds: time_t) -> [UInt8] {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        return Array(text.utf8)
    }
}
