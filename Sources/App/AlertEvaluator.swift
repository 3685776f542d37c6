import Delivery
import Detection
// TokenmeterCore has a LatencyMetric too (the query API's), and the module name is shadowed by its
// `Detection` enum, so the detectors' one is imported by name.
import enum Detection.LatencyMetric
import Foundation
import Postgres
import Store
import Synchronization
import TokenmeterCore

/// One evaluation round: load signals from the rollups and recent events, run the detectors and
/// the alert state machine, and store the instances and the notifications they produce in ONE
/// transaction. Rounds run under a transaction-level advisory lock, so with several instances
/// on one database exactly one evaluates at a time and each incident is stored (and notified)
/// once; the others skip the round.
///
/// Time: `now` is the evaluation time (the wall clock in the server, any instant in tests and
/// replays); detectors judge up to the watermark `now − ingestGrace`, so events that arrive a
/// little late still count before their minute is judged. The fast rules' 60-second raw-event
/// window ends at `now − freshGrace` instead (a few seconds: a rate over a minute hardly
/// moves when the last seconds' events are still being committed, and a 2-minute detection
/// budget cannot spend 30 s waiting).
final class AlertEvaluator: Sendable {
    private let pool: PostgresPool
    private let budgets: PostgresAlertStore
    private let signals: AlertSignalReader
    private let outbox: AlertOutbox
    private let machine = AlertStateMachine()
    let ingestGrace: TimeInterval
    let freshGrace: TimeInterval
    let status: AlertStatus
    private let logger: Logger
    /// Series-detector answers per project for the minute they judged: minute rollups change only
    /// once a minute closes, so rounds within one minute (every 10 s) reuse them. The retry
    /// storm is judged every round (its freshest 60 s come from raw events) on the cached series
    /// and retry baselines.
    private let seriesCache = Mutex<[Int64: SeriesRound]>([:])

    private struct SeriesRound: Sendable {
        var minute: Int
        var evaluations: [Evaluation]
        var retrySeries: [(series: MinuteSeries, history: RetryStorm.History)]
    }
    /// Spend-spike noise calibrations per scope and hour: calibrating scans a week of windows,
    /// which is most of a round's work when done every minute (the detector's own advice).
    private let history = MinuteHistory()
    private let calibrations = PeriodCache<Scope, SpendCalibration>()
    /// Latency and TTFT spreads per scope and hour, likewise: each merges the sketches of a week of
    /// hourly windows (what made a round of the false-alert benchmark take ~150 ms per series).
    private let latencySpreads = PeriodCache<LatencySpreadKey, Double>()
    private struct LatencySpreadKey: Hashable {
        var scope: Scope
        var metric: LatencyMetric
        var parameters: LatencyRegressionParameters
    }
    /// Trace norms per project and day: a week of traces moves little in a day, and grouping it
    /// every 10 s would be most of a round.
    private let traceNorms = PeriodCache<Int64, [String: TraceNorm]>()

    /// "tm_alrt" in ASCII; any constant shared by every instance.
    static let advisoryLockKey: Int64 = 0x746D_5F61_6C72_74

    init(pool: PostgresPool, budgets: PostgresAlertStore, signals: AlertSignalReader, payloads: PayloadConfiguration,
         ingestGrace: TimeInterval = 30, freshGrace: TimeInterval = 5, status: AlertStatus, logger: Logger) {
        self.pool = pool
        self.budgets = budgets
        self.signals = signals
        self.outbox = AlertOutbox(payloads: payloads)
        self.ingestGrace = ingestGrace
        self.freshGrace = freshGrace
        self.status = status
        self.logger = logger
    }

    struct Round: Sendable, Equatable {
        /// False when another session held the lock.
        var ran = false
        var projects = 0
        var evaluations = 0
        var notifications = 0
        var outboxRows = 0
    }

