import Synchronization

/// Counts for `/metrics` (the app registers them, e.g. as
/// `tokenmeter_alert_notifications_{delivered,retried,dead}_total`). Shared by every deliverer of
/// one process.
public final class DeliveryCounters: Sendable {
    private let deliveredCount = Atomic<Int>(0)
    private let retriedCount = Atomic<Int>(0)
    private let deadCount = Atomic<Int>(0)

    public init() {}

    /// Notifications a receiver acknowledged with a 2xx.
    public var delivered: Int { deliveredCount.load(ordering: .relaxed) }
    /// Failed attempts that were scheduled again.
    public var retried: Int { retriedCount.load(ordering: .relaxed) }
    /// Notifications given up on (permanent 4xx, too many attempts, too old).
    public var dead: Int { deadCount.load(ordering: .relaxed) }

    public var snapshot: DeliveryCounts { DeliveryCounts(delivered: delivered, retried: retried, dead: dead) }

    func record(_ outcome: DeliveryOutcome) {
        switch outcome {
        case .delivered: deliveredCount.add(1, ordering: .relaxed)
        case .retryScheduled: retriedCount.add(1, ordering: .relaxed)
        case .dead: deadCount.add(1, ordering: .relaxed)
        case .lostClaim: break
        }
    }
}

/// A point-in-time copy of ``DeliveryCounters``.
public struct DeliveryCounts: Sendable, Hashable {
    public var delivered: Int
    public var retried: Int
    public var dead: Int

    public init(delivered: Int, retried: Int, dead: Int) {
        self.delivered = delivered
        self.retried = retried
        self.dead = dead
    }
}

extension DeliveryCounts {
    /// Prometheus counter names, help texts and values, for the app's `/metrics`.
    public var samples: [(name: String, help: String, value: Int)] {
        [
            ("tokenmeter_alert_notifications_delivered_total", "Alert notifications acknowledged with a 2xx", delivered),
            ("tokenmeter_alert_notifications_retried_total", "Failed notification attempts scheduled again", retried),
            ("tokenmeter_alert_notifications_dead_total", "Alert notifications given up on (dead letters)", dead),
        ]
    }
}
