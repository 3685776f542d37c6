import Foundation
import CCurl
import CCurlWrappers

/// POSTs with libcurl's easy interface: one handle per request (no connection reuse: webhooks
/// are rare and receivers many), connect and total timeouts, no redirects, http/https only,
/// no signals (safe on any thread). The response body is read and discarded.
public struct CurlTransport: WebhookTransport {
    public var connectTimeout: Double
    public var totalTimeout: Double
    public var userAgent: String
    /// Refuse loopback, private, link-local and reserved addresses (after DNS): see
    /// ``DeliveryConfiguration/blockPrivateAddresses``.
    public var blockPrivateAddresses: Bool

    public init(connectTimeout: Double, totalTimeout: Double, blockPrivateAddresses: Bool = false, userAgent: String = "tokenmeter-alerts/1") {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.blockPrivateAddresses = blockPrivateAddresses
        self.userAgent = userAgent
    }

    public init(configuration: DeliveryConfiguration) {
        self.init(connectTimeout: configuration.connectTimeout, totalTimeout: configuration.totalTimeout,
                  blockPrivateAddresses: configuration.blockPrivateAddresses)
    }

    public func post(_ request: WebhookRequest) -> WebhookResponse {
        tm_delivery_curl_global_init()
        guard let handle = curl_easy_init() else { return .failed(reason: "curl: could not create a handle", timedOut: false) }
        defer { curl_easy_cleanup(handle) }

        var headerList: UnsafeMutablePointer<curl_slist>?
        // "Expect:" stops curl from waiting for 100-continue on larger bodies.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Content-Type: application/json", "Expect:"] {
            headerList = curl_slist_append(headerList, line)
        }
        defer { curl_slist_free_all(headerList) }

        let capture = ResponseCapture()
        let context = Unmanaged.passUnretained(capture).toOpaque()
        var blocked: Int32 = 0
        let code: CURLcode = withUnsafeMutablePointer(to: &blocked) { blocked in request.body.withUnsafeBufferPointer { body in
            // Strings passed to setopt are copied by curl; the body is not, hence this scope.
            var ok = tm_delivery_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
            if blockPrivateAddresses { ok = ok && tm_delivery_block_private_addresses(handle, blocked) == CURLE_OK }
            ok = ok && request.url.withCString { tm_delivery_setopt_pointer(handle, CURLOPT_URL, $0) } == CURLE_OK
            ok = ok && "http,https".withCString { tm_delivery_setopt_pointer(handle, CURLOPT_PROTOCOLS_STR, $0) } == CURLE_OK
            ok = ok && userAgent.withCString { tm_delivery_setopt_pointer(handle, CURLOPT_USERAGENT, $0) } == CURLE_OK
            ok = ok && tm_delivery_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0) == CURLE_OK
            ok = ok && tm_delivery_setopt_long(handle, CURLOPT_POST, 1) == CURLE_OK
            ok = ok && tm_delivery_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)) == CURLE_OK
            ok = ok && tm_delivery_setopt_pointer(handle, CURLOPT_POSTFIELDS, body.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(bitPattern: 1)) == CURLE_OK
            ok = ok && tm_delivery_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeRawPointer(headerList)) == CURLE_OK
            ok = ok && tm_delivery_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)) == CURLE_OK
            ok = ok && tm_delivery_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(totalTimeout)) == CURLE_OK
            ok = ok && tm_delivery_setopt_callback(handle, CURLOPT_WRITEFUNCTION, { _, size, count, _ in size * count }) == CURLE_OK
            ok = ok && tm_delivery_setopt_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
                guard let data, let context else { return size * count }
                let line = UnsafeRawBufferPointer(start: data, count: size * count)
                Unmanaged<ResponseCapture>.fromOpaque(context).takeUnretainedValue().header(Array(line))
                return size * count
            }) == CURLE_OK
            ok = ok && tm_delivery_setopt_pointer(handle, CURLOPT_HEADERDATA, context) == CURLE_OK
            guard ok else { return CURLE_FAILED_INIT }
            return curl_easy_perform(handle)
        } }
        if blocked != 0 { return .refused(reason: "refused: the URL resolves to a private or reserved address") }
        guard code == CURLE_OK else {
            // curl_easy_strerror names the failure class only ("Timeout was reached"), never the URL.
            let text = curl_easy_strerror(code).map { String(cString: $0) } ?? "unknown error"
            return .failed(reason: "curl \(code.rawValue): \(text)", timedOut: code == CURLE_OPERATION_TIMEDOUT)
        }
        var status = 0
        _ = tm_delivery_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .status(status, retryAfter: capture.retryAfter)
    }

    static func milliseconds(_ seconds: Double) -> Int {
        max(1, Int((seconds * 1000).rounded()))
    }
}

/// Collects what the header callback sees; used by one thread during one perform.
private final class ResponseCapture {
    var retryAfter: String?

    func header(_ line: [UInt8]) {
        // A new status line (after a 1xx, or a redirect) starts a new header block.
        if line.starts(with: Array("HTTP/".utf8)) { retryAfter = nil; return }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        guard name == "retry-after" else { return }
        retryAfter = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