    func evaluate(now: Date) throws -> Round {
        let watermark = now.addingTimeInterval(-ingestGrace)
        let round = try pool.withConnection { connection in
            try connection.transaction { tx -> Round in
                let locked = try tx.query("SELECT pg_try_advisory_xact_lock(\(Self.advisoryLockKey)) AS locked")
                guard try locked.rows.first?.decode(Bool.self, column: "locked") == true else { return Round() }
                let projects = try AlertSignalReader.activeProjects(now: watermark, on: tx)
                let previous = try AlertInstanceStore.live(projects: projects, on: tx)
                var evaluations: [Evaluation] = []
                for project in projects {
                    evaluations += try self.evaluations(project: project, watermark: watermark,
                                                        fresh: now.addingTimeInterval(-freshGrace), previous: previous, on: tx)
                }
                let step = machine.step(previous: previous, evaluations: evaluations, now: watermark)
                try AlertInstanceStore.persist(step, previous: previous, on: tx)
                let rows = try outbox.enqueue(step.notifications, in: tx, now: now)
                return Round(ran: true, projects: projects.count, evaluations: evaluations.count,
                             notifications: step.notifications.count, outboxRows: rows)
            }
        }
        status.record(round)
        if round.notifications > 0 {
            logger.info("alert notifications enqueued", ["alerts.notifications": String(round.notifications),
                                                          "alerts.outbox_rows": String(round.outboxRows)])
        }
        do {
            try status.refresh(pool: pool)
        } catch {
            // The round is committed; stale gauges until the next one are no reason to fail it.
            logger.warning("alert gauges not refreshed", ["error": String(describing: error)])
        }
        return round
    }

    /// The project's trace norms for the day of `watermark`, computed at most once a day: they
    /// read a week of raw events, which grows with traffic, and a week's p99 moves slowly.
    private func norms(project: ProjectID, watermark: Date, on tx: PostgresConnection) throws -> [String: TraceNorm] {
        let day = Int((watermark.timeIntervalSince1970 / 86_400).rounded(.down))
        return try traceNorms.value(project.rawValue, period: day) {
            try signals.traceNorms(project: project, watermark: watermark, on: tx)
        }
    }

    /// Every detector's answers for one project at `watermark` (the fast rules' raw window ends
    /// at `fresh`).
    func evaluations(project: ProjectID, watermark: Date, fresh: Date, previous: [String: AlertInstance],
                     on tx: PostgresConnection) throws -> [Evaluation] {
        let settings = RuleSettings(overrides: try PostgresAlertStore.ruleOverrides(project: project, on: tx))
        let scope = Scope(project: project)
        let series = try seriesEvaluations(project: project, settings: settings, watermark: watermark, on: tx)
        var evaluations = series.evaluations

        let surge = settings.errorSurge
        let recent = try signals.recentActivity(project: project, end: max(fresh, watermark), window: surge.window, on: tx)
        for (sampleScope, sample) in recent {
            evaluations.append(ErrorSurge.evaluate([sample], scope: sampleScope, parameters: surge, now: max(fresh, watermark)))
        }
        let retries = settings.retryStorm
        for (retrySeries, history) in series.retrySeries {
            evaluations.append(RetryStorm.evaluate(retrySeries, recent: recent[retrySeries.scope].map { [$0] } ?? [],
                                                   history: history, parameters: retries, now: watermark))
        }
        let expensive = settings.expensiveRequest
        let requests = try signals.expensiveRequests(project: project, watermark: watermark, window: expensive.window,
                                                     threshold: expensive.threshold, on: tx)
        evaluations += ExpensiveRequest.evaluate(requests, scopes: [scope], parameters: expensive, now: watermark)
        let runaway = settings.runawayTrace
        let traces = try signals.traces(project: project, watermark: watermark, on: tx)
        let norms = traces.isEmpty ? [:] : try norms(project: project, watermark: watermark, on: tx)
        for trace in traces {
            let norm = norms[trace.scope.labels["feature"] ?? ""] ?? TraceNorm()
            evaluations.append(RunawayTrace.evaluate(trace, norm: norm, parameters: runaway, now: watermark))
        }
        let projectAlerts = previous.values.filter { $0.key.scope.project == project }
        evaluations += RunawayFeature.evaluate(Array(projectAlerts), parameters: settings.runawayFeature, now: watermark)
        let projectBudgets = try PostgresAlertStore.budgets(project: project, id: nil, on: tx)
        for budget in projectBudgets {
            let usage = try budgets.usage(of: budget, now: watermark)
            evaluations.append(BudgetAlerts.threshold(budget, usage: usage, parameters: settings.budget, now: watermark))
            evaluations.append(BudgetAlerts.burnRate(budget, usage: usage, parameters: settings.budget, now: watermark))
        }
        // A deleted budget's incidents are over: clear, so they resolve (a burn alert would
        // otherwise wait forever for an evaluation).
        let budgetIDs = Set(projectBudgets.map(\.id))
        for alert in projectAlerts where [.budgetThreshold, .budgetBurn].contains(alert.key.rule)
            && !budgetIDs.contains(alert.key.scope.labels["budget_id"] ?? "") {
            evaluations.append(Evaluation(key: alert.key, condition: .clear))
        }

        // A disabled rule starts nothing, and its live incidents count as clear, so they resolve
        // through their normal recovery instead of firing forever.
        evaluations = evaluations.filter { settings.isEnabled($0.key.rule) }
        for alert in projectAlerts where !settings.isEnabled(alert.key.rule) {
            evaluations.append(Evaluation(key: alert.key, condition: .clear))
        }
        return evaluations
    }

