@testable import Delivery
import Foundation
import Testing

struct HMACSHA256Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var key: [UInt8]
        var data: [UInt8]
        var mac: String
        var testDescription: String { name }
    }

    /// RFC 4231 §4 (test case 5 truncates the output, so it is left out).
    static let rfc4231: [Vector] = [
        Vector(name: "case 1", key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
               mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(name: "case 2", key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
               mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(name: "case 3", key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
               mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(name: "case 4", key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
               mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(name: "case 6 (131-byte key)", key: [UInt8](repeating: 0xaa, count: 131),
               data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
               mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(name: "case 7 (131-byte key, long data)", key: [UInt8](repeating: 0xaa, count: 131),
               data: Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
               mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: rfc4231)
    func matchesRFC4231(_ vector: Vector) {
        #expect(HMACSHA256.hex(key: vector.key, message: vector.data) == vector.mac)
    }

    @Test func signatureCoversTimestampAndBody() {
        let body = Array("{\"a\":1}".utf8)
        // Python: hmac.new(b'whsec-test', b'1796000000.{"a":1}', sha256).hexdigest()
        let signature = WebhookSignature.signature(secret: "whsec-test", timestamp: 1_796_000_000, body: body)
        #expect(signature == "sha256=caa7647ae2529c6d5b578f64f39c6a6c36253c4b33a0f6fc771940cca03d4d80")
        let now = Date(timeIntervalSince1970: 1_796_000_060)
        #expect(WebhookSignature.verify(secret: "whsec-test", signature: signature, timestamp: 1_796_000_000, body: body, now: now))
        // A changed body, a replayed signature with a new timestamp, the wrong secret, a stale timestamp.
        #expect(!WebhookSignature.verify(secret: "whsec-test", signature: signature, timestamp: 1_796_000_000, body: Array("{\"a\":2}".utf8), now: now))
        #expect(!WebhookSignature.verify(secret: "whsec-test", signature: signature, timestamp: 1_796_000_050, body: body, now: now))
        #expect(!WebhookSignature.verify(secret: "other", signature: signature, timestamp: 1_796_000_000, body: body, now: now))
        #expect(!WebhookSignature.verify(secret: "whsec-test", signature: signature, timestamp: 1_796_000_000, body: body,
                                         now: now.addingTimeInterval(600)))
    }
}
