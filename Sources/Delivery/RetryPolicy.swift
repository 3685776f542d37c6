import Foundation

/// What one attempt's outcome means for the notification: done, try again later, or give up.
public enum AttemptVerdict: Sendable, Hashable {
    case delivered
    /// `retryAfter`: the receiver's own hint, when it gave one.
    case retry(reason: String, retryAfter: TimeInterval?)
    case permanent(reason: String)
}

/// Classification and backoff, pure so they are tested without sockets or clocks.
///
/// Retried: network errors and timeouts, 408, 429 and 5xx (Alertmanager retries only 5xx; 429 is
/// added because Slack and many SaaS receivers rate-limit). Permanent: every other status —
/// other 4xx will not change by retrying, and 3xx is not followed (a webhook that redirects
/// is misconfigured, and following redirects would let a receiver point us anywhere).
public struct RetryPolicy: Sendable {
    public var configuration: DeliveryConfiguration

    public init(configuration: DeliveryConfiguration) {
        self.configuration = configuration
    }

    public func verdict(for response: WebhookResponse, now: Date) -> AttemptVerdict {
        switch response {
        case .failed(let reason, _):
            return .retry(reason: reason, retryAfter: nil)
        case .refused(let reason):
            return .permanent(reason: reason)
        case .status(let code, let retryAfter):
            switch code {
            case 200..<300:
                return .delivered
            case 408, 429, 500..<600:
                return .retry(reason: "HTTP \(code)", retryAfter: retryAfter.flatMap { Self.parseRetryAfter($0, now: now) })
            default:
                return .permanent(reason: "HTTP \(code)")
            }
        }
    }

    /// Delay before attempt `attempts + 1`, after `attempts` failed ones (≥ 1): the receiver's
    /// `Retry-After` when given (capped), else `base × 2^(attempts−1)` capped, with "equal
    /// jitter" — a uniform draw in [d/2, d] — so retries of many notifications after one outage
    /// spread out but never come back sooner than half the nominal delay.
    /// `unit` is a uniform draw in [0, 1) (injected, so tests are exact).
    public func delay(afterAttempts attempts: Int, retryAfter: TimeInterval?, unit: Double) -> TimeInterval {
        if let retryAfter { return min(max(retryAfter, 0), configuration.backoffCap) }
        let exponent = min(max(attempts - 1, 0), 30)
        let nominal = min(configuration.backoffBase * pow(2, Double(exponent)), configuration.backoffCap)
        return nominal / 2 + nominal / 2 * min(max(unit, 0), 1)
    }

    /// Whether a failed notification is given up on instead of retried.
    public func exhausted(attempts: Int, createdAt: Date, nextAttemptAt: Date) -> Bool {
        attempts >= configuration.maxAttempts || nextAttemptAt.timeIntervalSince(createdAt) > configuration.maxAge
    }

    /// `Retry-After` as seconds from `now`: delta-seconds (`120`) or an HTTP-date
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 IMF-fixdate; the obsolete RFC 850 and asctime
    /// forms too). A date in the past means 0. Nil when unparseable.
    public static func parseRetryAfter(_ value: String, now: Date) -> TimeInterval? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return Double(text.prefix(10)) ?? nil
        }
        guard let date = parseHTTPDate(text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// IMF-fixdate, RFC 850 or asctime (RFC 9110 §5.6.7), always GMT.
    static func parseHTTPDate(_ text: String) -> Date? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        var day: Int?, month: Int?, year: Int?, time: String?
        switch parts.count {
        case 6 where parts[5] == "GMT":  // Sun, 06 Nov 1994 08:49:37 GMT / Sunday, 06-Nov-94 08:49:37 GMT
            day = Int(parts[1]); month = months.firstIndex(of: parts[2].lowercased()); year = Int(parts[3]); time = parts[4]
            if let y = year, parts[3].count == 2 { year = y < 70 ? 2000 + y : 1900 + y }
        case 5:  // Sun Nov  6 08:49:37 1994
            month = months.firstIndex(of: parts[1].lowercased()); day = Int(parts[2]); time = parts[3]; year = Int(parts[4])
        default:
            return nil
        }
        guard let day, let month, let year, let time, (1...31).contains(day) else { return nil }
        let clock = time.split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (0..<24).contains(clock[0]), (0..<60).contains(clock[1]), (0...60).contains(clock[2]) else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(clock[0])
        fields.tm_min = Int32(clock[1])
        fields.tm_sec = Int32(clock[2])
        return Date(timeIntervalSince1970: Double(timegm(&fields)))
    }
}
