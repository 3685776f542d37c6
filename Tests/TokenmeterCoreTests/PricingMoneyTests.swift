import Foundation
import Testing
@testable import TokenmeterCore

struct PricingMoneyTests {
    @Test(arguments: [
        ("0.15", Int64(150_000_000_000)), ("2.5", 2_500_000_000_000), ("0.000001", 1_000_000),
        ("0.000000000001", 1), ("3", 3_000_000_000_000), ("-1.25", -1_250_000_000_000), ("0", 0), ("-0", 0),
        ("1e-3", 1_000_000_000), ("2.5E+2", 250_000_000_000_000), ("0.0000000000005", 0), ("0.0000000000015", 2),
        ("0.0000000000025", 2), ("0.00000000000250001", 3), ("0.0000000000014999", 1), ("-0.0000000000015", -2),
        ("1e-13", 0), ("1e-999999999", 0), (".5", 500_000_000_000), ("7.", 7_000_000_000_000),
        ("9223372.036854775807", .max), ("-9223372.036854775808", .min), ("00012.50", 12_500_000_000_000),
    ])
    func parsesDecimalStringsExactly(_ text: String, _ picodollars: Int64) {
        #expect(Money(decimalString: text)?.picodollars == picodollars)
    }

    @Test(arguments: ["", "-", ".", "abc", "1,5", " 1", "1 ", "+1", "1e", "1e+", "--1", "1.2.3", "0x10",
                      "9223372.036854775808", "-9223372.036854775809", "1e7", "1e999999", "NaN"])
    func rejectsMalformedOrOutOfRange(_ text: String) {
        #expect(Money(decimalString: text) == nil)
    }

    @Test(arguments: [
        (Int64(150_000), "0.00000015"), (150_000_000, "0.00015"), (3_000_000_000_000, "3"), (1, "0.000000000001"),
        (-1, "-0.000000000001"), (0, "0"), (12_340_000_000_000, "12.34"), (.max, "9223372.036854775807"),
        (.min, "-9223372.036854775808"),
    ])
    func formatsExactDecimal(_ picodollars: Int64, _ text: String) {
        let money = Money(picodollars: picodollars)
        #expect(money.usdString == text)
        #expect(money.description == text)
        #expect(Money(decimalString: text) == money)
    }

    @Test(arguments: [(0.15, Int64(150_000_000_000)), (0.1, 100_000_000_000), (1e-12, 1), (2.5e-13, 0),
                      (1234.5678, 1_234_567_800_000_000), (-0.3, -300_000_000_000)])
    func convertsDoublesToNearestPicodollar(_ usd: Double, _ picodollars: Int64) {
        #expect(Money(usd: usd)?.picodollars == picodollars)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 1e7, -9.3e6])
    func rejectsUnrepresentableDoubles(_ usd: Double) {
        #expect(Money(usd: usd) == nil)
    }

    @Test func millionMicrodollarsSumToExactlyOneDollar() throws {
        let micro = try #require(Money(decimalString: "0.000001"))
        var total = Money.zero
        for _ in 0..<1_000_000 { total += micro }
        #expect(total == Money(decimalString: "1"))
        #expect(total.usdString == "1")
    }

    @Test func arithmeticAndOrdering() throws {
        let a = try #require(Money(decimalString: "2.50"))
        let b = try #require(Money(decimalString: "0.75"))
        #expect((a - b).usdString == "1.75")
        #expect(b < a)
        #expect(Money(picodollars: .max).adding(Money(picodollars: 1)) == nil)
        #expect(a.adding(b) == Money(decimalString: "3.25"))
    }

    @Test func codableAsDecimalString() throws {
        let money = try #require(Money(decimalString: "0.00015"))
        let data = try JSONEncoder().encode([money])
        #expect(String(decoding: data, as: UTF8.self) == #"["0.00015"]"#)
        #expect(try JSONDecoder().decode([Money].self, from: data) == [money])
        #expect(try JSONDecoder().decode([Money].self, from: Data("[0.5]".utf8)) == [Money(decimalString: "0.5")!])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Money].self, from: Data(#"["1,5"]"#.utf8)) }
    }
}
