import Foundation
import Postgres
import Store
import TokenmeterCore

/// `tokenmeter projects settings NAME [--store-text on|off] [--redact all|none|KIND,KIND…]`: shows
/// (and with options, changes) what the project keeps of prompts and responses. Running servers
/// apply a change within 5 s.
extension CLI {
    static func projects(_ arguments: [String], configuration: Configuration, logger: Logger) throws -> Int32 {
        guard arguments.first == "settings", arguments.count >= 2, !arguments[1].hasPrefix("--") else {
            throw UsageError(message: "projects takes: settings NAME [--store-text on|off] [--redact all|none|KIND,KIND...]")
        }
        let name = try projectName(arguments[1])
        var storeText: Bool?
        var redact: Set<RedactionKind>?
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
        // Without options this only reads: an update that sets nothing returns the current values.
        guard let policy = try settings.update(projectNamed: name, storeText: storeText, redact: redact) else {
            printError("tokenmeter: there is no project \"\(name)\"")
            return 1
        }
        print("store_text\t\(policy.storeText ? "on" : "off")")
        print("redact\t\(policy.redactor.kinds.isEmpty ? "none" : policy.redactor.kinds.sorted().map(\.rawValue).joined(separator: ","))")
        fflush(nil)
        return 0
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
