import API
import Delivery
import Detection
import Foundation
import HTTP
import Ingest
import OTLP
import Postgres
import Store
import TokenmeterCore

/// A running Tokenmeter: pools, group committer, query executor, API and HTTP server, wired together.
/// `start` brings them up in order; `shutdown` takes them down in reverse, draining in-flight work.
public final class Server: Sendable {
    public static let version = "0.1.0"

    public let configuration: Configuration
    public let logger: Logger
    public let metrics: Metrics
    private let writePool: PostgresPool
    private let readPool: PostgresPool
    /// Queries go here: a replica's pool when one is configured, else `readPool`.
    private let queryPool: PostgresPool
    private let committer: GroupCommitter
    private let executor: BlockingExecutor
    private let http: HTTPServer
    private let maintenancePool: PostgresPool
    private let compaction: PeriodicTask
    /// Set when an explicit dashboards directory could not be read; `start` reports it.
    private let dashboardError: (any Error)?
    /// Its own connection: a long retention pass must not hold up compaction.
    private let storagePool: PostgresPool
    private let maintenance: PeriodicTask
    private let alertPool: PostgresPool
    private let alertEvaluation: PeriodicTask?
    private let delivery: DeliveryService
    private let memoryTrim = PeriodicTask(name: "tokenmeter-memory-trim", interval: .seconds(2), logger: Logger(label: "memory")) {
        Allocator.trim()
        return false
    }

    public var port: Int { http.boundPort }

