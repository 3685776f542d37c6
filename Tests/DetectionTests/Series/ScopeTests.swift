import Testing
import TokenmeterCore
@testable import Detection

struct ScopeTests {
    @Test(arguments: [
        ([:], ["model": "a"], true), (["model": "a"], ["model": "a", "feature": "f"], true),
        (["model": "a"], ["model": "b"], false), (["model": "a"], ["feature": "f"], false),
    ] as [([String: String], [String: String], Bool)])
    func nestedScopes(_ a: [String: String], _ b: [String: String], _ nested: Bool) {
        let project = ProjectID(7)
        #expect(Scope(project: project, labels: a).isNested(with: Scope(project: project, labels: b)) == nested)
        #expect(Scope(project: project, labels: b).isNested(with: Scope(project: project, labels: a)) == nested)
        #expect(!Scope(project: ProjectID(8), labels: a).isNested(with: Scope(project: project, labels: a)))
    }

    @Test func rendersLabelsSortedByName() {
        let scope = Scope(project: ProjectID(7), labels: ["model": "gpt-4o", "feature": "chat"])
        #expect(scope.description == "project=7 feature=chat model=gpt-4o")
        #expect(scope.adding("user_id", "u1").description == "project=7 feature=chat model=gpt-4o user_id=u1")
    }

    @Test(arguments: [
        (["feature": "f"], [:], true), (["model": "a", "feature": "f"], ["model": "a"], true),
        ([:], ["feature": "f"], false), (["feature": "f"], ["feature": "f"], false),
        (["feature": "f"], ["model": "a"], false), (["model": "a", "feature": "f"], ["model": "b"], false),
    ] as [([String: String], [String: String], Bool)])
    func narrowerScopes(_ a: [String: String], _ b: [String: String], _ narrower: Bool) {
        let project = ProjectID(7)
        #expect(Scope(project: project, labels: a).isNarrower(than: Scope(project: project, labels: b)) == narrower)
        #expect(!Scope(project: project, labels: a).isNarrower(than: Scope(project: ProjectID(8), labels: b)))
    }
}
