import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct ExpensiveRequestTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let search = Scope(project: Traffic.project, labels: ["feature": "search"])

    static func request(_ id: String, _ usd: String, secondsAgo: Double, scope: Scope = Traffic.chat) -> RequestCost {
        RequestCost(scope: scope, requestID: id, cost: Money(decimalString: usd)!, at: now.addingTimeInterval(-secondsAgo))
    }

    @Test func oneAlertPerScopeNamingTheWorstRequest() throws {
        let requests = [Self.request("r1", "0.62", secondsAgo: 30), Self.request("r2", "1.10", secondsAgo: 90),
                        Self.request("r3", "0.10", secondsAgo: 10), Self.request("r4", "0.20", secondsAgo: 10, scope: Self.search)]
        let evaluations = ExpensiveRequest.evaluate(requests, scopes: [Self.search], now: Self.now)
        #expect(evaluations.count == 2)
        let chat = try #require(evaluations.first { $0.key.scope == Traffic.chat }?.finding)
        #expect(chat.annotations["request_id"] == "r2")
        #expect(chat.annotations["requests_over_cap"] == "2")
        #expect(abs(chat.value - 1.10) < 1e-9)
        #expect(chat.threshold == 0.5)
        #expect(evaluations.first { $0.key.scope == Self.search }?.condition == .clear)
    }

    @Test(arguments: ["0.50", "0.49"])
    func aRequestAtOrBelowTheCapIsFine(_ usd: String) {
        let evaluations = ExpensiveRequest.evaluate([Self.request("r1", usd, secondsAgo: 5)], scopes: [], now: Self.now)
        #expect(evaluations.map(\.condition) == [.clear])
    }

    @Test func requestsOlderThanTheWindowNoLongerCount() {
        let evaluations = ExpensiveRequest.evaluate([Self.request("r1", "3", secondsAgo: 601)], scopes: [Traffic.chat],
                                                    now: Self.now)
        #expect(evaluations.map(\.condition) == [.clear])
    }

    /// The alert waits 5 min (so a spend spike of the project can absorb it), and the request
    /// stays in the 10-minute window for all of that wait.
    @Test func waitsFiveMinutesAndKeepsBreachingThroughTheWait() throws {
        let finding = try #require(ExpensiveRequest.evaluate([Self.request("r1", "0.9", secondsAgo: 1)], scopes: [],
                                                             now: Self.now).first?.finding)
        #expect(finding.pendingFor == 300)
        let later = ExpensiveRequest.evaluate([Self.request("r1", "0.9", secondsAgo: 1 + 300)], scopes: [], now: Self.now)
        #expect(later.first?.finding != nil)
    }

    @Test func tenTimesTheCapIsCritical() throws {
        let evaluation = try #require(ExpensiveRequest.evaluate([Self.request("r1", "5", secondsAgo: 1)], scopes: [],
                                                                now: Self.now).first)
        #expect(evaluation.finding?.severity == .critical)
    }
}
