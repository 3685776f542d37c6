import Foundation
import TokenmeterCore

/// Splits a time range into pieces that rollups answer exactly: whole weeks from the week rollup (the
/// narrow families have one), whole days from the day rollup, whole hours at the edges from the hour
/// rollup, whole minutes from the minute rollup, and the ragged ends from raw events. A 30-day range
/// thus reads a few week and day buckets plus edge buckets, never the raw table, and the answer equals
/// the raw answer exactly.
enum Resolution: Int, Comparable, CaseIterable, Sendable {
    case raw = 0, minute, hour, day, week

    var seconds: Int64 {
        switch self {
        case .raw: return 0
        case .minute: return 60
        case .hour: return 3600
        case .day: return 86_400
        case .week: return 7 * 86_400
        }
    }

    /// Where buckets start, in seconds since the epoch (modulo `seconds`): weeks are ISO weeks, as
    /// Postgres's `date_trunc('week', …)` cuts them, and 1970-01-05 was a Monday.
    var origin: Int64 { self == .week ? 4 * 86_400 : 0 }

    var name: String { ["raw", "minute", "hour", "day", "week"][rawValue] }

    static func < (a: Resolution, b: Resolution) -> Bool { a.rawValue < b.rawValue }
}

struct Segment: Equatable {
    var resolution: Resolution
    var from: Date
    var to: Date
}

enum QueryPlan {
    /// `levels` are the rollup resolutions available (ascending); raw always is.
    static func segments(_ range: TimeRange, levels: [Resolution]) -> [Segment] {
        guard range.from < range.to else { return [] }
        guard let coarsest = levels.last else { return [Segment(resolution: .raw, from: range.from, to: range.to)] }
        let size = Double(coarsest.seconds), origin = Double(coarsest.origin)
        let start = ((range.from.timeIntervalSince1970 - origin) / size).rounded(.up) * size + origin
        let end = ((range.to.timeIntervalSince1970 - origin) / size).rounded(.down) * size + origin
        let finer = Array(levels.dropLast())
        guard start < end else { return segments(range, levels: finer) }
        let head = segments(TimeRange(from: range.from, to: Date(timeIntervalSince1970: start)), levels: finer)
        let tail = segments(TimeRange(from: Date(timeIntervalSince1970: end), to: range.to), levels: finer)
        return head + [Segment(resolution: coarsest, from: Date(timeIntervalSince1970: start), to: Date(timeIntervalSince1970: end))] + tail
    }

    /// Rollup levels usable for buckets of `interval` in `timeZone`: a level must not be coarser than
    /// the bucket, and day rollups (UTC days) only serve UTC day buckets; hour rollups serve other zones
    /// only when those zones are whole hours off UTC throughout the range. Weeks serve only queries
    /// without buckets (no interval is coarser than a day).
    static func levels(interval: UsageInterval, timeZone: String?, range: TimeRange, available: [Resolution]) -> [Resolution] {
        var allowed = available
        if let bucket = interval.seconds { allowed = allowed.filter { $0.seconds <= bucket } }
        // Without buckets (interval none) or with minute buckets the zone changes nothing.
        if let name = timeZone, name != "UTC", interval == .hour || interval == .day {
            allowed = allowed.filter { $0 < .day }
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