    /// The scope's spend calibration, recomputed when the hour changes (or the window length
    /// the scope's volume calls for does: the detector then calibrates itself).
    private func calibration(_ series: MinuteSeries, _ parameters: SpendSpikeParameters, _ watermark: Date) -> SpendCalibration {
        calibrations.value(series.scope, period: Minutes.of(watermark) / Minutes.perHour) {
            SpendSpike.calibrate(series, parameters: parameters, now: watermark)
        }
    }

    /// The scope's latency (or TTFT) spread, recomputed when the hour or the rule's parameters change.
    private func latencySpread(_ series: MinuteSeries, _ metric: LatencyMetric, _ parameters: LatencyRegressionParameters,
                               _ watermark: Date) -> Double {
        latencySpreads.value(LatencySpreadKey(scope: series.scope, metric: metric, parameters: parameters),
                             period: Minutes.of(watermark) / Minutes.perHour) {
            LatencyRegression.spread(series, metric: metric, parameters: parameters, now: watermark)
        }
    }

    /// Spend spike, latency and TTFT regression per scope, and hourly cost for the project:
    /// judged on closed minutes, so computed once per minute and reused; with the series and
    /// retry baselines the retry storm needs every round. (A narrower scope breaching with the
    /// whole project is muted by the state machine's inhibition, not here: it keeps its own
    /// instance and history.)
    private func seriesEvaluations(project: ProjectID, settings: RuleSettings, watermark: Date,
                                   on tx: PostgresConnection) throws -> SeriesRound {
        let minute = Minutes.of(watermark)
        if let cached = seriesCache.withLock({ $0[project.rawValue] }), cached.minute == minute { return cached }
        var round = SeriesRound(minute: minute, evaluations: [], retrySeries: [])
        let spend = settings.spendSpike, retries = settings.retryStorm
        let latency = settings.latency(.latency), ttft = settings.latency(.timeToFirstToken)
        for series in try history.series(project: project, watermark: watermark, reader: signals, on: tx) {
            round.evaluations.append(SpendSpike.evaluate(series, parameters: spend, calibration: calibration(series, spend, watermark),
                                                         now: watermark))
            round.retrySeries.append((series, RetryStorm.baseline(series, now: watermark, parameters: retries)))
            for (metric, parameters) in [(LatencyMetric.latency, latency), (.timeToFirstToken, ttft)] {
                round.evaluations.append(LatencyRegression.evaluate(series, metric: metric, parameters: parameters,
                                                                    spread: latencySpread(series, metric, parameters, watermark), now: watermark))
            }
        }
        let hourly = try signals.hourlySeries(project: project, watermark: watermark, on: tx)
        round.evaluations.append(HourlyCost.evaluate(hourly, parameters: settings.hourlyCost, now: watermark))
        seriesCache.withLock { $0[project.rawValue] = round }
        return round
    }
}

