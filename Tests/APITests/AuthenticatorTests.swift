import Foundation
import HTTP
import Testing
@testable import API

/// Which credentials a request presents: a bearer token, or the password of Basic credentials
/// (the Langfuse SDK's `base64(public key:secret key)`, whose secret is the ingest key).
struct AuthenticatorTests {
    private func presented(_ authorization: String?) -> String? {
        let headers: HTTPHeaders = authorization.map { ["Authorization": $0] } ?? [:]
        return Authenticator.bearerToken(HTTPRequest(method: "POST", target: "/v1/traces", headers: headers))
    }

    private func basic(_ credentials: String) -> String { "Basic " + Data(credentials.utf8).base64EncodedString() }

    @Test func bearerAndBasicPresentTheKey() {
        #expect(presented("Bearer tm_ingest_abc") == "tm_ingest_abc")
        #expect(presented("bearer   tm_ingest_abc ") == "tm_ingest_abc")
        #expect(presented(basic("pk-lf-1234:tm_ingest_abc")) == "tm_ingest_abc")
        #expect(presented(basic("anything:with:colons")) == "with:colons", "only the first colon separates the user name")
        #expect(presented("basic " + Data("u:k".utf8).base64EncodedString()) == "k")
    }

    @Test(arguments: [nil, "", "Bearer", "Token abc", "Basic", "Basic !!!not-base64", "Basic " + Data("no-colon".utf8).base64EncodedString(),
                      "Basic " + Data([0xff, 0xfe, 0x3a, 0x41]).base64EncodedString(), "Basic " + String(repeating: "QUFB", count: 400)])
    func otherCredentialsPresentNothing(_ authorization: String?) {
        #expect(presented(authorization) == nil)
    }
}