    public init(configuration: Configuration, connectionString: String, logger: Logger, priceBook: PriceBook) {
        self.configuration = configuration
        self.logger = logger
        let metrics = Metrics()
        self.metrics = metrics
        writePool = PostgresPool(connectionString: connectionString, size: configuration.writerThreads, acquireTimeout: .seconds(5))
        readPool = PostgresPool(connectionString: connectionString, size: configuration.queryThreads, acquireTimeout: .seconds(5))
        queryPool = configuration.databaseReadURL.map {
            PostgresPool(connectionString: $0, size: configuration.queryThreads, acquireTimeout: .seconds(5))
        } ?? readPool
        var committerConfiguration = GroupCommitter.Configuration()
        committerConfiguration.writerThreads = configuration.writerThreads
        committerConfiguration.maxQueuedEvents = configuration.maxQueuedEvents
        committer = GroupCommitter(writer: PostgresEventWriter(pool: writePool, rollups: configuration.rollupsAtIngest), configuration: committerConfiguration,
                                   logger: logger.with(label: "ingest"), metrics: metrics)
        // One connection per rollup family: the compactor folds the three side by side (a back-fill's backlog).
        maintenancePool = PostgresPool(connectionString: connectionString, size: RollupCompactor.familyCount, acquireTimeout: .seconds(5))
        let compactor = RollupCompactor(pool: maintenancePool)
        compaction = PeriodicTask(name: "tokenmeter-compaction", interval: .seconds(configuration.compactionIntervalSeconds),
                                  logger: logger.with(label: "compaction")) {
            let started = ContinuousClock.now
            let pass = try compactor.compactOnce()
            // What folding costs and how much it moves, for operators and for bench/ingest, which
            // counts the busy time after a load rather than the wait for the next pass.
            metrics.increment("tokenmeter_compaction_seconds_total", by: (ContinuousClock.now - started).seconds,
                              help: "Time spent folding pending rollup rows.")
            metrics.increment("tokenmeter_compaction_rows_folded_total", by: Double(pass.movedRows),
                              help: "Pending rollup rows folded into the keyed tables.")
            return pass.backlog
        }
        storagePool = PostgresPool(connectionString: connectionString, size: 1, acquireTimeout: .seconds(5))
        let maintainer = StorageMaintainer(pool: storagePool, policy: RetentionPolicy(
            rawDays: configuration.rawRetentionDays, rollupDays: configuration.rollupRetentionDays))
        let storageLogger = logger.with(label: "storage")
        maintenance = PeriodicTask(name: "tokenmeter-storage", interval: .seconds(configuration.maintenanceIntervalSeconds),
                                   logger: storageLogger) {
            let pass = try maintainer.runOnce()
            if pass.didWork {
                storageLogger.info("storage maintenance", [
                    "partitions.created": String(pass.partitionsCreated), "partitions.dropped": String(pass.partitionsDropped),
                    "events.deleted": String(pass.eventsDeleted), "ids.expired": String(pass.idsExpired),
                    "rollups.deleted": String(pass.rollupRowsDeleted), "backlog": String(pass.backlog),
                ])
            }
            return pass.backlog
        }
        executor = BlockingExecutor(name: "tokenmeter-query", threads: configuration.queryThreads, maxQueued: 10_000)
        var limits = IngestLimits()
        limits.textCapBytes = configuration.textCapBytes
        limits.maxAgeSeconds = Double(configuration.rawRetentionDays) * 86_400
        let keys = PostgresKeyStore(pool: readPool)
        let overrides = PostgresPriceOverrides(pool: readPool)
        let readPool = self.readPool
        let settings = PostgresProjectSettings(pool: readPool)
        var dependencies = APIDependencies(
            decoder: EventDecoder(limits: limits), committer: committer, usage: PostgresUsageReader(pool: queryPool),
            authenticator: Authenticator(keys: keys, failures: AuthFailureLimiter(limit: configuration.authFailuresPerMinute)), priceBooks: ProjectPriceBooks(shipped: priceBook, overrides: overrides),
            priceOverrides: overrides, executor: executor, metrics: metrics, logger: logger.with(label: "api"),
            version: Server.version, isReady: { readPool.checkHealth() },
            textPolicies: ProjectTextPolicies(repository: settings))
        dependencies.admin = configuration.adminToken.map { AdminDependencies(token: $0, keys: keys, settings: settings, retention: PostgresRetentionSettings(pool: readPool)) }
        // Log texts are written by the query threads, one connection each at most, so the read pool
        // (sized to those threads) cannot run dry under them.
        dependencies.otlp = OTLPDependencies(options: OTLPMappingOptions(limits: limits, featureAttribute: configuration.otlpFeatureAttribute),
                                             spanTexts: PostgresSpanTextStore(pool: readPool))
        do {
            let directory = try DashboardFiles.locate(explicit: configuration.dashboardsDirectory,
                                                      executablePath: CommandLine.arguments.first.flatMap(Database.executablePath))
            dependencies.dashboards = try directory.map(DashboardFiles.load)
            dashboardError = nil
            if let directory, let files = dependencies.dashboards {
                logger.info("dashboards loaded", ["dashboards.dir": directory.path, "dashboards.files": String(files.names.count), "dashboards.bytes": String(files.totalBytes)])
            } else {
                logger.warning("no dashboards directory found; / answers the JSON route list")
            }
        } catch {
            dashboardError = error
        }
        let alerts = Server.alerting(configuration: configuration, connectionString: connectionString, logger: logger, metrics: metrics,
                                     usage: PostgresUsageReader(pool: queryPool))
        alertPool = alerts.pool
        alertEvaluation = alerts.loop
        delivery = alerts.delivery
        dependencies.alerts = alerts.dependencies
        let api = TokenmeterAPI(dependencies)
        var httpConfiguration = HTTPServerConfiguration()
        httpConfiguration.host = configuration.host
        httpConfiguration.port = configuration.port
        httpConfiguration.eventLoopThreads = configuration.eventLoopThreads
        httpConfiguration.maxBodyBytes = configuration.maxBodyBytes
        httpConfiguration.maxDecompressedBodyBytes = configuration.maxDecompressedBodyBytes
        httpConfiguration.maxConnections = configuration.maxConnections
        httpConfiguration.requestTimeout = .seconds(configuration.requestTimeoutSeconds)
        httpConfiguration.idleTimeout = .seconds(configuration.idleTimeoutSeconds)
        http = HTTPServer(configuration: httpConfiguration, responder: api)
        let http = self.http
        metrics.gauge("tokenmeter_http_open_connections", help: "Open HTTP connections.") { Double(http.openConnections) }
        metrics.gauge("tokenmeter_process_resident_memory_bytes", help: "Resident set size of the process.") { Double(Server.residentMemoryBytes()) }
    }

    public func start() throws {
        if let dashboardError { throw dashboardError }
        committer.start()
        compaction.start()
        maintenance.start()
        memoryTrim.start()
        delivery.start()
        alertEvaluation?.start()
        try http.start()
        logger.info("listening", ["http.host": configuration.host, "http.port": String(http.boundPort)])
    }

    /// Stop accepting, let in-flight requests finish (their events get committed), then stop the writers,
    /// the query threads and the pools.
    public func shutdown() {
        logger.info("shutting down")
        http.shutdown(gracePeriod: .seconds(configuration.shutdownGraceSeconds))
        committer.shutdown()
        compaction.stop()
        maintenance.stop()
        alertEvaluation?.stop()
        delivery.stop()
        memoryTrim.stop()
        executor.shutdown()
        writePool.close()
        readPool.close()
        if queryPool !== readPool { queryPool.close() }
        maintenancePool.close()
        storagePool.close()
        alertPool.close()
        logger.info("shut down cleanly")
    }

    static func residentMemoryBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
