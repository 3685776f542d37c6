import Foundation
import Testing
@testable import TokenmeterCore

private func day(_ s: String) -> Date { CalendarDay.date(fromISODay: s)! }
private func money(_ s: String) -> Money { Money(decimalString: s)! }

struct PricingBookTests {
    static let book = try! PriceBook.shipped()

    @Test(arguments: [
        ("2024-05-12", nil as String?),     // before the first effective date
        ("2024-05-13", "5"),               // on the boundary day the new price applies
        ("2024-10-01", "5"),
        ("2024-10-02", "2.5"),
        ("2026-01-01", "2.5"),
    ])
    func gpt4oPriceByDate(_ date: String, _ input: String?) {
        let price = Self.book.price(model: "gpt-4o-2024-08-06", provider: "openai", at: day(date))
        #expect(price?.inputPerMillion.usdString == input)
        if input != nil { #expect(price?.model == "gpt-4o") }
    }

    @Test func boundaryIsUTCMidnight() {
        let cut = day("2025-06-10")
        #expect(Self.book.price(model: "o3", provider: nil, at: cut.addingTimeInterval(-1))?.inputPerMillion == money("10"))
        #expect(Self.book.price(model: "o3", provider: nil, at: cut)?.inputPerMillion == money("2"))
    }

    @Test func unknownModelHasNoPrice() {
        #expect(Self.book.price(model: "claude-2.1", provider: nil, at: day("2025-01-01")) == nil)
    }

    @Test func providerPicksAmongSameNamedModels() throws {
        let at = day("2025-03-01")
        let groq = try #require(Self.book.price(model: "llama-3.3-70b", provider: "groq", at: at))
        let together = try #require(Self.book.price(model: "llama-3.3-70b", provider: "together", at: at))
        let neither = try #require(Self.book.price(model: "llama-3.3-70b", provider: nil, at: at))
        #expect(groq.provider == "groq" && groq.outputPerMillion == money("0.79"))
        #expect(together.provider == "together" && together.outputPerMillion == money("0.88"))
        #expect(neither == groq)
    }

    @Test func costThroughTheBook() {
        let usage = TokenUsage(input: 10_000, output: 1_000, cachedInput: 5_000, cacheWrite: 3_000)
        let cost = Self.book.cost(of: usage, model: "claude-3-5-sonnet-20241022", provider: "anthropic", at: day("2025-01-15"))
        #expect(cost?.usdString == "0.03375")
    }

    @Test func overridesWinFromTheirDateOn() throws {
        let negotiated = ModelPrice(
            provider: "openai", model: "gpt-4o-2024-08-06", effectiveFrom: day("2025-01-01"),
            inputPerMillion: money("2.00"), outputPerMillion: money("8.00"), aliases: ["our-gpt"])
        let custom = ModelPrice(
            provider: "fireworks", model: "llama-v3p3-70b-instruct", effectiveFrom: day("2024-12-01"),
            inputPerMillion: money("0.90"), outputPerMillion: money("0.90"))
        let book = Self.book.overriding(with: [negotiated, custom])

        #expect(book.price(model: "gpt-4o", provider: nil, at: day("2024-12-31"))?.inputPerMillion == money("2.50"))
        let overridden = try #require(book.price(model: "gpt-4o", provider: nil, at: day("2025-06-01")))
        #expect(overridden.inputPerMillion == money("2.00"))
        #expect(overridden.model == "gpt-4o")     // attached to the canonical model
        #expect(book.resolve(model: "our-gpt", provider: nil) == "gpt-4o")
        #expect(book.price(model: "gpt-4o-mini", provider: nil, at: day("2025-06-01"))?.inputPerMillion == money("0.15"))
        #expect(book.resolve(model: "accounts/fireworks/models/llama-v3p3-70b-instruct", provider: "fireworks")
            == "llama-v3p3-70b-instruct")
        #expect(book.price(model: "llama-v3p3-70b-instruct", provider: nil, at: day("2024-11-30")) == nil)
        // The base book is unchanged, and overrides layer again.
        #expect(Self.book.price(model: "gpt-4o", provider: nil, at: day("2025-06-01"))?.inputPerMillion == money("2.50"))
        let again = book.overriding(with: [ModelPrice(
            provider: "openai", model: "gpt-4o", effectiveFrom: day("2025-03-01"),
            inputPerMillion: money("1.00"), outputPerMillion: money("4.00"))])
        #expect(again.price(model: "gpt-4o", provider: nil, at: day("2025-02-01"))?.inputPerMillion == money("2.00"))
        #expect(again.price(model: "gpt-4o", provider: nil, at: day("2025-03-01"))?.inputPerMillion == money("1.00"))
        #expect(again.prices.count == Self.book.prices.count + 3)
    }

