import Glibc

/// A request the server refuses, with the status and error body to answer it with.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?

    public init(status: Int, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The error rendered in the server's uniform JSON format.
    public var response: HTTPResponse {
        .error(status: status, code: code, message: message, field: field)
    }

    static func badRequest(_ message: String, field: String? = nil) -> HTTPParseError {
        HTTPParseError(status: 400, code: "bad_request", message: message, field: field)
    }

    static func headersTooLarge(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 431, code: "headers_too_large", message: message)
    }

    static func bodyTooLarge(limit: Int) -> HTTPParseError {
        HTTPParseError(status: 413, code: "body_too_large", message: "request body exceeds \(limit) bytes")
    }
}

/// How the body of a request is delimited (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// The request line and headers, available before the body is read.
public struct HTTPRequestHead: Sendable {
    public var method: String
    public var target: String
    /// Minor version of HTTP/1.x: 0 or 1 (higher 1.x minors are treated as 1).
    public var minorVersion: Int
    public var headers: HTTPHeaders
    /// Whether the connection may stay open after this request (`Connection` header and version default).
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    public var expectsContinue: Bool
    public var framing: HTTPBodyFraming

    public var isHEAD: Bool { method == "HEAD" }
}

/// Limits the parser enforces while reading.
public struct HTTPParserLimits: Sendable {
    /// Whole request head (request line, headers, terminating empty line); also the cap for trailers.
    public var maxHeaderBytes: Int
    public var maxHeaderCount: Int
    /// Body bytes after de-chunking.
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 16 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

/// An incremental HTTP/1.x request parser: a pure state machine over appended bytes, no I/O.
///
/// Feed bytes with `append`, then call `next()` until it returns `.needMoreData`. For each request it returns
/// `.head` once, then `.end` with the complete de-chunked body; bytes of a pipelined next request stay buffered
/// for the following `next()` calls. After `.error` the parser is dead and keeps returning that error.
///
/// A request target that does not fit into `maxHeaderBytes` is answered with 431, not 414.
public struct HTTPRequestParser {
    public enum Event: Sendable {
        case needMoreData
        case head(HTTPRequestHead)
        case end(body: [UInt8])
        case error(HTTPParseError)
    }

    private enum State {
        case head
        case lengthBody(remaining: Int)
        case chunkHeader
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(count: Int, bytes: Int)
        case complete
        case failed(HTTPParseError)
    }

    /// Longest chunk-size line (size plus extensions) accepted.
    static let maxChunkHeaderBytes = 4096

    public let limits: HTTPParserLimits
    private var state: State = .head
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var body: [UInt8] = []
    // Head scanning progress, relative to readIndex so that compaction does not disturb it.
    private var scannedBytes = 0
    private var lineStartOffset = 0
    private var requestLineOffset = 0
    private var lineCount = 0

    public init(limits: HTTPParserLimits = .init()) {
        self.limits = limits
        buffer.reserveCapacity(4096)
    }

    /// Bytes received but not yet consumed by `next()`.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// True between requests: nothing buffered and no request partly read.
    public var isBetweenRequests: Bool {
        if case .head = state { return readIndex == buffer.count }
        return false
    }

