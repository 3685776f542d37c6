import Testing
@testable import TokenmeterCore

struct RedactorTests {
    let all = Redactor()

    @Test(arguments: [
        ("write to jane.doe+tag@example.co.uk now", "write to [email] now"),
        ("(ops@tokenmeter.dev)", "([email])"),
        ("Grüße an juergen@example.de – danke", "Grüße an [email] – danke"),
        ("call +1 (555) 123-4567 today", "call [phone] today"),
        ("tel 030 1234567", "tel [phone]"),
        ("+4915112345678", "[phone]"),
        ("card 4111 1111 1111 1111, exp 12/29", "card [card], exp 12/29"),
        ("4242424242424242", "[card]"),
        ("IBAN DE89 3704 0044 0532 0130 00.", "IBAN [iban]."),
        ("GB82WEST12345698765432", "[iban]"),
        ("export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz123456", "export OPENAI_API_KEY=[secret]"),
        ("AKIAIOSFODNN7EXAMPLE", "[secret]"),
        ("Bearer tm_ingest_OPShhZ7UMgKOFLva1319jGFiu52edvkb", "Bearer [secret]"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "[secret]"),
        ("a@b.com and c@d.org", "[email] and [email]"),
    ])
    func masks(input: String, expected: String) {
        #expect(all.redact(input).text == expected)
        #expect(all.redact(input).matches == expected.components(separatedBy: "[").count - 1)
    }

    @Test(arguments: [
        "revenue grew 15 percent from 2024-2025",
        "epoch 1764000000 and order 123456789",
        "pi is 3.14159265358979",
        "4111-1111-1111-1112 fails Luhn",
        "DE89 3704 0044 0532 0130 01 fails mod 97",
        "user@localhost and @handle and x@y.c",
        "sk-short and task-force and skeleton",
        "version v4111111111111111 glued to letters",
        "",
    ])
    func leavesOrdinaryTextAlone(input: String) {
        #expect(all.redact(input).text == input)
        #expect(all.redact(input).matches == 0)
    }

    @Test func onlyTheChosenKinds() {
        let emails = Redactor(kinds: [.email])
        #expect(emails.redact("a@b.com +1 (555) 123-4567").text == "[email] +1 (555) 123-4567")
        #expect(Redactor(kinds: []).redact("a@b.com").text == "a@b.com")
    }

    @Test func luhn() {
        #expect(Redactor.luhnValid([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
        #expect(!Redactor.luhnValid([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]))
        #expect(Redactor.luhnValid([7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]))   // the textbook example
    }
}
