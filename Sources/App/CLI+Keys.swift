import Foundation
import Postgres
import Store
import TokenmeterCore

/// `tokenmeter keys create|list|revoke|rotate`: work directly on the database (embedded or
/// configured), whether or not a server is running. Servers notice a revoked key within the
/// authenticator's cache time (5 s).
extension CLI {
    static func keys(_ arguments: [String], configuration: Configuration, logger: Logger) throws -> Int32 {
        guard let subcommand = arguments.first else { throw UsageError(message: "keys takes create, list, revoke or rotate") }
        var positional: [String] = []
        var options: [String: String] = [:]
        var i = 1
        while i < arguments.count {
            let name = arguments[i]
            if name.hasPrefix("--") {
                guard i + 1 < arguments.count else { throw UsageError(message: "\(name) needs a value") }
                options[name] = arguments[i + 1]
                i += 2
            } else {
                positional.append(name)
                i += 1
            }
        }
        let allowed: Set<String>
        switch subcommand {
        case "create": allowed = ["--project", "--kind"]
        case "list": allowed = ["--project"]
        case "revoke": allowed = ["--grace-seconds"]
        case "rotate": allowed = ["--project", "--kind", "--grace-seconds"]
        default: throw UsageError(message: "keys takes create, list, revoke or rotate, not \"\(subcommand)\"")
        }
        if let unknown = options.keys.sorted().first(where: { !allowed.contains($0) }) { throw UsageError(message: "unknown option \(unknown) for keys \(subcommand)") }
        guard positional.count == (subcommand == "revoke" ? 1 : 0) else {
            throw UsageError(message: subcommand == "revoke" ? "keys revoke needs exactly one key id" : "unexpected argument \"\(positional[0])\"")
        }
        let project = try options["--project"].map(projectName)
        let kind = try options["--kind"].map { value -> KeyKind in
            guard let parsed = KeyKind(rawValue: value) else { throw UsageError(message: "--kind must be ingest or read") }
            return parsed
        }
        let grace = try options["--grace-seconds"].map { value -> Duration in
            guard let seconds = Int(value), (0...31_536_000).contains(seconds) else {
                throw UsageError(message: "--grace-seconds must be an integer in 0...31536000")
            }
            return .seconds(seconds)
        } ?? .zero
        if subcommand == "revoke", !(6...64).contains(positional[0].count) || !positional[0].allSatisfy(\.isHexDigit) {
            throw UsageError(message: "a key id is 6 to 64 hexadecimal digits (see tokenmeter keys list)")
        }
        if subcommand == "create" || subcommand == "rotate", project == nil || kind == nil {
            throw UsageError(message: "keys \(subcommand) needs --project NAME and --kind ingest|read")
        }

        let database = try Database(configuration: configuration, logger: logger)
        defer { database.stopEmbedded() }
        let pool = try migratedPool(database, configuration: configuration, logger: logger)
        defer { pool.close() }
        let store = PostgresKeyStore(pool: pool)
        do {
            switch subcommand {
            case "create":
                print(try store.createKey(project: try store.ensureProject(named: project!), kind: kind!))
            case "list":
                print(keyTable(try store.listKeys(project: project), now: Date()))
            case "revoke":
                let record = try store.revokeKey(id: positional[0], after: grace)
                printError("revoked \(record.id) (\(record.project), \(record.kind.rawValue), \(record.prefix)…) \(status(record, now: Date()))")
            default:
                let (key, revoked) = try store.rotateKeys(project: project!, kind: kind!, after: grace)
                print(key)
                for record in revoked { printError("revoked \(record.id) (\(record.prefix)…) \(status(record, now: Date()))") }
            }
        } catch let error as PostgresKeyStore.KeyManagementError {
            printError("tokenmeter: \(error)")
            return 1
        }
        fflush(nil)
        return 0
    }

    /// A one-connection pool on the migrated database, for commands that work beside (or without) a server.
    static func migratedPool(_ database: Database, configuration: Configuration, logger: Logger) throws -> PostgresPool {
        _ = try database.migrate(configuration: configuration, logger: logger)
        return PostgresPool(connectionString: database.connectionString, size: 1)
    }

    static func projectName(_ value: String) throws -> String {
        guard !value.isEmpty, value.utf8.count <= 128, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw UsageError(message: "--project must be 1-128 printable characters")
        }
        return value
    }

    /// Tab-separated with a header, so both people and `cut`/`awk` can read it.
    static func keyTable(_ records: [KeyRecord], now: Date) -> String {
        let rows = records.map { r in
            [r.id, r.project, r.kind.rawValue, r.prefix + "…", Timestamp.rfc3339(r.createdAt), status(r, now: now)].joined(separator: "\t")
        }
        return (["id\tproject\tkind\tprefix\tcreated\tstatus"] + rows).joined(separator: "\n")
    }

    static func status(_ record: KeyRecord, now: Date) -> String {
        guard let end = record.revokedAt else { return "active" }
        return end > now ? "active until \(Timestamp.rfc3339(end))" : "revoked \(Timestamp.rfc3339(end))"
    }
}