    @Test func shippedFileIsValidAndCoversEveryProvider() throws {
        let prices = Self.book.prices
        #expect(prices.count >= 60)
        #expect(Set(prices.map(\.provider)) == Set(PriceBook.providerPrecedence))
        var seen = Set<String>()
        for p in prices {
            let id = "\(p.provider)/\(p.model)/\(CalendarDay.isoDay(from: p.effectiveFrom))"
            #expect(seen.insert(id).inserted, "duplicate \(id)")
            #expect(p.inputPerMillion >= .zero && p.outputPerMillion >= .zero, "\(id)")
            #expect((p.cachedInputPerMillion ?? .zero) >= .zero && (p.cacheWritePerMillion ?? .zero) >= .zero, "\(id)")
            if let cached = p.cachedInputPerMillion { #expect(cached <= p.inputPerMillion, "\(id)") }
            #expect(p.effectiveFrom >= day("2022-01-01") && p.effectiveFrom <= Date(), "\(id)")
            #expect(Self.book.resolve(model: p.model, provider: p.provider) == p.model, "\(id)")
            for alias in p.aliases {
                #expect(Self.book.resolve(model: alias, provider: p.provider) == p.model, "\(id) alias \(alias)")
            }
        }
        // Anthropic: cache reads 0.1× and writes 1.25× the input price (Haiku 3 is published rounded).
        for p in prices where p.provider == "anthropic" && p.model != "claude-3-haiku" {
            #expect(p.cachedInputPerMillion?.picodollars == p.inputPerMillion.picodollars / 10, "\(p.model)")
            #expect(p.cacheWritePerMillion?.picodollars == p.inputPerMillion.picodollars * 5 / 4, "\(p.model)")
        }
    }

    @Test(arguments: [
        ("openai/gpt-4o 2024-05-13", "gpt-4o", "2024-05-13", "5.00"),
        ("anthropic/claude-3-5-sonnet 2024-06-20", "claude-3-5-sonnet", "2024-06-20", "3.00"),
    ])
    func modelPriceCodableRoundTrip(_ label: String, _ model: String, _ date: String, _ input: String) throws {
        let price = try #require(Self.book.prices.first {
            $0.model == model && CalendarDay.isoDay(from: $0.effectiveFrom) == date
        }, "\(label)")
        let data = try JSONEncoder().encode(price)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"effective_from\":\"\(date)\""))
        #expect(text.contains("\"input_per_million\":\"\(Money(decimalString: input)!.usdString)\""))
        #expect(try JSONDecoder().decode(ModelPrice.self, from: data) == price)
    }

    @Test(arguments: [
        ("2024-02-29", true), ("2023-02-29", false), ("2024-13-01", false), ("2024-1-01", false),
        ("1970-01-01", true), ("2100-02-29", false), ("2000-02-29", true), ("2024-04-31", false), ("20240101xx", false),
    ])
    func calendarDays(_ text: String, _ valid: Bool) {
        let date = CalendarDay.date(fromISODay: text)
        #expect((date != nil) == valid)
        if let date { #expect(CalendarDay.isoDay(from: date) == text) }
    }
}

struct PricingFileTests {
    private func problems(_ json: String) -> [String] {
        do {
            _ = try PriceBook.decode(Data(json.utf8))
            return []
        } catch let error as PriceFileError {
            return error.problems
        } catch {
            return ["unexpected \(error)"]
        }
    }

    private func entry(_ fields: String) -> String {
        #"{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2""#
            + fields + "}"
    }

    @Test func acceptsMinimalFile() throws {
        let book = try PriceBook.decode(Data(#"{"version":"1","prices":[\#(entry(""))]}"#.utf8))
        #expect(book.prices.count == 1)
        #expect(book.prices[0].cachedInputPerMillion == nil)
    }

    @Test(arguments: [
        (#"{"prices":[\#(#"{"provider":"openai","model":"m1","effective_from":"2024-01-01","output_per_million":"2"}"#)]}"#,
         #"prices[0] (openai/m1 2024-01-01): missing "input_per_million""#),
        (#"{"prices":[\#(#"{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":1.5,"output_per_million":"2"}"#)]}"#,
         "prices[0] (openai/m1 2024-01-01): input_per_million must be a decimal string"),
        (#"{"prices":[{"provider":"openai","model":"m1","effective_from":"2024-02-30","input_per_million":"1","output_per_million":"2"}]}"#,
         #"prices[0] (openai/m1 2024-02-30): effective_from: invalid date "2024-02-30""#),
        (#"{"prices":[\#(#"{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":"1,5","output_per_million":"2"}"#)]}"#,
         #"input_per_million: invalid decimal amount "1,5""#),
        (#"{"prices":[{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":"-1","output_per_million":"2"}]}"#,
         "prices[0] (openai/m1 2024-01-01): input_per_million is negative (-1)"),
        (#"{"prices":[{"provider":"OpenAI","model":"m1","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2"}]}"#,
         #"provider "OpenAI" must be a lower-case id"#),
        (#"{"prices":[{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2","input_per_milion":"1"}]}"#,
         #"unknown key "input_per_milion""#),
        (#"{"prices":[{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2"},{"provider":"openai","model":"M1","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2"}]}"#,
         "prices[1] (openai/M1 2024-01-01): duplicate of prices[0]"),
        (#"{"prices":[{"provider":"openai","model":"m1","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2","aliases":["x"]},{"provider":"openai","model":"m2","effective_from":"2024-01-01","input_per_million":"1","output_per_million":"2","aliases":["X"]}]}"#,
         #"prices[1] (openai/m2 2024-01-01): name "X" already means openai/m1 (prices[0])"#),
        (#"{"prices":[]}"#, #""prices" is empty"#),
        (#"{"version":"1"}"#, #"not a price file: missing "prices""#),
        ("[1,2", "not a price file"),
    ])
    func rejectsBadFilesNamingTheEntry(_ json: String, _ expected: String) {
        let found = problems(json)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test func reportsEveryBadEntry() {
        let json = #"{"prices":[\#(entry(#","aliases":[""]"#)),{"provider":"xai"},\#(entry(""))]}"#
        let found = problems(json)
        #expect(found.count == 3, "\(found)")    // bad alias, missing fields, duplicate of entry 0
    }
}
