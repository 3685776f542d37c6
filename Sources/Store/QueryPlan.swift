import Foundation
import TokenmeterCore

/// Splits a time range into pieces that rollups answer exactly: whole fortnights and weeks from the
/// fortnight (usage by feature and model only) and week rollups (the narrow families have one), whole days from the day rollup, whole 6-hour blocks and hours at the
/// edges from the 6-hour (usage by feature and model only) and hour rollups, whole minutes from the
/// minute rollup, and the ragged ends from raw events. A 30-day range
/// thus reads a few week and day buckets plus edge buckets, never the raw table, and the answer equals
/// the raw answer exactly.
enum Resolution: Int, Comparable, CaseIterable, Sendable {
    case raw = 0, minute, hour, sixHours, day, week, fortnight

    var seconds: Int64 {
        switch self {
        case .raw: return 0
        case .minute: return 60
        case .hour: return 3600
        case .sixHours: return 6 * 3600
        case .day: return 86_400
        case .week: return 7 * 86_400
        case .fortnight: return 14 * 86_400
        }
    }

    /// Where buckets start, in seconds since the epoch (modulo `seconds`): weeks are ISO weeks, as
    /// Postgres's `date_trunc('week', …)` cuts them, and 1970-01-05 was a Monday; fortnights are the
    /// pairs of weeks counted from that Monday (`PendingRollup.bucket`).
    var origin: Int64 { self == .week || self == .fortnight ? 4 * 86_400 : 0 }

    var name: String { ["raw", "minute", "hour", "6h", "day", "week", "2w"][rawValue] }

    static func < (a: Resolution, b: Resolution) -> Bool { a.rawValue < b.rawValue }
}

struct Segment: Equatable {
    var resolution: Resolution
    var from: Date
    var to: Date
    /// -1 for a piece subtracted from the coarser bucket around it (see `QueryPlan.segments`).
    var sign = 1

    var negated: Segment { Segment(resolution: resolution, from: from, to: to, sign: -sign) }
}

enum QueryPlan {
    /// `levels` are the rollup resolutions available (ascending); raw always is.
    ///
    /// With `subtractive`, an edge may instead come from the whole coarser bucket around it minus the
    /// rest of that bucket, when that reads fewer buckets: hours 07:00–24:00 of a day are its day row
    /// minus hours 00:00–07:00, and the week in progress is its week row minus the hours still to come.
    /// Only sums can be answered so (every usage aggregate is one); the answer stays exact.
    /// Buckets after `now` count as free: nothing has been stored there yet.
    static func segments(_ range: TimeRange, levels: [Resolution], subtractive: Bool = false, now: Date = Date()) -> [Segment] {
        Planner(subtractive: subtractive, now: now.timeIntervalSince1970).cover(range.from.timeIntervalSince1970, range.to.timeIntervalSince1970, levels)
    }

    private struct Planner {
        var subtractive: Bool
        var now: Double

        func cover(_ from: Double, _ to: Double, _ levels: [Resolution]) -> [Segment] {
            guard from < to else { return [] }
            guard let coarsest = levels.last else { return [segment(.raw, from, to)] }
            let size = Double(coarsest.seconds), origin = Double(coarsest.origin)
            let start = ((from - origin) / size).rounded(.up) * size + origin
            let end = ((to - origin) / size).rounded(.down) * size + origin
            let finer = Array(levels.dropLast())
            guard start <= end else {
                // Inside one bucket: its finer pieces, or the bucket minus what lies around the range.
                let bucket = start - size
                return cheaper(cover(from, to, finer),
                               [segment(coarsest, bucket, start)] + (cover(bucket, from, finer) + cover(to, start, finer)).map(\.negated))
            }
            let head = cheaper(cover(from, start, finer),
                               from < start ? [segment(coarsest, start - size, start)] + cover(start - size, from, finer).map(\.negated) : [])
            let middle = start < end ? [segment(coarsest, start, end)] : []
            let tail = cheaper(cover(end, to, finer),
                               end < to ? [segment(coarsest, end, end + size)] + cover(to, end + size, finer).map(\.negated) : [])
            return head + middle + tail
        }