/// Alert figures for `/metrics`, refreshed after every round (also by instances that did not hold
/// the lock, so each instance's scrape shows the database's state).
final class AlertStatus: Sendable {
    private let firingCount = Atomic<Int>(0)
    private let pendingCount = Atomic<Int>(0)
    private let outboxPendingCount = Atomic<Int>(0)
    private let deadCount = Atomic<Int>(0)
    private let roundCount = Atomic<Int>(0)
    private let enqueuedCount = Atomic<Int>(0)

    var firing: Int { firingCount.load(ordering: .relaxed) }
    var pending: Int { pendingCount.load(ordering: .relaxed) }
    var outboxPending: Int { outboxPendingCount.load(ordering: .relaxed) }
    var dead: Int { deadCount.load(ordering: .relaxed) }
    var rounds: Int { roundCount.load(ordering: .relaxed) }
    var enqueued: Int { enqueuedCount.load(ordering: .relaxed) }

    func record(_ round: AlertEvaluator.Round) {
        guard round.ran else { return }
        roundCount.add(1, ordering: .relaxed)
        enqueuedCount.add(round.outboxRows, ordering: .relaxed)
    }

    func refresh(pool: PostgresPool) throws {
        let (firing, pending, backlog) = try pool.withConnection { connection in
            let row = try connection.query("""
                SELECT count(*) FILTER (WHERE state = 'firing') AS firing, count(*) FILTER (WHERE state = 'pending') AS pending
                FROM alert_instances WHERE state <> 'resolved'
                """).rows[0]
            return (try row.decode(Int.self, column: "firing"), try row.decode(Int.self, column: "pending"),
                    try AlertOutbox.backlog(on: connection))
        }
        firingCount.store(firing, ordering: .relaxed)
        pendingCount.store(pending, ordering: .relaxed)
        outboxPendingCount.store(backlog.pending, ordering: .relaxed)
        deadCount.store(backlog.dead, ordering: .relaxed)
    }

    /// Registers the gauges and counters (and the deliverer's counters) with `metrics`.
    func register(with metrics: Metrics, delivery: DeliveryCounters) {
        metrics.gauge("tokenmeter_alerts_firing", help: "Alert instances firing (database-wide, as of the last round).") { [self] in Double(firing) }
        metrics.gauge("tokenmeter_alerts_pending", help: "Alert instances pending (database-wide, as of the last round).") { [self] in Double(pending) }
        metrics.gauge("tokenmeter_alert_outbox_pending", help: "Notifications neither delivered nor dead.") { [self] in Double(outboxPending) }
        metrics.gauge("tokenmeter_alert_outbox_dead", help: "Dead-lettered notifications in the outbox.") { [self] in Double(dead) }
        metrics.counter("tokenmeter_alert_evaluation_rounds_total", help: "Evaluation rounds this instance ran (holding the lock).") { [self] in Double(rounds) }
        metrics.counter("tokenmeter_alert_notifications_enqueued_total", help: "Notification rows this instance put in the outbox.") { [self] in Double(enqueued) }
        for sample in delivery.snapshot.samples {
            let name = sample.name
            metrics.counter(name, help: sample.help) {
                Double(delivery.snapshot.samples.first { $0.name == name }?.value ?? 0)
            }
        }
    }
}
