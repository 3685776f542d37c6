import Foundation
import TokenmeterCore

/// The embedded default: a Postgres cluster under `<data dir>/postgres`, created with `initdb` and run
/// with `pg_ctl` from the installed PostgreSQL, listening only on a Unix socket (no TCP port), trusting
/// only local socket connections. Postgres refuses to run as root; as root we run it as the `postgres`
/// system user.
public final class EmbeddedPostgres: Sendable {
    public struct EmbeddedError: Error, CustomStringConvertible {
        public let description: String
    }

    public let dataDirectory: URL
    public let socketDirectory: URL
    public let binDirectory: URL
    /// The unprivileged user Postgres runs as when we are root; nil when we are not root.
    public let runAs: String?
    private let logger: Logger

    public init(stateDirectory: String, logger: Logger) throws {
        self.logger = logger
        let state = URL(fileURLWithPath: stateDirectory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        binDirectory = try EmbeddedPostgres.findBinDirectory()
        runAs = getuid() == 0 ? "postgres" : nil
        if runAs != nil, !EmbeddedPostgres.traversableByOthers(state.path) {
            // The postgres user cannot reach a directory under e.g. /root (0700): keep the cluster in a
            // system location, one per state directory, and say so.
            let tag = String(SHA256.hex(Array(state.path.utf8)).prefix(12))
            dataDirectory = URL(fileURLWithPath: "/var/lib/tokenmeter/\(tag)/postgres")
            logger.info("state directory is not reachable by the postgres user; keeping the embedded cluster elsewhere",
                        ["postgres.data_dir": dataDirectory.path])
        } else {
            dataDirectory = state.appendingPathComponent("postgres")
        }
        // A Unix socket path is limited to 107 bytes: fall back to a short path in /tmp.
        let preferred = state.appendingPathComponent("run")
        if preferred.path.utf8.count + 20 < 100, runAs == nil || EmbeddedPostgres.traversableByOthers(state.path) {
            socketDirectory = preferred
        } else {
            socketDirectory = URL(fileURLWithPath: "/tmp/tokenmeter-\(SHA256.hex(Array(state.path.utf8)).prefix(12))")
        }
    }

    public func connectionString(database: String) -> String {
        "host=\(socketDirectory.path) user=postgres dbname=\(database)"
    }

    static func findBinDirectory() throws -> URL {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions {
            let bin = URL(fileURLWithPath: "\(root)/\(version)/bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("pg_ctl").path) { return bin }
        }
        throw EmbeddedError(description: "PostgreSQL server binaries not found under \(root); install postgresql-15 (./scripts/run does) or set TOKENMETER_DATABASE_URL")
    }

    static func traversableByOthers(_ path: String) -> Bool {
        var url = URL(fileURLWithPath: path)
        while true {
            let parent = url.deletingLastPathComponent()
            if let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
               let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o001 == 0 {
                return false
            }
            if parent.path == url.path || url.path == "/" { return true }
            url = parent
        }
    }

    /// Creates the cluster on first use, then starts it unless it is already running.
    /// Returns true when this call started it.
    @discardableResult
    public func start() throws -> Bool {
        try prepareDirectories()
        if !FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try initialize()
        }
        if isRunning() { return false }
        try writeTuning()
        let options = "-c listen_addresses='' -c unix_socket_directories='\(socketDirectory.path)'"
        try run(binDirectory.appendingPathComponent("pg_ctl").path,
                ["-D", dataDirectory.path, "-l", dataDirectory.appendingPathComponent("server.log").path, "-w", "-t", "60", "-o", options, "start"],
                what: "start the embedded Postgres (see \(dataDirectory.path)/server.log)")
        logger.info("embedded postgres started", ["postgres.socket_dir": socketDirectory.path])
        return true
    }

    public func isRunning() -> Bool {
        (try? run(binDirectory.appendingPathComponent("pg_ctl").path, ["-D", dataDirectory.path, "status"], what: "status", quiet: true)) != nil
    }

    public func stop() throws {
        guard isRunning() else { return }
        try run(binDirectory.appendingPathComponent("pg_ctl").path, ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"],
                what: "stop the embedded Postgres")
        logger.info("embedded postgres stopped")
    }

    private func prepareDirectories() throws {
        let fm = FileManager.default
        for directory in [dataDirectory.deletingLastPathComponent(), socketDirectory] {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        if !fm.fileExists(atPath: dataDirectory.path) {
            try fm.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if let user = runAs {
            try run("/usr/bin/chown", [user + ":", dataDirectory.path, socketDirectory.path], what: "hand the data directory to \(user)", asRoot: true)
            try run("/usr/bin/chmod", ["0700", dataDirectory.path], what: "restrict the data directory", asRoot: true)
            try run("/usr/bin/chmod", ["0755", socketDirectory.path], what: "open the socket directory", asRoot: true)
        }
    }

    private func initialize() throws {
        logger.info("initializing embedded postgres", ["postgres.data_dir": dataDirectory.path])
        try run(binDirectory.appendingPathComponent("initdb").path,
                ["-D", dataDirectory.path, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], what: "initdb")
        // Only local socket connections, trusted (the socket directory is the boundary).
        try "# Tokenmeter embedded cluster: Unix socket only.\nlocal all all trust\n"
            .write(to: dataDirectory.appendingPathComponent("pg_hba.conf"), atomically: false, encoding: .utf8)
        if let user = runAs {
            try run("/usr/bin/chown", [user + ":", dataDirectory.appendingPathComponent("pg_hba.conf").path], what: "chown config", asRoot: true)
        }
    }

    /// Rewrites `tokenmeter.conf` for this machine and makes sure `postgresql.conf` includes it.
    private func writeTuning() throws {
        let tuning = EmbeddedPostgresTuning(physicalMemoryBytes: ProcessInfo.processInfo.physicalMemory)
        let tuningFile = dataDirectory.appendingPathComponent(EmbeddedPostgresTuning.fileName)
        try Data(tuning.configuration.utf8).write(to: tuningFile)
        let conf = dataDirectory.appendingPathComponent("postgresql.conf")
        let current = try String(contentsOf: conf, encoding: .utf8)
        if let updated = EmbeddedPostgresTuning.includingTuning(current) {
            try Data(updated.utf8).write(to: conf)
        }
        if let user = runAs {
            try run("/usr/bin/chown", [user + ":", tuningFile.path, conf.path], what: "chown config", asRoot: true)
        }
        logger.info("embedded postgres tuned", ["postgres.shared_buffers_mb": String(tuning.sharedBuffersMB),
                                                 "postgres.max_wal_size_mb": String(tuning.maxWalSizeMB)])
    }

    /// Runs a command (as `runAs` unless `asRoot`), from `/` so the unprivileged user never needs our cwd.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String], what: String, asRoot: Bool = false, quiet: Bool = false) throws -> String {
        var command = [executable] + arguments
        if let user = runAs, !asRoot {
            // setpriv just switches ids and execs; runuser opens a PAM session whose cleanup can signal
            // the postmaster that pg_ctl leaves running.
            command = ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + command
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        // Output goes to a file, not a pipe: the postmaster that pg_ctl leaves running would hold a pipe open.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmeter-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status = try Subprocess.run(command, environment: environment, outputPath: outputPath)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            if !quiet { logger.error("embedded postgres command failed", ["command": what, "output": String(text.suffix(2000))]) }
            throw EmbeddedError(description: "could not \(what): \(text.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500))")
        }
        return text
    }
}
