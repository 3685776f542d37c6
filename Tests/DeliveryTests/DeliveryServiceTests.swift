import Delivery
import Foundation
import Testing
import TokenmeterCore

/// The service loop on its own thread, on the real clock (the only wait is for delivery itself).
struct DeliveryServiceTests {
    @Test func deliversWhatIsEnqueuedWhileRunningAndStops() throws {
        let receiver = try TestReceiver()
        defer { receiver.stop() }
        let database = try DeliveryDatabase.migrated()
        let project = try database.project("p", AlertDestinations(webhookURL: receiver.url()))
        var configuration = DeliveryConfiguration()
        configuration.pollInterval = 0.05
        let service = DeliveryService(deliverer: Deliverer(pool: database.pool(), transport: CurlTransport(configuration: configuration),
                                                           configuration: configuration, logger: Logger(label: "test", minimumLevel: .error)))
        service.start()
        let now = Date()
        _ = try database.enqueue((0..<5).map { Notifications.spendSpike(project: project, feature: "f\($0)", at: now) }, now: now)
        service.wake()
        let deadline = Date().addingTimeInterval(20)
        while try database.rows().contains(where: { !$0.delivered }) && Date() < deadline { usleep(20_000) }
        service.stop()
        #expect(try database.rows().allSatisfy { $0.delivered })
        #expect(receiver.processed.count == 5)
        #expect(service.deliverer.counters.snapshot == DeliveryCounts(delivered: 5, retried: 0, dead: 0))
    }
}
