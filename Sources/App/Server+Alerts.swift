import API
import Delivery
import Detection
import Foundation
import Postgres
import Store
import TokenmeterCore

extension Server {
    /// The alerting side of a server: the evaluator loop, the deliverer, their metrics, and what
    /// the alert routes need.
    struct Alerting {
        var pool: PostgresPool
        var loop: PeriodicTask?
        var delivery: DeliveryService
        var dependencies: AlertDependencies
    }

    static func alerting(configuration: Configuration, connectionString: String, logger: Logger, metrics: Metrics,
                         usage: PostgresUsageReader) -> Alerting {
        // The evaluator's transaction, the deliverer's claims and the alert routes each get a connection, so a slow
        // webhook never holds up a round (and the reverse).
        let pool = PostgresPool(connectionString: connectionString, size: 4, acquireTimeout: .seconds(10), applicationName: "tokenmeter-alerts")
        let store = PostgresAlertStore(pool: pool, usageReader: usage)
        let status = AlertStatus()
        let payloads = PayloadConfiguration(dashboardBaseURL: configuration.alertDashboardURL)
        let evaluator = AlertEvaluator(pool: pool, budgets: store, signals: AlertSignalReader(), payloads: payloads,
                                       status: status, logger: logger.with(label: "alerts"))

        var deliveryConfiguration = DeliveryConfiguration()
        deliveryConfiguration.backoffBase = Double(configuration.alertDeliveryBackoffSeconds)
        deliveryConfiguration.totalTimeout = Double(configuration.alertDeliveryTimeoutSeconds)
        deliveryConfiguration.connectTimeout = min(deliveryConfiguration.connectTimeout, deliveryConfiguration.totalTimeout)
        deliveryConfiguration.blockPrivateAddresses = configuration.alertBlockPrivateAddresses
        let counters = DeliveryCounters()
        let deliverer = Deliverer(pool: pool, transport: CurlTransport(configuration: deliveryConfiguration),
                                  configuration: deliveryConfiguration, counters: counters, logger: logger)
        let delivery = DeliveryService(deliverer: deliverer)
        status.register(with: metrics, delivery: counters)

        let evaluate: @Sendable (Date) throws -> EvaluationSummary = { now in
            let round = try evaluator.evaluate(now: now)
            if round.outboxRows > 0 { delivery.wake() }
            return EvaluationSummary(ran: round.ran, projects: round.projects, evaluations: round.evaluations,
                                     notifications: round.notifications, watermark: now.addingTimeInterval(-evaluator.ingestGrace))
        }
        let loop = configuration.alertEvaluationIntervalSeconds == 0 ? nil
            // A round reads the last minute of raw events for the fast rules; at tens of thousands
            // of events a second that takes seconds, and rounds back to back would take a core
            // from ingest. Rounds then come less often (at most a quarter of one core).
            : PeriodicTask(name: "tokenmeter-alerts", interval: .seconds(configuration.alertEvaluationIntervalSeconds),
                           dutyCycle: 0.25, logger: logger.with(label: "alerts")) {
                _ = try evaluate(Date())
                return false
            }
        let dependencies = AlertDependencies(alerts: store, destinations: PostgresAlertDestinations(pool: pool),
                                             dashboardBaseURL: configuration.alertDashboardURL, evaluate: evaluate)
        return Alerting(pool: pool, loop: loop, delivery: delivery, dependencies: dependencies)
    }
}
