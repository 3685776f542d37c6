import Foundation
import Testing

@testable import Postgres

struct PostgresTimestampTests {
    @Test(arguments: [
        ("1970-01-01 00:00:00+00", 0.0),
        ("2024-02-29 12:34:56.789012+00", 1_709_210_096.789012),
        ("2024-02-29 18:04:56.789012+05:30", 1_709_210_096.789012),
        ("2024-02-29 09:04:56.789012-03:30", 1_709_210_096.789012),
        ("2024-02-29T12:34:56.789012Z", 1_709_210_096.789012),
        ("2024-02-29 12:34:56.5", 1_709_210_096.5),
        ("1900-01-01 00:19:32+00:19:32", -2_208_988_800.0),
        ("1969-12-31 23:59:59.999999+00", -0.000001),
        ("2024-02-29", 1_709_164_800.0),
    ])
    func parsesPostgresISOOutput(text: String, seconds: Double) throws {
        let date = try #require(PostgresTimestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_000_5)
    }

    @Test(arguments: ["", "2024-13-01 00:00:00+00", "2024-01-01 00:00", "2024-01-01 00:00:00+", "yesterday", "2024-01-01 00:00:00 AD"])
    func rejectsMalformedText(text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }

    @Test func infinityMapsToDistantDates() {
        #expect(PostgresTimestamp.parse("infinity") == .distantFuture)
        #expect(PostgresTimestamp.parse("-infinity") == .distantPast)
    }

    @Test func formatsUTCWithMicroseconds() {
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00.000000+00")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 1_709_210_096.789012)) == "2024-02-29 12:34:56.789012+00")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -0.000001)) == "1969-12-31 23:59:59.999999+00")
    }

    @Test func beforeChristUsesBCSuffixBothWays() throws {
        // 1 BC is astronomical year 0.
        let days = PostgresTimestamp.days(fromCivil: 0, 6, 15)
        let date = Date(timeIntervalSince1970: Double(days) * 86_400)
        let text = PostgresTimestamp.format(date)
        #expect(text == "0001-06-15 00:00:00.000000+00 BC")
        #expect(try #require(PostgresTimestamp.parse(text)) == date)
    }

    @Test(arguments: [0.0, 1.5, 1_700_000_000.123456, -86_400.000001, 253_402_300_799.999999])
    func microsecondValuesRoundTripExactly(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(try #require(PostgresTimestamp.parse(PostgresTimestamp.format(date))) == date)
    }
}
