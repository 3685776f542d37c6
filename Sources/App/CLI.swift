import Foundation
import Postgres
import Store
import TokenmeterCore

/// `tokenmeter [serve] | migrate | keys create|list|revoke|rotate | projects settings | version | help`.
/// Standard output carries only what scripts capture (keys, version); logs go to standard error.
public enum CLI {
    public static func main(arguments: [String], environment: [String: String]) -> Int32 {
        // Block the shutdown signals before any thread exists, so every thread inherits the mask and
        // the main thread alone receives them through sigwait.
        // A shell starts background jobs with SIGINT ignored; an ignored signal is dropped even when blocked.
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        let configuration: Configuration
        var rest: [String]
        do {
            (configuration, rest) = try Configuration.load(arguments: Array(arguments.dropFirst()), environment: environment)
        } catch {
            printError("tokenmeter: \(error)")
            return 2
        }
        let logger = Logger(label: "tokenmeter", minimumLevel: configuration.logLevel)
        let command = rest.first.map { $0.hasPrefix("-") ? "serve" : $0 } ?? "serve"
        if !rest.isEmpty, !rest[0].hasPrefix("-") { rest.removeFirst() }
        do {
            switch command {
            case "serve":
                try requireNoArguments(rest)
                return try serve(configuration, logger: logger, signals: signals)
            case "migrate":
                try requireNoArguments(rest)
                let database = try Database(configuration: configuration, logger: logger)
                defer { database.stopEmbedded() }
                let applied = try database.migrate(configuration: configuration, logger: logger)
                logger.info(applied.isEmpty ? "schema is up to date" : "migrated", ["migrations.applied": String(applied.count)])
                return 0
            case "keys":
                return try keys(rest, configuration: configuration, logger: logger)
            case "projects":
                return try projects(rest, configuration: configuration, logger: logger)
            case "version", "--version":
                print(Server.version)
                return 0
            case "help", "--help", "-h":
                print(usage)
                return 0
            default:
                printError("tokenmeter: unknown command \"\(command)\"\n\n\(usage)")
                return 2
            }
        } catch let error as UsageError {
            printError("tokenmeter: \(error.message)\n\n\(usage)")
            return 2
        } catch {
            logger.error("fatal", ["error": String(describing: error)])
            printError("tokenmeter: \(error)")
            return 1
        }
    }

    struct UsageError: Error { let message: String }

    static func requireNoArguments(_ rest: [String]) throws {
        if let first = rest.first { throw UsageError(message: "unexpected argument \"\(first)\"") }
    }

    static let usage = """
        usage: tokenmeter [serve] [options]      run the server (default)
               tokenmeter migrate [options]      apply database migrations and exit
               tokenmeter keys create --project NAME --kind ingest|read [options]
                                                 create a key (and the project if needed); prints only the key
               tokenmeter keys list [--project NAME]
                                                 id, project, kind, prefix, created, status of every key
               tokenmeter keys revoke ID [--grace-seconds N]
                                                 stop the key (now, or after N seconds) on every instance
               tokenmeter keys rotate --project NAME --kind ingest|read [--grace-seconds N]
                                                 a new key (printed), the others of that kind revoked after N seconds
               tokenmeter projects settings NAME [--store-text on|off] [--redact all|none|email,phone,card,iban,secret]
                                                 [--raw-retention-days N|default]
                                                 show or change what the project keeps of prompts and responses,
                                                 and for how many days it keeps raw events
               tokenmeter version

        options (flag, environment variable, meaning):
        \(Configuration.helpText)
        """

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func serve(_ configuration: Configuration, logger: Logger, signals: sigset_t) throws -> Int32 {
        Allocator.returnMemoryEagerly()
        let database = try Database(configuration: configuration, logger: logger)
        // Until this server is up, stop only a cluster this process started: a failed second start
        // must not take the database away from a server already running on the same data directory.
        var serving = false
        defer { database.stopEmbedded(force: serving) }
        _ = try database.migrate(configuration: configuration, logger: logger)
        let priceBook = try PriceBook.shipped()
        try bootstrap(database: database, configuration: configuration)
        let server = Server(configuration: configuration, connectionString: database.connectionString, logger: logger, priceBook: priceBook)
        try server.start()
        serving = true
        var set = signals
        var received: Int32 = 0
        sigwait(&set, &received)
        logger.info("signal received", ["signal": received == SIGTERM ? "SIGTERM" : "SIGINT"])
        server.shutdown()
        return 0
    }

    /// First start on an empty database: create project `default` with one ingest and one read key,
    /// print them once, and save them to `<data dir>/credentials` (mode 0600).
    static func bootstrap(database: Database, configuration: Configuration) throws {
        let pool = PostgresPool(connectionString: database.connectionString, size: 1)
        defer { pool.close() }
        let store = PostgresKeyStore(pool: pool)
        guard try store.projectCount() == 0, let project = try store.createProjectIfAbsent(named: "default") else { return }
        let ingest = try store.createKey(project: project, kind: .ingest)
        let read = try store.createKey(project: project, kind: .read)
        let path = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("credentials").path
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let contents = "# Tokenmeter keys for project \"default\", created \(Timestamp.rfc3339(Date())). Keep this file private.\nTOKENMETER_PROJECT=default\nTOKENMETER_INGEST_KEY=\(ingest)\nTOKENMETER_READ_KEY=\(read)\n"
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        chmod(path, 0o600)
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
        print("""
            Created project "default". Its keys are shown this once and saved to \(path) (mode 0600):
              ingest key: \(ingest)
              read key:   \(read)
            """)
        fflush(nil)
    }

}
