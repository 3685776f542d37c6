import Foundation
import Postgres
import Store
import TokenmeterCore

/// `tokenmeter projects settings NAME [--store-text on|off] [--redact all|none|KIND,KIND…]
/// [--raw-retention-days N|default]`: shows (and with options, changes) what the project keeps of
/// prompts and responses, and for how long its raw events are kept. Running servers apply a text
/// change within 5 s, a retention change at their next storage pass.
extension CLI {
    static func projects(_ arguments: [String], configuration: Configuration, logger: Logger) throws -> Int32 {
        guard arguments.first == "settings", arguments.count >= 2, !arguments[1].hasPrefix("--") else {
            throw UsageError(message: "projects takes: settings NAME [--store-text on|off] [--redact all|none|KIND,KIND...] [--raw-retention-days N|default]")
        }
        let name = try projectName(arguments[1])
        var storeText: Bool?
        var redact: Set<RedactionKind>?
        var retention: Int??
        var i = 2
        while i < arguments.count {
            let option = arguments[i]
            guard i + 1 < arguments.count else { throw UsageError(message: "\(option) needs a value") }
            let value = arguments[i + 1]
            switch option {
            case "--store-text":
                guard value == "on" || value == "off" else { throw UsageError(message: "--store-text must be on or off") }
                storeText = value == "on"
            case "--redact":
                redact = try redactionKinds(value)
            case "--raw-retention-days":
                retention = try rawRetentionDays(value)
            default:
                throw UsageError(message: "unknown option \(option) for projects settings")
            }
            i += 2
        }
        let database = try Database(configuration: configuration, logger: logger)
        defer { database.stopEmbedded() }
        let pool = try migratedPool(database, configuration: configuration, logger: logger)
        defer { pool.close() }
        let settings = PostgresProjectSettings(pool: pool)
        let retentionSettings = PostgresRetentionSettings(pool: pool)
        if let retention, try !retentionSettings.setRawRetentionDays(projectNamed: name, days: retention) {
            printError("tokenmeter: there is no project \"\(name)\"")
            return 1
        }
        // Without options this only reads: an update that sets nothing returns the current values.
        guard let policy = try settings.update(projectNamed: name, storeText: storeText, redact: redact) else {
            printError("tokenmeter: there is no project \"\(name)\"")
            return 1
        }
        print("store_text\t\(policy.storeText ? "on" : "off")")
        print("redact\t\(policy.redactor.kinds.isEmpty ? "none" : policy.redactor.kinds.sorted().map(\.rawValue).joined(separator: ","))")
        let days = try retentionSettings.rawRetentionDays(projectNamed: name) ?? nil
        print("raw_retention_days\t\(days.map(String.init) ?? "default")")
        fflush(nil)
        return 0
    }

    /// `default` (the server's retention) or a number of days.
    static func rawRetentionDays(_ value: String) throws -> Int? {
        if value == "default" { return nil }
        guard let days = Int(value), (1...3650).contains(days) else {
            throw UsageError(message: "--raw-retention-days takes default or a number of days from 1 to 3650")
        }
        return days
    }

    static func redactionKinds(_ value: String) throws -> Set<RedactionKind> {
        switch value {
        case "all": return Set(RedactionKind.allCases)
        case "none": return []
        default:
            var kinds = Set<RedactionKind>()
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let kind = RedactionKind(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                    throw UsageError(message: "--redact takes all, none or a list of \(RedactionKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kinds.insert(kind)
            }
            return kinds
        }
    }
}
