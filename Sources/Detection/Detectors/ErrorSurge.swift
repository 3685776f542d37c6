import Foundation

/// Call and error counts over a short span: the error-surge rule's input, kept in memory at
/// 10-second resolution so the 60-second rule is not one rollup minute late.
public struct CallSample: Sendable, Hashable {
    public var start: Date
    public var seconds: TimeInterval
    public var calls: Int
    public var errors: Int

    public init(start: Date, seconds: TimeInterval, calls: Int, errors: Int) {
        self.start = start
        self.seconds = seconds
        self.calls = calls
        self.errors = errors
    }

    /// Minute buckets as samples, for callers that only have the rollup.
    public static func minutes(of series: MinuteSeries, endingAt end: Int, count: Int) -> [CallSample] {
        series.buckets(endingAt: end, length: count).map {
            CallSample(start: Minutes.date($0.minute), seconds: 60, calls: $0.calls, errors: $0.errors)
        }
    }
}

public struct ErrorSurgeParameters: Sendable, Hashable {
    public var window: TimeInterval = 60
    /// Error rate that breaches (the 50%).
    public var fireRate = 0.5
    /// Below this rate the surge is over; between the two it is elevated (hysteresis).
    public var resolveRate = 0.25
    /// Calls needed to breach. At a 5% background error rate P(> 50% errors) is 5.4e-10 at
    /// n = 20 but 2.8e-6 at n = 10; at a 20% background 5.6e-4 vs 6.4e-3. Errors are bursty,
    /// so 20 is the least that keeps a clean day quiet.
    public var minimumCalls = 20
    /// Calls needed to call the surge over: 10 calls with under 25% errors is evidence;
    /// 2 calls are not, and silence is none.
    public var minimumCallsToClear = 10
    /// Two consecutive 10 s evaluations.
    public var pendingFor: TimeInterval = 10
    public var criticalRate = 0.9

    public init() {}
}

/// Error surge: the error rate over the last minute. A ratio rule: with too few calls the
/// answer is no data, never clear.
public enum ErrorSurge {
    public static func evaluate(_ samples: [CallSample], scope: Scope,
                                parameters p: ErrorSurgeParameters = .init(), now: Date) -> Evaluation {
        let key = AlertKey(rule: .errorSurge, scope: scope)
        let inWindow = samples.filter { $0.start >= now.addingTimeInterval(-p.window) && $0.start < now }
        let calls = inWindow.reduce(0) { $0 + $1.calls }
        let errors = inWindow.reduce(0) { $0 + $1.errors }
        guard calls > 0 else { return Evaluation(key: key, condition: .noData) }
        let rate = Double(errors) / Double(calls)
        if rate > p.fireRate && calls >= p.minimumCalls {
            let finding = Finding(
                key: key, severity: rate >= p.criticalRate ? .critical : .warning, unit: .ratio,
                value: rate, baseline: nil, threshold: p.fireRate,
                summary: "Error rate \(Format.percent(rate)) (\(errors) of \(calls) calls) in the last "
                    + "\(Int(p.window)) s in \(scope)",
                annotations: ["calls": String(calls), "errors": String(errors)],
                pendingFor: p.pendingFor)
            return Evaluation(key: key, condition: .breaching(finding))
        }
        if rate >= p.resolveRate { return Evaluation(key: key, condition: .elevated) }
        return Evaluation(key: key, condition: calls >= p.minimumCallsToClear ? .clear : .noData)
    }
}
