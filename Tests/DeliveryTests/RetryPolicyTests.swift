@testable import Delivery
import Foundation
import Testing

struct RetryPolicyTests {
    let policy = RetryPolicy(configuration: DeliveryConfiguration())
    let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT

    @Test(arguments: [200, 201, 202, 204, 299])
    func twoHundredsAreDelivered(_ code: Int) {
        #expect(policy.verdict(for: .status(code, retryAfter: nil), now: now) == .delivered)
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504, 599])
    func transientStatusesAreRetried(_ code: Int) {
        #expect(policy.verdict(for: .status(code, retryAfter: nil), now: now) == .retry(reason: "HTTP \(code)", retryAfter: nil))
    }

    @Test(arguments: [301, 302, 400, 401, 403, 404, 405, 410, 413, 422])
    func otherStatusesArePermanent(_ code: Int) {
        #expect(policy.verdict(for: .status(code, retryAfter: nil), now: now) == .permanent(reason: "HTTP \(code)"))
    }

    @Test func networkFailuresAreRetried() {
        #expect(policy.verdict(for: .failed(reason: "curl 7: Couldn't connect to server", timedOut: false), now: now)
            == .retry(reason: "curl 7: Couldn't connect to server", retryAfter: nil))
    }

    @Test func retryAfterReachesTheVerdict() {
        #expect(policy.verdict(for: .status(429, retryAfter: "120"), now: now) == .retry(reason: "HTTP 429", retryAfter: 120))
        #expect(policy.verdict(for: .status(503, retryAfter: "Sun, 06 Nov 1994 08:54:37 GMT"), now: now)
            == .retry(reason: "HTTP 503", retryAfter: 300))
    }

    @Test(arguments: [
        ("120", 120.0), (" 7 ", 7), ("0", 0),
        ("Sun, 06 Nov 1994 08:50:37 GMT", 60), ("Sunday, 06-Nov-94 08:50:37 GMT", 60), ("Sun Nov  6 08:50:37 1994", 60),
        ("Sun, 06 Nov 1994 08:00:00 GMT", 0),  // in the past
    ] as [(String, Double)])
    func parsesRetryAfter(_ text: String, _ seconds: Double) {
        #expect(RetryPolicy.parseRetryAfter(text, now: now) == seconds)
    }

    @Test(arguments: ["", "soon", "-5", "1.5", "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 06 Foo 1994 08:00:00 GMT"])
    func rejectsBadRetryAfter(_ text: String) {
        #expect(RetryPolicy.parseRetryAfter(text, now: now) == nil)
    }

    /// 10 s × 2^(n−1), capped at 1 h, drawn from [d/2, d].
    @Test(arguments: [(1, 0.0, 5.0), (1, 1.0, 10), (2, 0.5, 15), (4, 0.0, 40), (9, 1.0, 2560), (10, 1.0, 3600), (30, 0.0, 1800)]
          as [(Int, Double, Double)])
    func backsOffExponentiallyWithJitter(_ attempts: Int, _ unit: Double, _ delay: Double) {
        #expect(policy.delay(afterAttempts: attempts, retryAfter: nil, unit: unit) == delay)
    }

    @Test func retryAfterWinsOverBackoffButIsCapped() {
        #expect(policy.delay(afterAttempts: 5, retryAfter: 3, unit: 0.5) == 3)
        #expect(policy.delay(afterAttempts: 1, retryAfter: 86_400, unit: 0.5) == 3600)
    }

    @Test func givesUpAfterMaxAttemptsOrMaxAge() {
        let created = now
        #expect(!policy.exhausted(attempts: 29, createdAt: created, nextAttemptAt: created.addingTimeInterval(3600)))
        #expect(policy.exhausted(attempts: 30, createdAt: created, nextAttemptAt: created.addingTimeInterval(3600)))
        #expect(!policy.exhausted(attempts: 2, createdAt: created, nextAttemptAt: created.addingTimeInterval(24 * 3600)))
        #expect(policy.exhausted(attempts: 2, createdAt: created, nextAttemptAt: created.addingTimeInterval(24 * 3600 + 1)))
    }
}