    /// Whether any byte of the current request's body has arrived (decides `100 Continue`).
    public var hasBodyBytes: Bool { !body.isEmpty || readIndex < buffer.count }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var input = bytes
        if readIndex == buffer.count {
            // Fast path for large bodies: copy straight into the body instead of through the buffer.
            switch state {
            case .lengthBody(let remaining):
                let count = min(remaining, input.count)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[..<count]))
                state = remaining == count ? .complete : .lengthBody(remaining: remaining - count)
                input = UnsafeRawBufferPointer(rebasing: input[count...])
            case .chunkData(let remaining):
                let count = min(remaining, input.count)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[..<count]))
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                input = UnsafeRawBufferPointer(rebasing: input[count...])
            case .failed:
                return
            default:
                break
            }
        }
        guard !input.isEmpty else { return }
        compact()
        buffer.append(contentsOf: input)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func next() -> Event {
        switch state {
        case .failed(let error):
            return .error(error)
        case .head:
            return parseHead()
        case .complete:
            return finishMessage()
        case .lengthBody, .chunkHeader, .chunkData, .chunkDataEnd, .trailers:
            return parseBody()
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> Event {
        state = .failed(error)
        return .error(error)
    }

    private mutating func finishMessage() -> Event {
        state = .head
        var finished: [UInt8] = []
        swap(&finished, &body)
        return .end(body: finished)
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096 || readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    // MARK: Head

    private mutating func parseHead() -> Event {
        var headEnd = -1
        var tooManyHeaders = false
        buffer.withUnsafeBufferPointer { buf in
            let base = buf.baseAddress!
            var position = readIndex + scannedBytes
            while position < buf.count {
                guard let found = memchr(base + position, Int32(UInt8(ascii: "\n")), buf.count - position) else {
                    position = buf.count
                    break
                }
                let newline = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
                let lineStart = readIndex + lineStartOffset
                var lineEnd = newline
                if lineEnd > lineStart && buf[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                position = newline + 1
                lineStartOffset = position - readIndex
                if lineEnd == lineStart {
                    if lineCount == 0 {
                        // RFC 9112 §2.2: ignore empty lines before the request line.
                        requestLineOffset = lineStartOffset
                        continue
                    }
                    headEnd = position
                    break
                }
                lineCount += 1
                if lineCount > limits.maxHeaderCount + 1 {
                    tooManyHeaders = true
                    break
                }
            }
            scannedBytes = position - readIndex
        }
        if tooManyHeaders {
            return fail(.headersTooLarge("more than \(limits.maxHeaderCount) header fields"))
        }
        guard headEnd >= 0 else {
            if buffer.count - readIndex > limits.maxHeaderBytes {
                return fail(.headersTooLarge("request head exceeds \(limits.maxHeaderBytes) bytes"))
            }
            return .needMoreData
        }
        if headEnd - readIndex > limits.maxHeaderBytes {
            return fail(.headersTooLarge("request head exceeds \(limits.maxHeaderBytes) bytes"))
        }
        let start = readIndex + requestLineOffset
        let result = buffer.withUnsafeBufferPointer { buf in
            Self.parseHeadLines(buf, start: start, end: headEnd, limits: limits)
        }
        readIndex = headEnd
        scannedBytes = 0
        lineStartOffset = 0
        requestLineOffset = 0
        lineCount = 0
        switch result {
        case .failure(let error):
            return fail(error)
        case .success(let head):
            switch head.framing {
            case .none, .length(0):
                state = .complete
            case .length(let length):
                body.reserveCapacity(min(length, 1 << 20))
                state = .lengthBody(remaining: length)
            case .chunked:
                state = .chunkHeader
            }
            return .head(head)
        }
    }

    /// Parses a complete head in `buf[start..<end]` (lines end in LF or CRLF; the last line is empty).
    static func parseHeadLines(
        _ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int, limits: HTTPParserLimits
    ) -> Result<HTTPRequestHead, HTTPParseError> {
        let base = buf.baseAddress!
        func lineEnd(from position: Int) -> (contentEnd: Int, next: Int) {
            let found = memchr(base + position, Int32(UInt8(ascii: "\n")), end - position)!
            let newline = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
            var contentEnd = newline
            if contentEnd > position && buf[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            return (contentEnd, newline + 1)
        }

        // Request line: method SP request-target SP HTTP-version
        let (requestLineEnd, afterRequestLine) = lineEnd(from: start)
        var index = start
        while index < requestLineEnd && HTTPSyntax.isTokenByte(buf[index]) { index += 1 }
        guard index > start, index < requestLineEnd, buf[index] == UInt8(ascii: " ") else {
            return .failure(.badRequest("malformed request line: invalid method"))
        }
        let methodEnd = index
        let targetStart = index + 1
        index = targetStart
        while index < requestLineEnd && HTTPSyntax.isTargetByte(buf[index]) { index += 1 }
        guard index > targetStart, index < requestLineEnd, buf[index] == UInt8(ascii: " ") else {
            return .failure(.badRequest("malformed request line: invalid request target"))
        }
        let targetEnd = index
        let versionStart = index + 1
        guard requestLineEnd - versionStart == 8,
              buf[versionStart] == UInt8(ascii: "H"), buf[versionStart + 1] == UInt8(ascii: "T"),
              buf[versionStart + 2] == UInt8(ascii: "T"), buf[versionStart + 3] == UInt8(ascii: "P"),
              buf[versionStart + 4] == UInt8(ascii: "/"),
              buf[versionStart + 6] == UInt8(ascii: "."),
              let major = digitValue(buf[versionStart + 5]), let minor = digitValue(buf[versionStart + 7])
        else {
            return .failure(.badRequest("malformed request line: invalid HTTP version"))
        }
        guard major == 1 else {
            return .failure(HTTPParseError(
                status: 505, code: "http_version_not_supported", message: "only HTTP/1.0 and HTTP/1.1 are supported"))
        }
        let minorVersion = min(minor, 1)

        var headers = HTTPHeaders()
        headers.reserveCapacity(16)
        var contentLength: Int?
        var contentLengthInvalid = false
        var hasTransferEncoding = false
        var chunkedCount = 0
        var chunkedIsLast = false
        var otherTransferCoding = false
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
        var hostCount = 0

        var position = afterRequestLine
        while position < end {
            let (contentEnd, next) = lineEnd(from: position)
            if contentEnd == position { break }  // the empty line ending the head
            if HTTPSyntax.isOWS(buf[position]) {
                return .failure(.badRequest("obsolete line folding is not accepted"))
            }
            let field: (nameEnd: Int, valueStart: Int, valueEnd: Int)
            switch parseFieldLine(buf, start: position, end: contentEnd) {
            case .success(let parsed): field = parsed
            case .failure(let error): return .failure(error)
            }
            let name = String(decoding: UnsafeBufferPointer(rebasing: buf[position..<field.nameEnd]), as: UTF8.self)
            let value = String(
                decoding: UnsafeBufferPointer(rebasing: buf[field.valueStart..<field.valueEnd]), as: UTF8.self)
            headers.add(name: name, value: value)

            let (ns, ne, vs, ve) = (position, field.nameEnd, field.valueStart, field.valueEnd)
            switch ne - ns {
            case 4 where bytesEqualLowercase(buf, ns, ne, "host"):
                hostCount += 1
            case 6 where bytesEqualLowercase(buf, ns, ne, "expect"):
                if minorVersion == 1, bytesEqualLowercase(buf, vs, ve, "100-continue") { expectsContinue = true }
            case 10 where bytesEqualLowercase(buf, ns, ne, "connection"):
                forEachListElement(buf, vs, ve) { s, e in
                    if bytesEqualLowercase(buf, s, e, "close") { connectionClose = true }
                    if bytesEqualLowercase(buf, s, e, "keep-alive") { connectionKeepAlive = true }
                }
            case 14 where bytesEqualLowercase(buf, ns, ne, "content-length"):
                var elements = 0
                forEachListElement(buf, vs, ve) { s, e in
                    elements += 1
                    guard let length = parseDecimal(buf, s, e) else {
                        contentLengthInvalid = true
                        return
                    }
                    if let existing = contentLength, existing != length { contentLengthInvalid = true }
                    contentLength = length
                }
                if elements == 0 { contentLengthInvalid = true }
            case 17 where bytesEqualLowercase(buf, ns, ne, "transfer-encoding"):
                hasTransferEncoding = true
                forEachListElement(buf, vs, ve) { s, e in
                    if bytesEqualLowercase(buf, s, e, "chunked") {
                        chunkedCount += 1
                        chunkedIsLast = true
                    } else {
                        otherTransferCoding = true
                        chunkedIsLast = false
                    }
                }
            default:
                break
            }
            position = next
        }
        if headers.count > limits.maxHeaderCount {
            return .failure(.headersTooLarge("more than \(limits.maxHeaderCount) header fields"))
        }
        if hostCount > 1 {
            return .failure(.badRequest("more than one Host header", field: "Host"))
        }

        let method = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<methodEnd]), as: UTF8.self)
        let framing: HTTPBodyFraming
        if hasTransferEncoding {
            if minorVersion == 0 {
                return .failure(.badRequest("Transfer-Encoding is not allowed in HTTP/1.0", field: "Transfer-Encoding"))
            }
            if contentLength != nil || contentLengthInvalid {
                return .failure(.badRequest(
                    "Transfer-Encoding and Content-Length must not both be present", field: "Transfer-Encoding"))
            }
            if chunkedCount != 1 || !chunkedIsLast {
                return .failure(.badRequest("chunked must be the final transfer coding", field: "Transfer-Encoding"))
            }
            if otherTransferCoding {
                return .failure(HTTPParseError(
                    status: 501, code: "not_implemented", message: "unsupported transfer coding",
                    field: "Transfer-Encoding"))
            }
            framing = .chunked
        } else if contentLengthInvalid {
            return .failure(.badRequest("invalid Content-Length", field: "Content-Length"))
        } else if let contentLength {
            if contentLength > limits.maxBodyBytes { return .failure(.bodyTooLarge(limit: limits.maxBodyBytes)) }
            framing = .length(contentLength)
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            return .failure(HTTPParseError(
                status: 411, code: "length_required", message: "a body needs Content-Length or chunked encoding",
                field: "Content-Length"))
        } else {
            framing = .none
        }

        let head = HTTPRequestHead(
            method: method,
            target: String(decoding: UnsafeBufferPointer(rebasing: buf[targetStart..<targetEnd]), as: UTF8.self),
            minorVersion: minorVersion,
            headers: headers,
            keepAlive: !connectionClose && (minorVersion == 1 || connectionKeepAlive),
            expectsContinue: expectsContinue && framing != .none && framing != .length(0),
            framing: framing)
        return .success(head)
    }

    /// Splits `name: value` and checks both; returns the name end and the OWS-trimmed value bounds.
    static func parseFieldLine(
        _ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int
    ) -> Result<(nameEnd: Int, valueStart: Int, valueEnd: Int), HTTPParseError> {
        var index = start
        while index < end && HTTPSyntax.isTokenByte(buf[index]) { index += 1 }
        guard index > start, index < end, buf[index] == UInt8(ascii: ":") else {
            return .failure(.badRequest("malformed header field"))
        }
        let nameEnd = index
        var valueStart = index + 1
        while valueStart < end && HTTPSyntax.isOWS(buf[valueStart]) { valueStart += 1 }
        var valueEnd = end
        while valueEnd > valueStart && HTTPSyntax.isOWS(buf[valueEnd - 1]) { valueEnd -= 1 }
        index = valueStart
        while index < valueEnd {
            guard HTTPSyntax.isFieldValueByte(buf[index]) else {
                return .failure(.badRequest("invalid character in header value"))
            }
            index += 1
        }
        return .success((nameEnd, valueStart, valueEnd))
    }

    // MARK: Body

    private mutating func parseBody() -> Event {
        while true {
            let available = buffer.count - readIndex
            switch state {
            case .lengthBody(let remaining):
                guard available > 0 else { return .needMoreData }
                let count = min(remaining, available)
                body.append(contentsOf: buffer[readIndex..<(readIndex + count)])
                readIndex += count
                state = remaining == count ? .complete : .lengthBody(remaining: remaining - count)

            case .chunkData(let remaining):
                guard available > 0 else { return .needMoreData }
                let count = min(remaining, available)
                body.append(contentsOf: buffer[readIndex..<(readIndex + count)])
                readIndex += count
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)

            case .chunkDataEnd:
                guard available > 0 else { return .needMoreData }
                if buffer[readIndex] == UInt8(ascii: "\n") {
                    readIndex += 1
                } else if buffer[readIndex] == UInt8(ascii: "\r") {
                    guard available > 1 else { return .needMoreData }
                    guard buffer[readIndex + 1] == UInt8(ascii: "\n") else {
                        return fail(.badRequest("chunk data not followed by CRLF"))
                    }
                    readIndex += 2
                } else {
                    return fail(.badRequest("chunk data longer than its declared size"))
                }
                state = .chunkHeader

            case .chunkHeader:
                guard let (contentEnd, next) = findLine(maxLength: Self.maxChunkHeaderBytes) else {
                    if available > Self.maxChunkHeaderBytes { return fail(.badRequest("chunk header too long")) }
                    return .needMoreData
                }
                let parsed = buffer.withUnsafeBufferPointer { buf in
                    Self.parseChunkHeader(buf, start: readIndex, end: contentEnd)
                }
                guard let size = parsed else { return fail(.badRequest("invalid chunk header")) }
                readIndex = next
                if size == 0 {
                    state = .trailers(count: 0, bytes: 0)
                } else if size > limits.maxBodyBytes - body.count {
                    return fail(.bodyTooLarge(limit: limits.maxBodyBytes))
                } else {
                    state = .chunkData(remaining: size)
                }

            case .trailers(let count, let bytes):
                guard let (contentEnd, next) = findLine(maxLength: limits.maxHeaderBytes) else {
                    if bytes + available > limits.maxHeaderBytes {
                        return fail(.headersTooLarge("trailer section exceeds \(limits.maxHeaderBytes) bytes"))
                    }
                    return .needMoreData
                }
                let lineStart = readIndex
                readIndex = next
                if contentEnd == lineStart {
                    state = .complete
                    continue
                }
                if count + 1 > limits.maxHeaderCount || bytes + (next - lineStart) > limits.maxHeaderBytes {
                    return fail(.headersTooLarge("trailer section too large"))
                }
                if HTTPSyntax.isOWS(buffer[lineStart]) {
                    return fail(.badRequest("obsolete line folding is not accepted"))
                }
                let valid = buffer.withUnsafeBufferPointer { buf in
                    if case .success = Self.parseFieldLine(buf, start: lineStart, end: contentEnd) { return true }
                    return false
                }
                guard valid else { return fail(.badRequest("malformed trailer field")) }
                // Trailer fields are checked and dropped: nothing downstream needs them.
                state = .trailers(count: count + 1, bytes: bytes + (next - lineStart))

            case .complete:
                return finishMessage()

            case .head, .failed:
                return next()
            }
        }
    }

    /// Finds the next line in the buffer: the end of its content (before CR LF) and the index after LF.
    private func findLine(maxLength: Int) -> (contentEnd: Int, next: Int)? {
        buffer.withUnsafeBufferPointer { buf in
            let length = min(buf.count - readIndex, maxLength + 2)
            guard length > 0,
                  let found = memchr(buf.baseAddress! + readIndex, Int32(UInt8(ascii: "\n")), length)
            else { return nil }
            let newline = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - buf.baseAddress!
            var contentEnd = newline
            if contentEnd > readIndex && buf[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            return (contentEnd, newline + 1)
        }
    }

    /// `chunk-size [ chunk-ext ]`: hex size, then optional `;name[=value]` extensions (ignored but checked).
    static func parseChunkHeader(_ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Int? {
        var index = start
        var size = 0
        while index < end, let digit = hexValue(buf[index]) {
            guard index - start < 15 else { return nil }  // 15 hex digits already exceed any body limit
            size = size << 4 | Int(digit)
            index += 1
        }
        guard index > start else { return nil }
        while index < end && HTTPSyntax.isOWS(buf[index]) { index += 1 }
        guard index < end else { return size }
        guard buf[index] == UInt8(ascii: ";") else { return nil }
        while index < end {
            guard HTTPSyntax.isFieldValueByte(buf[index]) else { return nil }
            index += 1
        }
        return size
    }
}

@inline(__always)
private func digitValue(_ byte: UInt8) -> Int? {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
}

/// Digits only, no sign, no spaces; values too large for 18 digits read as `Int.max` (always over a limit).
private func parseDecimal(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
    guard end > start else { return nil }
    var value = 0
    for index in start..<end {
        guard let digit = digitValue(buf[index]) else { return nil }
        if value > 99_999_999_999_999_999 {
            value = Int.max
        } else {
            value = value * 10 + digit
        }
    }
    return value
}

/// Calls `body` with the OWS-trimmed bounds of each non-empty element of a comma-separated list.
@inline(__always)
private func forEachListElement(
    _ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void
) {
    var elementStart = start
    var index = start
    while index <= end {
        if index == end || buf[index] == UInt8(ascii: ",") {
            var s = elementStart, e = index
            while s < e && HTTPSyntax.isOWS(buf[s]) { s += 1 }
            while e > s && HTTPSyntax.isOWS(buf[e - 1]) { e -= 1 }
            if e > s { body(s, e) }
            elementStart = index + 1
        }
        index += 1
    }
}
