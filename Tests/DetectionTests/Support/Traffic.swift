import Foundation
import TokenmeterCore
@testable import Detection

/// Hand-built traffic for detector tests: deterministic, seasonal, a little noisy.
enum Traffic {
    /// Monday 2026-11-02 00:00 UTC, as an epoch minute. Tests start history here.
    static let monday = 29_892_960

    static let project = ProjectID(7)
    static let chat = Scope(project: project, labels: ["feature": "chat"])

    static func date(_ minute: Int) -> Date { Minutes.date(minute) }

    /// A repeatable pseudo-random number in [-1, 1] for a minute and a stream (splitmix64).
    static func noise(_ minute: Int, _ stream: UInt64 = 0) -> Double {
        var z = UInt64(bitPattern: Int64(minute)) &+ stream &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z % 2_000_001) / 1_000_000 - 1
    }

    /// Office-hours shape: 1 at night, `peak` between 09:00 and 18:00 UTC on weekdays,
    /// weekends at 40% of that.
    static func shape(_ minute: Int, peak: Double) -> Double {
        let offset = minute - monday
        let day = ((offset / Minutes.perDay) % 7 + 7) % 7          // 0 = Monday
        let hour = ((offset % Minutes.perDay) + Minutes.perDay) % Minutes.perDay / 60
        let daytime = hour >= 9 && hour < 18 ? peak : 1
        return day >= 5 ? max(1, daytime * 0.4) : daytime
    }

    /// A minute of traffic: `calls` (±20% noise) at `costPerCall` dollars (±30% noise).
    static func bucket(_ minute: Int, calls: Double, costPerCall: Double) -> MinuteBucket {
        let n = max(0, Int((calls * (1 + 0.2 * noise(minute, 1))).rounded()))
        let cost = Double(n) * costPerCall * (1 + 0.3 * noise(minute, 2))
        return MinuteBucket(minute: minute, calls: n, cost: dollars(cost))
    }

    static func dollars(_ usd: Double) -> Money {
        Money(picodollars: Int64((usd * 1e12).rounded()))
    }

    /// `days` of seasonal history ending at `end` (exclusive), base `calls` a minute at night.
    static func seasonal(scope: Scope = chat, end: Int, days: Int, calls: Double, peak: Double = 5,
                         costPerCall: Double = 0.002,
                         adjust: (inout MinuteBucket) -> Void = { _ in }) -> MinuteSeries {
        let since = end - days * Minutes.perDay
        let buckets = (since..<end).map { minute -> MinuteBucket in
            var bucket = bucket(minute, calls: calls * shape(minute, peak: peak), costPerCall: costPerCall)
            adjust(&bucket)
            return bucket
        }
        return MinuteSeries(scope: scope, since: since, buckets: buckets)
    }

    /// Multiplies calls and cost of the minutes in `range` by `factor` (a spike).
    static func spike(_ range: Range<Int>, _ factor: Double) -> (inout MinuteBucket) -> Void {
        { bucket in
            guard range.contains(bucket.minute) else { return }
            bucket.calls = Int((Double(bucket.calls) * factor).rounded())
            bucket.cost = dollars(bucket.cost.usd * factor)
        }
    }
}
