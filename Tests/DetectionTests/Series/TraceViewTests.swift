import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct TraceViewTests {
    @Test func summarisesItsSteps() throws {
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let trace = TraceView(scope: Traffic.chat, traceID: "t", steps: [
            TraceStep(at: t.addingTimeInterval(30), toolName: "fetch", inputHash: "a", cost: Traffic.dollars(0.01)),
            TraceStep(at: t, cost: Traffic.dollars(0.02)),
            TraceStep(at: t.addingTimeInterval(60), toolName: "fetch", inputHash: "a"),
            TraceStep(at: t.addingTimeInterval(90), toolName: "fetch", inputHash: "b"),
            TraceStep(at: t.addingTimeInterval(20), toolName: "grep", inputHash: "a"),
        ])
        #expect(trace.firstSeen == t)
        #expect(trace.lastSeen == t.addingTimeInterval(90))
        #expect(trace.cost == Traffic.dollars(0.03))
        let repeated = try #require(trace.mostRepeatedToolCall)
        #expect(repeated.tool == "fetch" && repeated.count == 2)
        #expect(TraceView(scope: Traffic.chat, traceID: "u", steps: [TraceStep(at: t)]).mostRepeatedToolCall == nil)
    }
}
