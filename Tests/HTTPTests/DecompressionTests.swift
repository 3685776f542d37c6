import Foundation
import Testing
@testable import HTTP

struct DecompressionTests {
    static let text = Array(String(repeating: "tokens in, tokens out; ", count: 500).utf8)

    @Test(arguments: ["gzip", "x-gzip", "GZIP"])
    func gzipRoundTrip(encoding: String) throws {
        #expect(try decompress(gzip(Self.text), encoding: encoding, limit: 1 << 20) == Self.text)
    }

    @Test(arguments: [CompressionFormat.zlib, .raw])
    func deflateZlibWrappedAndRaw(format: CompressionFormat) throws {
        #expect(try decompress(compress(Self.text, format: format), encoding: "deflate", limit: 1 << 20) == Self.text)
    }

    @Test func identityAndCodingLists() throws {
        #expect(try decompress(Self.text, encoding: "identity", limit: 1 << 20) == Self.text)
        let twice = gzip(compress(Self.text, format: .zlib))  // deflate applied first, then gzip
        #expect(try decompress(twice, encoding: "deflate, gzip", limit: 1 << 20) == Self.text)
    }

    @Test func concatenatedGzipMembers() throws {
        let joined = gzip(Array("one ".utf8)) + gzip(Array("two".utf8))
        #expect(try decompress(joined, encoding: "gzip", limit: 100) == Array("one two".utf8))
    }

    @Test func truncatedGzipIsCorrupt() {
        let compressed = gzip(Self.text)
        for cut in [1, 10, compressed.count / 2, compressed.count - 1] {
            #expect(throws: DecompressionError.self) {
                try decompress(Array(compressed[..<cut]), encoding: "gzip", limit: 1 << 20)
            }
        }
    }

    @Test func garbageIsCorrupt() {
        #expect {
            try decompress(Array("not gzip at all".utf8), encoding: "gzip", limit: 1 << 20)
        } throws: { error in
            if case .corrupt? = error as? DecompressionError { return true }
            return false
        }
        #expect(throws: DecompressionError.self) {
            try decompress(gzip(Self.text) + [1, 2, 3], encoding: "gzip", limit: 1 << 20)
        }
    }

    @Test func unsupportedEncoding() {
        #expect(throws: DecompressionError.unsupportedEncoding("br")) {
            try decompress(Self.text, encoding: "br", limit: 1 << 20)
        }
    }

    @Test func outputExactlyAtLimitIsAccepted() throws {
        #expect(try decompress(gzip(Self.text), encoding: "gzip", limit: Self.text.count).count == Self.text.count)
        #expect(throws: DecompressionError.tooLarge(limit: Self.text.count - 1)) {
            try decompress(gzip(Self.text), encoding: "gzip", limit: Self.text.count - 1)
        }
    }

    @Test func gzipBombStopsAtTheCap() throws {
        let bomb = gzipBomb
        #expect(bomb.count < 8 << 20)
        let start = ContinuousClock.now
        #expect(throws: DecompressionError.tooLarge(limit: 8 << 20)) {
            try decompress(bomb, encoding: "gzip", limit: 8 << 20)
        }
        // Inflating all of the 1 GiB would take seconds; stopping at 8 MiB takes milliseconds.
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
