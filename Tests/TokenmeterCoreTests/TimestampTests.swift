import Foundation
import Testing
import TokenmeterCore

struct TimestampTests {
    @Test(arguments: [
        ("2026-11-25T10:32:23Z", 1_795_602_743.0),
        ("2026-11-25T10:32:23.5Z", 1_795_602_743.5),
        ("2026-11-25t10:32:23.123456789z", 1_795_602_743.123456),
        ("2026-11-25T12:32:23+02:00", 1_795_602_743.0),
        ("2026-11-25 10:32:23-00:30", 1_795_604_543.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("1970-01-01T00:00:00Z", 0.0),
    ])
    func parses(text: String, epoch: Double) throws {
        let date = try #require(Timestamp.parseRFC3339(text))
        #expect(abs(date.timeIntervalSince1970 - epoch) < 1e-6)
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:32:23",
                      "2026-11-25T10:32:23.Z", "2026-11-25", "yesterday", "2026-11-25T10:32:23+2:00", "2026-11-25T10:32:23Zjunk"])
    func rejects(text: String) {
        #expect(Timestamp.parseRFC3339(text) == nil)
    }

    @Test func formatsRoundTrip() {
        #expect(Timestamp.rfc3339(Date(timeIntervalSince1970: 1_795_602_743)) == "2026-11-25T10:32:23Z")
        #expect(Timestamp.rfc3339(Date(timeIntervalSince1970: 1_795_602_743.25)) == "2026-11-25T10:32:23.25Z")
        #expect(Timestamp.rfc3339(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        for seconds in stride(from: 0.0, to: 4_000_000_000, by: 37_123_456.789) {
            let date = Date(timeIntervalSince1970: (seconds * 1_000_000).rounded() / 1_000_000)
            #expect(Timestamp.parseRFC3339(Timestamp.rfc3339(date)).map { abs($0.timeIntervalSince(date)) < 1e-6 } == true)
        }
    }
}
