import Foundation
import TokenmeterCore

/// Short human renderings for summaries. Display only: no arithmetic depends on them.
enum Format {
    static func usd(_ value: Double) -> String {
        value.magnitude >= 100 ? "$" + String(format: "%.0f", value)
            : value.magnitude >= 1 ? "$" + String(format: "%.2f", value)
            : "$" + String(format: "%.4f", value)
    }

    static func percent(_ ratio: Double) -> String { String(format: "%.0f%%", ratio * 100) }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }

    static func ms(_ value: Double) -> String { String(format: "%.0f ms", value) }

    static func times(_ value: Double, over base: Double) -> String {
        base > 0 ? String(format: "×%.1f", value / base) : "from zero"
    }

    static func date(_ date: Date) -> String { Timestamp.rfc3339(date) }
}
