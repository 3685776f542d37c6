import Foundation
import HTTP
import TokenmeterCore

/// Reads and validates query parameters; every failure is a 400 naming the parameter.
struct QueryParameters {
    let request: HTTPRequest

    func string(_ name: String, maxBytes: Int = 512) throws -> String? {
        let values = request.query.filter { $0.name == name }
        guard let value = values.last?.value else { return nil }
        if values.count > 1 { throw APIError.badRequest("\(name) is given more than once", field: name) }
        guard value.utf8.count <= maxBytes else { throw APIError.badRequest("\(name) is too long (at most \(maxBytes) bytes)", field: name) }
        if value.isEmpty { throw APIError.badRequest("\(name) must not be empty", field: name) }
        return value
    }

    /// Which way a time relative to now is moved onto a whole minute (see `timeRange`).
    enum Alignment {
        case down, up

        func apply(_ date: Date) -> Date {
            Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(self == .down ? .down : .up) * 60)
        }
    }

    /// RFC 3339, epoch milliseconds, `now`, or relative to now: `-24h`, `-30m`, `-7d`, `-90s`, `-2w`.
    /// `aligned` moves `now` and relative times (never explicit ones) onto a whole minute.
    func time(_ name: String, now: Date, aligned alignment: Alignment? = nil) throws -> Date? {
        guard let text = try string(name, maxBytes: 64) else { return nil }
        let align = { (date: Date) in alignment?.apply(date) ?? date }
        if text == "now" { return align(now) }
        if let date = Timestamp.parseRFC3339(text) { return date }
        if let ms = Int64(text), ms >= 0, ms < 8_640_000_000_000_000 { return Date(timeIntervalSince1970: Double(ms) / 1000) }
        if text.hasPrefix("-"), text.count >= 3, let amount = Int(text.dropFirst().dropLast()), amount >= 0, amount <= 10_000_000 {
            let unit: Double
            switch text.last! {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: throw APIError.badRequest("\(name) has an unknown unit; use s, m, h, d or w (e.g. -24h)", field: name)
            }
            return align(now.addingTimeInterval(-Double(amount) * unit))
        }
        throw APIError.badRequest("\(name) must be RFC 3339 (2026-01-31T00:00:00Z), epoch milliseconds, now, or relative like -24h", field: name)
    }

    /// `from`/`to`, defaulting to the last 24 hours; `from` must be before `to`, span at most ~3 years.
    ///
    /// Times relative to now (`now`, `-24h`, an omitted `to`) are aligned to whole minutes, `from`
    /// down and `to` up to the end of the current minute: "the last 24 hours" is then whole minutes
    /// end to end, which the rollups answer, instead of ending mid-minute, which only the raw events
    /// answer (up to a minute of traffic scanned on every dashboard refresh: ~0.7 s at 16,000
    /// events/s). Explicit times (RFC 3339, epoch milliseconds) are used exactly as given.
    func timeRange(now: Date, defaultSpan: TimeInterval = 86_400) throws -> TimeRange {
        let to = try time("to", now: now, aligned: .up) ?? Alignment.up.apply(now)
        let from = try time("from", now: now, aligned: .down) ?? to.addingTimeInterval(-defaultSpan)
        guard from < to else { throw APIError.badRequest("from must be earlier than to", field: "from") }
        guard to.timeIntervalSince(from) <= 1100 * 86_400 else { throw APIError.badRequest("the range may span at most 1100 days", field: "from") }
        return TimeRange(from: from, to: to)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, default value: T) throws -> T where T.RawValue == String {
        guard let text = try string(name, maxBytes: 64) else { return value }
        guard let parsed = T(rawValue: text) else {
            throw APIError.badRequest("\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", field: name)
        }
        return parsed
    }

    func dimensions(_ name: String) throws -> [UsageDimension] {
        guard let text = try string(name, maxBytes: 256) else { return [] }
        var result: [UsageDimension] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let dimension = UsageDimension(rawValue: trimmed) else {
                throw APIError.badRequest("\(name) takes a comma-separated list of \(UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(trimmed.prefix(64))\"", field: name)
            }
            if !result.contains(dimension) { result.append(dimension) }
        }
        return result
    }

    func filters() throws -> [UsageDimension: String] {
        var filters: [UsageDimension: String] = [:]
        for dimension in UsageDimension.allCases {
            if let value = try string(dimension.rawValue) { filters[dimension] = value }
        }
        if let status = filters[.status], EventStatus(rawValue: status) == nil {
            throw APIError.badRequest("status must be ok or error", field: "status")
        }
        return filters
    }

    /// Rejects parameters the endpoint does not know, so a typo is an error rather than a silently wider answer.
    func rejectUnknown(allowed: Set<String>) throws {
        for item in request.query where !allowed.contains(item.name) {
            throw APIError.badRequest("unknown query parameter \"\(item.name.prefix(64))\"", field: String(item.name.prefix(64)))
        }
    }
}
