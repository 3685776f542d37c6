import Foundation

/// The headers that let a receiver check who sent a notification and when.
///
/// `X-Tokenmeter-Signature: sha256=<hex>` is HMAC-SHA256 with the project's secret over
/// `<timestamp>.<body>`, where `<timestamp>` is the `X-Tokenmeter-Timestamp` header (Unix
/// seconds). The timestamp is inside the signed text, so a captured request cannot be replayed
/// later with a fresh timestamp: receivers reject timestamps older than a few minutes.
/// (Stripe and Standard Webhooks sign the same way.) `X-Tokenmeter-Notification-Id` is stable
/// across retries, so a receiver dedupes at-least-once delivery by it.
public enum WebhookSignature {
    public static let signatureHeader = "X-Tokenmeter-Signature"
    public static let timestampHeader = "X-Tokenmeter-Timestamp"
    public static let idHeader = "X-Tokenmeter-Notification-Id"

    /// `sha256=<hex>` for `body` sent at `timestamp` (Unix seconds).
    public static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        "sha256=" + HMACSHA256.hex(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + body)
    }

    /// What a receiver does: recompute and compare in constant time, and refuse stale timestamps.
    public static func verify(secret: String, signature: String, timestamp: Int64, body: [UInt8],
                              now: Date, tolerance: TimeInterval = 300) -> Bool {
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let expected = Array(self.signature(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
