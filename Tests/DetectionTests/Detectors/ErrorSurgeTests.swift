import Foundation
import Testing
@testable import Detection

struct ErrorSurgeTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Six 10-second samples covering the last minute, calls and errors spread evenly.
    static func lastMinute(calls: Int, errors: Int) -> [CallSample] {
        (0..<6).map { i in
            CallSample(start: now.addingTimeInterval(Double(-60 + 10 * i)), seconds: 10,
                       calls: calls / 6 + (i < calls % 6 ? 1 : 0), errors: errors / 6 + (i < errors % 6 ? 1 : 0))
        }
    }

    static func evaluate(calls: Int, errors: Int) -> Evaluation {
        ErrorSurge.evaluate(lastMinute(calls: calls, errors: errors), scope: Traffic.chat, now: now)
    }

    @Test func firesAboveHalfWithEnoughCalls() throws {
        let finding = try #require(Self.evaluate(calls: 30, errors: 18).finding)
        #expect(abs(finding.value - 0.6) < 1e-9)
        #expect(finding.threshold == 0.5)
        #expect(finding.pendingFor == 10)
        #expect(finding.severity == .warning)
        #expect(Self.evaluate(calls: 20, errors: 19).finding?.severity == .critical)
    }

    @Test func exactlyHalfIsNotASurge() {
        #expect(Self.evaluate(calls: 40, errors: 20).condition == .elevated)
    }

    @Test func fewCallsNeverBreachEvenWhenAllFail() {
        #expect(Self.evaluate(calls: 8, errors: 8).condition == .elevated)
        #expect(Self.evaluate(calls: 9, errors: 9).finding == nil)
        #expect(Self.evaluate(calls: 10, errors: 6).finding != nil, "10 requests are enough")
    }

    /// Requests, not events: one agent trace whose 12 steps all failed is one failed request.
    /// By events (12 of 20 failed) this minute would breach; by requests (1 of 9) it is
    /// not even enough volume to judge.
    @Test func oneFailingTraceIsOneFailedRequest() {
        let sample = CallSample(start: Self.now.addingTimeInterval(-60), seconds: 60, calls: 20, errors: 12,
                                requests: 9, failedRequests: 1)
        #expect(ErrorSurge.evaluate([sample], scope: Traffic.chat, now: Self.now).condition == .noData)
        let busier = CallSample(start: Self.now.addingTimeInterval(-60), seconds: 60, calls: 30, errors: 12,
                                requests: 19, failedRequests: 1)
        #expect(ErrorSurge.evaluate([busier], scope: Traffic.chat, now: Self.now).condition == .clear)
    }

    @Test func theSummaryCountsRequestsAndCalls() throws {
        let sample = CallSample(start: Self.now.addingTimeInterval(-60), seconds: 60, calls: 40, errors: 30,
                                requests: 12, failedRequests: 9)
        let finding = try #require(ErrorSurge.evaluate([sample], scope: Traffic.chat, now: Self.now).finding)
        #expect(abs(finding.value - 0.75) < 1e-9)
        #expect(finding.summary.contains("9 of 12 requests, 30 of 40 calls"), "\(finding.summary)")
        #expect(finding.annotations["requests"] == "12" && finding.annotations["calls"] == "40")
    }

    @Test(arguments: [(30, 9, Condition.elevated), (30, 3, .clear), (12, 0, .clear), (4, 0, .noData), (0, 0, .noData)])
    func belowTheSurge(_ calls: Int, _ errors: Int, _ expected: Condition) {
        #expect(Self.evaluate(calls: calls, errors: errors) == Evaluation(key: AlertKey(rule: .errorSurge, scope: Traffic.chat), condition: expected))
    }

    @Test func samplesOutsideTheLastMinuteAreIgnored() {
        let old = CallSample(start: Self.now.addingTimeInterval(-70), seconds: 10, calls: 100, errors: 100)
        let evaluation = ErrorSurge.evaluate([old] + Self.lastMinute(calls: 30, errors: 0), scope: Traffic.chat, now: Self.now)
        #expect(evaluation.condition == .clear)
    }

    @Test func minuteBucketsWorkToo() throws {
        let end = Traffic.monday + 600
        let series = MinuteSeries(scope: Traffic.chat, since: Traffic.monday, buckets: [
            MinuteBucket(minute: end - 2, calls: 50, errors: 1), MinuteBucket(minute: end - 1, calls: 40, errors: 30),
        ])
        let samples = CallSample.minutes(of: series, endingAt: end, count: 1)
        let finding = try #require(ErrorSurge.evaluate(samples, scope: Traffic.chat, now: Traffic.date(end)).finding)
        #expect(abs(finding.value - 0.75) < 1e-9)
    }
}
