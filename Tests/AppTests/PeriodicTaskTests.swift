@testable import App
import Foundation
import Synchronization
import Testing
import TokenmeterCore

/// A background task whose passes grow long (alert rounds reading a minute of raw events at tens
/// of thousands of events a second) pauses longer, so it never takes more than its share of a core.
struct PeriodicTaskTests {
    @Test func pauseKeepsTheDutyCycle() {
        #expect(PeriodicTask.pause(interval: 10, took: 0.5, dutyCycle: 0.25) == 10)
        #expect(PeriodicTask.pause(interval: 10, took: 7, dutyCycle: 0.25) == 21)
        #expect(PeriodicTask.pause(interval: 10, took: 7, dutyCycle: nil) == 10)
        #expect(PeriodicTask.pause(interval: 1, took: 2, dutyCycle: 0.5) == 2)
    }

    /// Passes of ~60 ms every 10 ms with a 25% duty cycle: ~180 ms pauses, so about 4 passes in
    /// a second instead of ~14.
    @Test func longPassesComeLessOften() throws {
        let passes = Atomic<Int>(0)
        let task = PeriodicTask(name: "test", interval: .milliseconds(10), dutyCycle: 0.25,
                                logger: Logger(label: "test", minimumLevel: .error)) {
            passes.add(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.06)
            return false
        }
        task.start()
        Thread.sleep(forTimeInterval: 1.0)
        task.stop()
        let count = passes.load(ordering: .relaxed)
        #expect((3...6).contains(count), "\(count) passes")
    }
}
