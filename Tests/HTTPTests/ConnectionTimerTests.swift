import Testing
@testable import HTTP

/// The deadline state machine, driven by a fake clock (plain nanosecond values).
struct ConnectionTimerTests {
    let timeouts = ConnectionTimeouts(idle: 60, request: 30, linger: 2)

    @Test func idleConnectionClosesSilently() {
        let timer = ConnectionTimer(now: 100)
        #expect(timer.expiry(at: 159, timeouts: timeouts) == nil)
        #expect(timer.expiry(at: 160, timeouts: timeouts) == .close)
    }

    @Test func requestClockStartsAtFirstByteAndIsNotResetByMoreBytes() {
        var timer = ConnectionTimer(now: 0)
        timer.received(at: 10)
        timer.received(at: 35)  // a slow client trickling bytes does not push the deadline
        #expect(timer.expiry(at: 39, timeouts: timeouts) == nil)
        #expect(timer.expiry(at: 40, timeouts: timeouts) == .requestTimeout)
    }

    @Test func processingHasNoDeadline() {
        var timer = ConnectionTimer(now: 0)
        timer.received(at: 1)
        timer.requestComplete()
        #expect(timer.expiry(at: 1_000_000, timeouts: timeouts) == nil)
    }

    @Test func writeStallUsesIdleTimeoutFromLastProgress() {
        var timer = ConnectionTimer(now: 0)
        timer.requestComplete()
        timer.wrote(at: 100)
        timer.wrote(at: 150)
        #expect(timer.expiry(at: 209, timeouts: timeouts) == nil)
        #expect(timer.expiry(at: 210, timeouts: timeouts) == .close)
    }

    @Test func keepAliveAfterResponse() {
        var timer = ConnectionTimer(now: 0)
        timer.received(at: 0)
        timer.requestComplete()
        timer.responseFinished(at: 500, nextRequestBuffered: false)
        #expect(timer.phase == .idle(since: 500))
        timer.responseFinished(at: 600, nextRequestBuffered: true)
        #expect(timer.expiry(at: 630, timeouts: timeouts) == .requestTimeout)
    }

    @Test func lingerEnds() {
        var timer = ConnectionTimer(now: 0)
        timer.lingering(at: 10)
        timer.wrote(at: 11)
        #expect(timer.expiry(at: 11, timeouts: timeouts) == nil)
        #expect(timer.expiry(at: 12, timeouts: timeouts) == .close)
    }
}
