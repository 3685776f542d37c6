import Foundation
import HTTP
import Ingest
import OTLP

/// What each fuzz target does with its input, shared by the libFuzzer entry points (`Fuzz/`) and the
/// regression tests that replay the seed corpus and every saved crash (`Tests/FuzzHarnessesTests`).
/// The first input byte chooses a variant (chunk size, content type, signal), the rest is the payload.
public enum FuzzHarnesses {
    public static let targets = ["HTTPParser", "EventDecoder", "OTLP", "Gzip"]

    public static func run(_ target: String, _ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let payload = Array(bytes.dropFirst())
        switch target {
        case "HTTPParser": httpParser(chunk: Int(first % 17) + 1, payload)
        case "EventDecoder": eventDecoder(ndjson: first & 1 == 1, payload)
        case "OTLP": otlp(variant: first % 4, payload)
        case "Gzip": gzip(deflate: first & 1 == 1, payload)
        default: preconditionFailure("unknown fuzz target \(target)")
        }
    }

    /// The bytes are a client's stream, fed to the request parser in pieces, with small limits so the
    /// limit paths are reached too. Every input ends in requests or an error, never a loop.
    static func httpParser(chunk: Int, _ bytes: [UInt8]) {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: 2048, maxHeaderCount: 20, maxBodyBytes: 4096))
        var offset = 0
        var steps = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            parser.append(Array(bytes[offset..<end]))
            offset = end
            drain: while true {
                steps += 1
                precondition(steps < 100_000, "the parser does not make progress")
                switch parser.next() {
                case .needMoreData: break drain
                case .error: return
                case .head, .end: continue
                }
            }
        }
    }

    /// A body for POST /v1/events.
    static func eventDecoder(ndjson: Bool, _ body: [UInt8]) {
        var limits = IngestLimits()
        limits.textCapBytes = 64
        _ = try? EventDecoder(limits: limits).decodeBody(body, contentType: ndjson ? "application/x-ndjson" : "application/json",
                                                        receivedAt: Date(timeIntervalSince1970: 1_764_000_000))
    }

    /// An OTLP/HTTP export body, decoded and, when it decodes, mapped as the receiver would.
    static func otlp(variant: UInt8, _ body: [UInt8]) {
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        switch variant {
        case 0: if let request = try? OTLPProtobufDecoder().decodeTraces(body) { _ = SpanMapper().map(request, receivedAt: now) }
        case 1: if let request = try? OTLPJSONDecoder().decodeTraces(body) { _ = SpanMapper().map(request, receivedAt: now) }
        case 2: if let request = try? OTLPProtobufDecoder().decodeLogs(body) { _ = LogTextMapper().map(request, receivedAt: now) }
        default: if let request = try? OTLPJSONDecoder().decodeLogs(body) { _ = LogTextMapper().map(request, receivedAt: now) }
        }
    }

    /// A compressed request body inflated under a small cap.
    static func gzip(deflate: Bool, _ body: [UInt8]) {
        _ = try? decompress(body, encoding: deflate ? "deflate" : "gzip", limit: 1 << 20)
    }
}
