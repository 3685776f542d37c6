import Foundation
import Testing
import TokenmeterCore
@testable import Detection

struct RunawayTraceTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// `count` steps 5 s apart, each a different tool input, costing `usd` each.
    static func trace(steps count: Int, usd: String = "0.001", repeating: Int = 0) -> TraceView {
        let steps = (0..<count).map { i in
            TraceStep(at: start.addingTimeInterval(Double(i) * 5), toolName: "search",
                      inputHash: i < repeating ? "same" : "h\(i)", cost: Money(decimalString: usd)!)
        }
        return TraceView(scope: Traffic.chat, traceID: "t-1", steps: steps)
    }

    static func nowAfter(_ trace: TraceView) -> Date { trace.lastSeen!.addingTimeInterval(1) }

    @Test func firesAtTheStepCap() throws {
        let trace = Self.trace(steps: 50)
        let finding = try #require(RunawayTrace.evaluate(trace, now: Self.nowAfter(trace)).finding)
        #expect(finding.value == 50)
        #expect(finding.key.instance == "t-1")
        #expect(finding.key.scope.labels["trace_id"] == "t-1")
        #expect(finding.pendingFor == 0)
        #expect(finding.summary.contains("50 steps"))
    }

    @Test func fortyNineVariedStepsAreFine() {
        let trace = Self.trace(steps: 49)
        #expect(RunawayTrace.evaluate(trace, now: Self.nowAfter(trace)).condition == .clear)
    }

    @Test func theSameToolWithTheSameInputFiveTimesIsALoop() throws {
        let trace = Self.trace(steps: 6, repeating: 5)
        let finding = try #require(RunawayTrace.evaluate(trace, now: Self.nowAfter(trace)).finding)
        #expect(finding.summary.contains("search called 5×"))
        let four = Self.trace(steps: 6, repeating: 4)
        #expect(RunawayTrace.evaluate(four, now: Self.nowAfter(four)).condition == .clear)
    }

    @Test func costAboveTheFeatureNorm() {
        let trace = Self.trace(steps: 10, usd: "0.12")   // $1.20
        #expect(RunawayTrace.evaluate(trace, now: Self.nowAfter(trace)).finding != nil)
        // A feature whose p95 trace costs $0.50 allows $5.
        let norm = TraceNorm(p95Cost: Money(decimalString: "0.5")!)
        #expect(RunawayTrace.evaluate(trace, norm: norm, now: Self.nowAfter(trace)).condition == .clear)
    }

    @Test func stepsFarAboveTheFeatureNormFireBeforeTheCap() throws {
        let trace = Self.trace(steps: 30)
        let norm = TraceNorm(p99Steps: 8)   // limit max(20, 24) = 24
        let finding = try #require(RunawayTrace.evaluate(trace, norm: norm, now: Self.nowAfter(trace)).finding)
        #expect(finding.threshold == 24)
    }

    @Test func stillGrowingAfterFifteenMinutes() throws {
        // One step every two minutes for 18 minutes, then 12 in the last minute: 21 steps.
        var steps = (0..<9).map { TraceStep(at: Self.start.addingTimeInterval(Double($0) * 120)) }
        let now = Self.start.addingTimeInterval(20 * 60)
        steps += (0..<12).map { TraceStep(at: now.addingTimeInterval(-55 + Double($0) * 4)) }
        let trace = TraceView(scope: Traffic.chat, traceID: "t-2", steps: steps)
        let finding = try #require(RunawayTrace.evaluate(trace, now: now).finding)
        #expect(finding.summary.contains("still adding 12 steps/min"))
        // The same burst ten minutes in is an agent at work, not a runaway.
        let young = TraceView(scope: Traffic.chat, traceID: "t-3", steps: Array(steps.suffix(12)))
        #expect(RunawayTrace.evaluate(young, now: now).condition == .clear)
    }

    @Test func clearsWhenIdleOrTerminated() {
        var trace = Self.trace(steps: 80)
        let last = trace.lastSeen!
        #expect(RunawayTrace.evaluate(trace, now: last.addingTimeInterval(299)).finding != nil)
        #expect(RunawayTrace.evaluate(trace, now: last.addingTimeInterval(300)).condition == .clear)
        trace.terminatedEarly = true
        #expect(RunawayTrace.evaluate(trace, now: last.addingTimeInterval(1)).condition == .clear)
    }
}
