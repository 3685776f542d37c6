import Foundation
@testable import OTLP

/// The payloads captured from real exporters (see Fixtures/capture.py and scripts/e2e).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func names(withSuffix suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    static func traces(_ name: String) throws -> OTLPTraceRequest {
        let bytes = try bytes(name)
        return name.hasSuffix(".json") ? try OTLPJSONDecoder().decodeTraces(bytes) : try OTLPProtobufDecoder().decodeTraces(bytes)
    }

    static let traceID = TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!
}

/// Every single-byte corruption of `bytes` at every position, with a few replacement values:
/// exhaustive and deterministic, so a failure names its input.
func corruptions(of bytes: [UInt8], replacements: [(UInt8) -> UInt8] = [{ _ in 0x00 }, { _ in 0xff }, { $0 ^ 0x80 }]) -> [[UInt8]] {
    bytes.indices.flatMap { index in
        replacements.map { replace in
            var copy = bytes
            copy[index] = replace(copy[index])
            return copy
        }
    }
}

/// Builds spans for mapping tests: attributes by name, times relative to a fixed start.
enum SpanBuilder {
    static let start: UInt64 = 1_795_000_000_000_000_000   // 2026-11-18T11:06:40Z
    static let now = Date(timeIntervalSince1970: 1_795_000_100)

    static func span(_ id: UInt64 = 1, parent: UInt64? = nil, name: String = "span", kind: OTLPSpan.Kind = .internal,
                     durationMs: UInt64 = 1000, _ attributes: [String: OTLPValue] = [:]) -> OTLPSpan {
        var span = OTLPSpan()
        span.traceID = Fixtures.traceID
        span.spanID = SpanID(id)
        span.parentSpanID = parent.map(SpanID.init)
        span.name = name
        span.kind = kind.rawValue
        span.startTimeUnixNano = start
        span.endTimeUnixNano = start + durationMs * 1_000_000
        span.attributes = attributes.keys.sorted().map { OTLPAttribute($0, attributes[$0]!) }
        return span
    }

    static func request(_ spans: [OTLPSpan], resource: [String: OTLPValue] = [:]) -> OTLPTraceRequest {
        OTLPTraceRequest(resourceSpans: [OTLPResourceSpans(resource: resource.keys.sorted().map { OTLPAttribute($0, resource[$0]!) },
                                                           scopeSpans: [OTLPScopeSpans(spans: spans)])])
    }

    static func map(_ spans: [OTLPSpan], resource: [String: OTLPValue] = [:], options: OTLPMappingOptions = OTLPMappingOptions()) -> TraceMapping {
        SpanMapper(options: options).map(request(spans, resource: resource), receivedAt: now)
    }

    /// The one event a single span maps to.
    static func event(_ attributes: [String: OTLPValue], name: String = "span", durationMs: UInt64 = 1000) throws -> MappedSpan {
        let mapping = map([span(name: name, durationMs: durationMs, attributes)])
        guard let first = mapping.spans.first else { throw MappingFailed(reason: mapping.rejectionMessage) }
        return first
    }

    struct MappingFailed: Error { let reason: String }
}
