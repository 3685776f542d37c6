import Foundation
import TokenmeterCore

/// Everything an operator can set, with defaults. Read from flags first, then `TOKENMETER_*`
/// environment variables; only the executable reads the environment.
public struct Configuration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8787
    public var dataDirectory = "./.tokenmeter"
    /// A libpq URL or conninfo; nil runs the embedded Postgres under `dataDirectory/postgres`.
    public var databaseURL: String?
    /// A read replica for queries (usage, latency, requests, …); nil sends them to `databaseURL`.
    public var databaseReadURL: String?
    public var migrationsDirectory: String?
    /// The dashboard files; nil looks for `dashboards` in the current directory and above the binary.
    public var dashboardsDirectory: String?
    public var logLevel = Logger.Level.info
    public var maxBodyBytes = 16 * 1024 * 1024
    public var maxDecompressedBodyBytes = 64 * 1024 * 1024
    public var textCapBytes = 32 * 1024
    public var maxConnections = 10_000
    public var eventLoopThreads = 2
    public var writerThreads = 2
    /// Events accepted but not yet committed, at most; beyond it ingest answers 429. Each queued
    /// event holds about 2 KB (more with text), so this is the bound on ingest memory.
    public var maxQueuedEvents = 200_000
    public var queryThreads = 4
    public var shutdownGraceSeconds = 25
    public var requestTimeoutSeconds = 30
    public var idleTimeoutSeconds = 60
    /// How long start-up waits for the database before giving up with a clear error.
    public var databaseWaitSeconds = 30
    /// Off only to measure what the rollups cost ingest: events are stored but no rollup counts them,
    /// so the analytics endpoints miss them.
    public var rollupsAtIngest = true
    /// How often delta rows of per-user rollups and latency sketches are folded (RollupCompactor).
    /// Short passes: a 10 s interval left ~1,500 pending rows per family at 15,000 events/s, folded
    /// back to back, and acknowledgements waited behind them (bench/halfpeak, bench/RESULTS.md).
    public var compactionIntervalSeconds = 2
    /// Raw events (and their texts and dedup ids) older than this many days are dropped, and ingest
    /// refuses events older than it. (The flag is `--retention-raw-days`: `--raw-retention-days` is
    /// the per-project option of `projects settings`.)
    public var rawRetentionDays = 30
    /// Rollup and sketch rows older than this many days are deleted; at least `rawRetentionDays`.
    public var rollupRetentionDays = 400
    /// How often the storage maintainer creates partitions ahead and applies retention.
    public var maintenanceIntervalSeconds = 3_600
    /// Bearer token of the admin API (`/v1/admin/…`); nil disables it.
    public var adminToken: String?
    /// Failed authentications per client address and minute before unknown keys get 429 (0: off).
    public var authFailuresPerMinute = 30
    /// An OTLP span or resource attribute that names the feature, outranking the built-in names.
    public var otlpFeatureAttribute: String?
    /// How often alerts are evaluated (AlertEvaluator); 0 disables the loop (rounds then run only
    /// through `POST /v1/admin/evaluate`).
    public var alertEvaluationIntervalSeconds = 10
    /// Base URL of the dashboard for links in notifications and `GET /v1/alerts`; nil: no links.
    public var alertDashboardURL: String?
    /// First retry delay of a failed notification, doubled per attempt (Retry-After wins).
    public var alertDeliveryBackoffSeconds = 10
    /// Time for one webhook attempt, connection included; a receiver slower than this is retried.
    public var alertDeliveryTimeoutSeconds = 10
    /// Refuse webhook URLs that resolve to loopback, private or link-local addresses (SSRF guard).
    public var alertBlockPrivateAddresses = false

    public init() {}

    /// One setting: its flag, environment variable, and how to apply a value.
    struct Setting: Sendable {
        let flag: String
        let env: String
        let help: String
        let apply: @Sendable (inout Configuration, String) throws -> Void
    }

    public struct ConfigurationError: Error, CustomStringConvertible {
        public let description: String
    }

    static func integer(_ name: String, _ value: String, in range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(value), range.contains(v) else {
            throw ConfigurationError(description: "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(value.prefix(40))\"")
        }
        return v
    }

    static let settings: [Setting] = [
        Setting(flag: "--host", env: "TOKENMETER_HOST", help: "address to listen on (default 127.0.0.1)") { c, v in
            guard !v.isEmpty, v.utf8.count < 256 else { throw ConfigurationError(description: "TOKENMETER_HOST must be an address") }
            c.host = v
        },
        Setting(flag: "--port", env: "TOKENMETER_PORT", help: "port to listen on (default 8787; 0 = any free port)") { c, v in
            c.port = try integer("TOKENMETER_PORT / --port", v, in: 0...65535)
        },
        Setting(flag: "--data-dir", env: "TOKENMETER_DATA_DIR", help: "state directory: embedded Postgres, credentials (default ./.tokenmeter)") { c, v in
            guard !v.isEmpty else { throw ConfigurationError(description: "TOKENMETER_DATA_DIR must not be empty") }
            c.dataDirectory = v
        },
        Setting(flag: "--database-url", env: "TOKENMETER_DATABASE_URL", help: "libpq URL of an existing Postgres (unset: embedded Postgres)") { c, v in
            c.databaseURL = v.isEmpty ? nil : v
        },
        Setting(flag: "--database-read-url", env: "TOKENMETER_DATABASE_READ_URL", help: "libpq URL of a read replica for queries (unset: the main database)") { c, v in
            c.databaseReadURL = v.isEmpty ? nil : v
        },
        Setting(flag: "--migrations-dir", env: "TOKENMETER_MIGRATIONS_DIR", help: "directory of NNNN_name.sql migrations (default: found next to the binary or ./migrations)") { c, v in
            c.migrationsDirectory = v
        },
        Setting(flag: "--dashboards-dir", env: "TOKENMETER_DASHBOARDS_DIR", help: "directory of the dashboard files (default: found in ./dashboards or next to the binary)") { c, v in
            c.dashboardsDirectory = v.isEmpty ? nil : v
        },
        Setting(flag: "--log-level", env: "TOKENMETER_LOG_LEVEL", help: "debug, info, warning or error (default info)") { c, v in
            guard let level = Logger.Level(name: v) else { throw ConfigurationError(description: "TOKENMETER_LOG_LEVEL must be debug, info, warning or error") }
            c.logLevel = level
        },
        Setting(flag: "--max-body-bytes", env: "TOKENMETER_MAX_BODY_BYTES", help: "largest request body on the wire (default 16 MiB)") { c, v in
            c.maxBodyBytes = try integer("TOKENMETER_MAX_BODY_BYTES", v, in: 1024...(1 << 30))
        },
        Setting(flag: "--max-decompressed-bytes", env: "TOKENMETER_MAX_DECOMPRESSED_BYTES", help: "largest body after gunzip (default 64 MiB)") { c, v in
            c.maxDecompressedBodyBytes = try integer("TOKENMETER_MAX_DECOMPRESSED_BYTES", v, in: 1024...(1 << 31))
        },
        Setting(flag: "--text-cap-bytes", env: "TOKENMETER_TEXT_CAP_BYTES", help: "prompt/response text beyond this is truncated and flagged (default 32 KiB)") { c, v in
            c.textCapBytes = try integer("TOKENMETER_TEXT_CAP_BYTES", v, in: 0...(16 << 20))
        },
        Setting(flag: "--otlp-feature-attribute", env: "TOKENMETER_OTLP_FEATURE_ATTRIBUTE", help: "OTLP attribute that names the feature, e.g. app.feature (default: the built-in names)") { c, v in
            guard v.utf8.count <= 256 else { throw ConfigurationError(description: "TOKENMETER_OTLP_FEATURE_ATTRIBUTE is too long") }
            c.otlpFeatureAttribute = v.isEmpty ? nil : v
        },
        Setting(flag: "--max-connections", env: "TOKENMETER_MAX_CONNECTIONS", help: "open HTTP connections before 503 (default 10000)") { c, v in
            c.maxConnections = try integer("TOKENMETER_MAX_CONNECTIONS", v, in: 1...1_000_000)
        },
        Setting(flag: "--event-loop-threads", env: "TOKENMETER_EVENT_LOOP_THREADS", help: "HTTP event-loop threads (default 2)") { c, v in
            c.eventLoopThreads = try integer("TOKENMETER_EVENT_LOOP_THREADS", v, in: 1...64)
        },
        Setting(flag: "--writer-threads", env: "TOKENMETER_WRITER_THREADS", help: "group-commit writer connections (default 2)") { c, v in
            c.writerThreads = try integer("TOKENMETER_WRITER_THREADS", v, in: 1...32)
        },
        Setting(flag: "--max-queued-events", env: "TOKENMETER_MAX_QUEUED_EVENTS", help: "events accepted but not yet committed before ingest answers 429 (default 200000; ~2 KB each)") { c, v in
            c.maxQueuedEvents = try integer("TOKENMETER_MAX_QUEUED_EVENTS", v, in: 1_000...10_000_000)
        },
        Setting(flag: "--query-threads", env: "TOKENMETER_QUERY_THREADS", help: "threads for queries and request decoding (default 4)") { c, v in
            c.queryThreads = try integer("TOKENMETER_QUERY_THREADS", v, in: 1...256)
        },
        Setting(flag: "--shutdown-grace-seconds", env: "TOKENMETER_SHUTDOWN_GRACE_SECONDS", help: "how long SIGTERM waits for in-flight requests (default 25)") { c, v in
            c.shutdownGraceSeconds = try integer("TOKENMETER_SHUTDOWN_GRACE_SECONDS", v, in: 0...3600)
        },
        Setting(flag: "--request-timeout-seconds", env: "TOKENMETER_REQUEST_TIMEOUT_SECONDS", help: "a request must arrive completely within this (default 30)") { c, v in
            c.requestTimeoutSeconds = try integer("TOKENMETER_REQUEST_TIMEOUT_SECONDS", v, in: 1...3600)
        },
        Setting(flag: "--idle-timeout-seconds", env: "TOKENMETER_IDLE_TIMEOUT_SECONDS", help: "keep-alive connections idle this long are closed (default 60)") { c, v in
            c.idleTimeoutSeconds = try integer("TOKENMETER_IDLE_TIMEOUT_SECONDS", v, in: 1...86_400)
        },
        Setting(flag: "--database-wait-seconds", env: "TOKENMETER_DATABASE_WAIT_SECONDS", help: "how long start-up waits for the database (default 30)") { c, v in
            c.databaseWaitSeconds = try integer("TOKENMETER_DATABASE_WAIT_SECONDS", v, in: 0...3600)
        },
        Setting(flag: "--retention-raw-days", env: "TOKENMETER_RAW_RETENTION_DAYS", help: "days raw events are kept; older ones are refused at ingest (default 30)") { c, v in
            c.rawRetentionDays = try integer("TOKENMETER_RAW_RETENTION_DAYS", v, in: 1...3650)
        },
        Setting(flag: "--retention-rollup-days", env: "TOKENMETER_ROLLUP_RETENTION_DAYS", help: "days rollups are kept, at least the raw retention (default 400)") { c, v in
            c.rollupRetentionDays = try integer("TOKENMETER_ROLLUP_RETENTION_DAYS", v, in: 1...36500)
        },
        Setting(flag: "--maintenance-interval-seconds", env: "TOKENMETER_MAINTENANCE_INTERVAL_SECONDS", help: "how often partitions are created ahead and retention applied (default 3600)") { c, v in
            c.maintenanceIntervalSeconds = try integer("TOKENMETER_MAINTENANCE_INTERVAL_SECONDS", v, in: 10...86_400)
        },
        Setting(flag: "--admin-token", env: "TOKENMETER_ADMIN_TOKEN", help: "bearer token of the admin API, at least 24 characters (unset: no admin API)") { c, v in
            guard v.isEmpty || (24...256).contains(v.utf8.count), v.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
                throw ConfigurationError(description: "TOKENMETER_ADMIN_TOKEN must be 24-256 printable ASCII characters without spaces")
            }
            c.adminToken = v.isEmpty ? nil : v
        },
        Setting(flag: "--auth-failures-per-minute", env: "TOKENMETER_AUTH_FAILURES_PER_MINUTE", help: "failed authentications per address and minute before 429 (default 30; 0 = off)") { c, v in
            c.authFailuresPerMinute = try integer("TOKENMETER_AUTH_FAILURES_PER_MINUTE", v, in: 0...1_000_000)
        },
        Setting(flag: "--rollups-at-ingest", env: "TOKENMETER_ROLLUPS_AT_INGEST", help: "maintain rollups at ingest: true or false (default true; false only to measure their cost)") { c, v in
            guard let flag = Bool(v) else { throw ConfigurationError(description: "TOKENMETER_ROLLUPS_AT_INGEST must be true or false") }
            c.rollupsAtIngest = flag
        },
        Setting(flag: "--compaction-interval-seconds", env: "TOKENMETER_COMPACTION_INTERVAL_SECONDS", help: "how often rollup deltas are folded (default 2)") { c, v in
            c.compactionIntervalSeconds = try integer("TOKENMETER_COMPACTION_INTERVAL_SECONDS", v, in: 1...3600)
        },
        Setting(flag: "--alert-evaluation-interval-seconds", env: "TOKENMETER_ALERT_EVALUATION_INTERVAL_SECONDS", help: "how often alerts are evaluated (default 10; 0 = off)") { c, v in
            c.alertEvaluationIntervalSeconds = try integer("TOKENMETER_ALERT_EVALUATION_INTERVAL_SECONDS", v, in: 0...3600)
        },
        Setting(flag: "--alert-dashboard-url", env: "TOKENMETER_ALERT_DASHBOARD_URL", help: "dashboard base URL for alert links (default: none)") { c, v in
            guard v.isEmpty || ((v.hasPrefix("http://") || v.hasPrefix("https://")) && v.utf8.count <= 1024) else {
                throw ConfigurationError(description: "TOKENMETER_ALERT_DASHBOARD_URL must be an http(s) URL")
            }
            c.alertDashboardURL = v.isEmpty ? nil : v
        },
        Setting(flag: "--alert-delivery-backoff-seconds", env: "TOKENMETER_ALERT_DELIVERY_BACKOFF_SECONDS", help: "first retry delay of a failed notification (default 10)") { c, v in
            c.alertDeliveryBackoffSeconds = try integer("TOKENMETER_ALERT_DELIVERY_BACKOFF_SECONDS", v, in: 1...3600)
        },
        Setting(flag: "--alert-delivery-timeout-seconds", env: "TOKENMETER_ALERT_DELIVERY_TIMEOUT_SECONDS", help: "time for one webhook attempt (default 10)") { c, v in
            c.alertDeliveryTimeoutSeconds = try integer("TOKENMETER_ALERT_DELIVERY_TIMEOUT_SECONDS", v, in: 1...300)
        },
        Setting(flag: "--alert-block-private-addresses", env: "TOKENMETER_ALERT_BLOCK_PRIVATE_ADDRESSES", help: "refuse webhooks to private/loopback addresses: true or false (default false)") { c, v in
            guard let flag = Bool(v) else { throw ConfigurationError(description: "TOKENMETER_ALERT_BLOCK_PRIVATE_ADDRESSES must be true or false") }
            c.alertBlockPrivateAddresses = flag
        },
    ]

    /// Applies the environment, then flags (`--name value` or `--name=value`); returns arguments it did not consume.
    public static func load(arguments: [String], environment: [String: String]) throws -> (Configuration, rest: [String]) {
        var configuration = Configuration()
        for setting in settings {
            if let value = environment[setting.env] { try setting.apply(&configuration, value) }
        }
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            let (name, inline) = argument.split(separator: "=", maxSplits: 1).map(String.init).splitFlag()
            if let setting = settings.first(where: { $0.flag == name }) {
                let value: String
                if let inline { value = inline } else {
                    guard i + 1 < arguments.count else { throw ConfigurationError(description: "\(name) needs a value") }
                    i += 1
                    value = arguments[i]
                }
                try setting.apply(&configuration, value)
            } else {
                rest.append(argument)
            }
            i += 1
        }
        // Rollups answer the ranges raw events no longer can; dropping them first would lose data.
        guard configuration.rollupRetentionDays >= configuration.rawRetentionDays else {
            throw ConfigurationError(description: "TOKENMETER_ROLLUP_RETENTION_DAYS (\(configuration.rollupRetentionDays)) must be at least TOKENMETER_RAW_RETENTION_DAYS (\(configuration.rawRetentionDays))")
        }
        return (configuration, rest)
    }

    static var helpText: String {
        settings.map { "  \($0.flag.padding(toLength: 26, withPad: " ", startingAt: 0)) \($0.env.padding(toLength: 36, withPad: " ", startingAt: 0)) \($0.help)" }
            .joined(separator: "\n")
    }
}

private extension Array where Element == String {
    func splitFlag() -> (String, String?) {
        (self.first ?? "", count > 1 ? self[1] : nil)
    }
}
