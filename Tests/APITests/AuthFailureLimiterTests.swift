import API
import Testing

struct AuthFailureLimiterTests {
    let start = ContinuousClock.now

    @Test func blocksAfterTheLimitUntilTheWindowEnds() {
        let limiter = AuthFailureLimiter(limit: 3, window: .seconds(60))
        for i in 0..<3 {
            #expect(limiter.blockedFor("10.0.0.1", now: start + .seconds(i)) == nil)
            limiter.recordFailure("10.0.0.1", now: start + .seconds(i))
        }
        #expect(limiter.blockedFor("10.0.0.1", now: start + .seconds(3)) == 57)
        #expect(limiter.blockedFor("10.0.0.1", now: start + .milliseconds(59_500)) == 1)
        #expect(limiter.blockedFor("10.0.0.2", now: start + .seconds(3)) == nil)   // other addresses are not affected
        #expect(limiter.blockedFor("10.0.0.1", now: start + .seconds(60)) == nil)   // a new window
        limiter.recordFailure("10.0.0.1", now: start + .seconds(61))
        #expect(limiter.blockedFor("10.0.0.1", now: start + .seconds(62)) == nil)
    }

    @Test func zeroTurnsItOff() {
        let limiter = AuthFailureLimiter(limit: 0)
        for _ in 0..<1000 { limiter.recordFailure("a", now: start) }
        #expect(limiter.blockedFor("a", now: start) == nil)
    }

    @Test func memoryIsBounded() {
        let limiter = AuthFailureLimiter(limit: 1, window: .seconds(60), maxAddresses: 100)
        for i in 0..<1_000 { limiter.recordFailure("addr-\(i)", now: start) }
        // The table was emptied when full, so at most the last 100 addresses are still tracked.
        let tracked = (0..<1_000).filter { limiter.blockedFor("addr-\($0)", now: start) != nil }
        #expect(tracked.count <= 100)
        #expect(tracked.contains(999))
    }
}
