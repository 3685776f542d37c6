import Foundation

/// Call, error and retry counts over a short span, from raw events: the error-surge and
/// retry-storm rules judge the freshest 60 s with these, so they are not one rollup minute late.
///
/// `requests` counts units of work: an event outside any trace is one, a whole agent trace is
/// one (however many of its steps fall in the span). Error rates are over requests, so one
/// long trace whose steps all fail cannot make a quiet minute look like a surge.
public struct CallSample: Sendable, Hashable {
    public var start: Date
    public var seconds: TimeInterval
    /// Events (LLM calls and tool steps).
    public var calls: Int
    public var errors: Int
    /// Distinct requests (a trace counts once) and those with at least one failed event.
    public var requests: Int
    public var failedRequests: Int
    /// Sum of the events' retry counts, and the requests with any retry.
    public var retries: Int
    public var retryingRequests: Int
    public var http429: Int
    public var http5xx: Int
    public var fallbacks: Int

    /// Without request counts, every call is its own request (what minute rollups can say).
    public init(start: Date, seconds: TimeInterval, calls: Int, errors: Int, requests: Int? = nil,
                failedRequests: Int? = nil, retries: Int = 0, retryingRequests: Int? = nil,
                http429: Int = 0, http5xx: Int = 0, fallbacks: Int = 0) {
        self.start = start
        self.seconds = seconds
        self.calls = calls
        self.errors = errors
        self.requests = requests ?? calls
        self.failedRequests = failedRequests ?? errors
        self.retries = retries
        self.retryingRequests = retryingRequests ?? min(retries, calls)
        self.http429 = http429
        self.http5xx = http5xx
        self.fallbacks = fallbacks
    }

    /// Minute buckets as samples, for callers that only have the rollup.
    public static func minutes(of series: MinuteSeries, endingAt end: Int, count: Int) -> [CallSample] {
        series.buckets(endingAt: end, length: count).map {
            CallSample(start: Minutes.date($0.minute), seconds: 60, calls: $0.calls, errors: $0.errors,
                       retries: $0.retries, http429: $0.http429, http5xx: $0.http5xx, fallbacks: $0.fallbacks)
        }
    }
}

public struct ErrorSurgeParameters: Sendable, Hashable {
    public var window: TimeInterval = 60
    /// Error rate that breaches (the 50%).
    public var fireRate = 0.5
    /// Below this rate the surge is over; between the two it is elevated (hysteresis).
    public var resolveRate = 0.25
    /// Requests (a trace counts once) needed to breach. At a 5% background error rate
    /// P(> 50% of 10 fail) is 2.8e-6 for independent requests; counting requests, not events,
    /// keeps them close to independent (the steps of one failing agent trace are one failure,
    /// not ten). 20 *events* was the old minimum: a busy series at 06:00 makes ~13 requests
    /// (~21 events) a minute, so a surge there waited minutes for its volume (bench/anomaly,
    /// 2.8 min).
    public var minimumCalls = 10
    /// Requests needed to call the surge over: 10 with under 25% failing is evidence; 2 are
    /// not, and silence is none.
    public var minimumCallsToClear = 10
    /// Two consecutive 10 s evaluations: one noisy round never fires.
    public var pendingFor: TimeInterval = 10
    public var criticalRate = 0.9

    public init() {}
}

/// Error surge: the share of failed requests over the last minute. A ratio rule: with too few
/// requests the answer is no data, never clear.
public enum ErrorSurge {
    public static func evaluate(_ samples: [CallSample], scope: Scope,
                                parameters p: ErrorSurgeParameters = .init(), now: Date) -> Evaluation {
        let key = AlertKey(rule: .errorSurge, scope: scope)
        let inWindow = samples.filter { $0.start >= now.addingTimeInterval(-p.window) && $0.start < now }
        let calls = inWindow.reduce(0) { $0 + $1.requests }
        let errors = inWindow.reduce(0) { $0 + $1.failedRequests }
        let events = inWindow.reduce(0) { $0 + $1.calls }, failedEvents = inWindow.reduce(0) { $0 + $1.errors }
        guard calls > 0 else { return Evaluation(key: key, condition: .noData) }
        let rate = Double(errors) / Double(calls)
        if rate > p.fireRate && calls >= p.minimumCalls {
            let finding = Finding(
                key: key, severity: rate >= p.criticalRate ? .critical : .warning, unit: .ratio,
                value: rate, baseline: nil, threshold: p.fireRate,
                summary: "Error rate \(Format.percent(rate)) (\(errors) of \(calls) requests"
                    + (events != calls ? ", \(failedEvents) of \(events) calls" : "") + ") in the last "
                    + "\(Int(p.window)) s in \(scope)",
                annotations: ["requests": String(calls), "failed_requests": String(errors),
                              "calls": String(events), "errors": String(failedEvents)],
                pendingFor: p.pendingFor)
            return Evaluation(key: key, condition: .breaching(finding))
        }
        if rate >= p.resolveRate { return Evaluation(key: key, condition: .elevated) }
        return Evaluation(key: key, condition: calls >= p.minimumCallsToClear ? .clear : .noData)
    }
}