        /// The additive plan unless subtraction is allowed and reads fewer buckets; the alternative
        /// is only planned when subtraction is allowed.
        private func cheaper(_ additive: [Segment], _ alternative: @autoclosure () -> [Segment]) -> [Segment] {
            guard subtractive else { return additive }
            let alternative = alternative()
            return !alternative.isEmpty && cost(alternative) < cost(additive) ? alternative : additive
        }

        private func cost(_ segments: [Segment]) -> Double {
            QueryPlan.bucketsRead(segments, now: now)
        }

        private func segment(_ resolution: Resolution, _ from: Double, _ to: Double) -> Segment {
            Segment(resolution: resolution, from: Date(timeIntervalSince1970: from), to: Date(timeIntervalSince1970: to))
        }
    }

    /// Buckets read, counting only those before `now`; a raw piece costs as if each of its minutes
    /// were four buckets (rows of every event rather than one row per group).
    static func bucketsRead(_ segments: [Segment], now: Double) -> Double {
        segments.reduce(0) { total, segment in
            let from = segment.from.timeIntervalSince1970
            let to = min(segment.to.timeIntervalSince1970, max(now, from))
            if segment.resolution == .raw { return total + 4 * (to - from) / 60 }
            return total + ((to - from) / Double(segment.resolution.seconds)).rounded(.up)
        }
    }

    /// What the rollup (non-raw) segments of a plan cover, as disjoint spans with the net sign each
    /// instant gets (adjacent spans of one sign merged, spans that cancel out left out). Rows that sit
    /// at minute resolution (the pending cells every level adds up) are read once over these spans
    /// instead of once per segment; this counts each of them exactly as the segments would.
    static func rollupCoverage(_ segments: [Segment]) -> [Segment] {
        let rollups = segments.filter { $0.resolution != .raw }
        let points = Set(rollups.flatMap { [$0.from, $0.to] }).sorted()
        var spans: [Segment] = []
        for (from, to) in zip(points, points.dropFirst()) {
            let sign = rollups.reduce(0) { $0 + ($1.from <= from && to <= $1.to ? $1.sign : 0) }
            if sign == 0 { continue }
            if let last = spans.last, last.to == from, last.sign == sign {
                spans[spans.count - 1].to = to
            } else {
                spans.append(Segment(resolution: .minute, from: from, to: to, sign: sign))
            }
        }
        return spans
    }

    /// Rollup levels usable for buckets of `interval` in `timeZone`: a level must not be coarser than
    /// the bucket, and 6-hour and day rollups (cut in UTC) only serve UTC buckets; hour rollups serve
    /// other zones only when those zones are whole hours off UTC throughout the range. Weeks serve only queries
    /// without buckets (no interval is coarser than a day).
    static func levels(interval: UsageInterval, timeZone: String?, range: TimeRange, available: [Resolution]) -> [Resolution] {
        var allowed = available
        if let bucket = interval.seconds { allowed = allowed.filter { $0.seconds <= bucket } }
        // Without buckets (interval none) or with minute buckets the zone changes nothing.
        if let name = timeZone, name != "UTC", interval == .hour || interval == .day {
            allowed = allowed.filter { $0 <= .hour }
            if let zone = TimeZone(identifier: name) {
                var date = range.from
                var wholeHours = true
                while date < range.to, wholeHours {
                    wholeHours = zone.secondsFromGMT(for: date) % 3600 == 0
                    date = date.addingTimeInterval(86_400)
                }
                if !wholeHours || zone.secondsFromGMT(for: range.to) % 3600 != 0 { allowed = allowed.filter { $0 != .hour } }
            }
        }
        return allowed
    }
}
