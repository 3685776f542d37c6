import Testing
import TokenmeterCore
@testable import Detection

struct AlertKeyTests {
    @Test func theFingerprintIsAPinnedHashOfTheCanonicalForm() {
        let key = AlertKey(rule: .spendSpike, scope: Scope(project: ProjectID(7), labels: ["model": "gpt-4o", "feature": "chat"]))
        #expect(key.canonical == "rule=spend_spike\u{1F}project=7\u{1F}feature=chat\u{1F}model=gpt-4o")
        // SHA-256 of that text (computed independently with Python's hashlib), first 16 hex digits.
        #expect(key.fingerprint == "e683d81f0b2ff4be")
    }

    @Test func labelOrderDoesNotMatterButEveryPartDoes() {
        var labels = ["feature": "chat"]
        labels["model"] = "gpt-4o"
        let a = AlertKey(rule: .spendSpike, scope: Scope(project: ProjectID(7), labels: labels))
        let b = AlertKey(rule: .spendSpike, scope: Scope(project: ProjectID(7), labels: ["model": "gpt-4o", "feature": "chat"]))
        #expect(a.fingerprint == b.fingerprint)
        let variants = [
            AlertKey(rule: .retryStorm, scope: b.scope),
            AlertKey(rule: .spendSpike, scope: Scope(project: ProjectID(8), labels: b.scope.labels)),
            AlertKey(rule: .spendSpike, scope: b.scope.adding("model", "gpt-4o-mini")),
            AlertKey(rule: .spendSpike, scope: b.scope, instance: "t-1"),
            // A value holding what looks like another label must not collide.
            AlertKey(rule: .spendSpike, scope: Scope(project: ProjectID(7), labels: ["feature": "chat model=gpt-4o"])),
        ]
        #expect(Set(variants.map(\.fingerprint) + [a.fingerprint]).count == variants.count + 1)
    }
}
