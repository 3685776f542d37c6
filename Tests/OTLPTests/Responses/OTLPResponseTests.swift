import Testing
@testable import OTLP

struct OTLPResponseTests {
    @Test(arguments: [
        ("application/x-protobuf", OTLPEncoding.protobuf), ("application/protobuf", .protobuf), ("Application/JSON; charset=utf-8", .json),
    ])
    func contentTypes(header: String, encoding: OTLPEncoding) {
        #expect(OTLPEncoding(contentType: header) == encoding)
    }

    @Test(arguments: [nil, "text/plain", "application/grpc", "application/x-ndjson"] as [String?])
    func unsupportedContentTypes(header: String?) {
        #expect(OTLPEncoding(contentType: header) == nil)
    }

    @Test func fullSuccessIsEmpty() {
        #expect(OTLPExportResponse(signal: .traces).encoded(.protobuf) == [])
        #expect(String(decoding: OTLPExportResponse(signal: .traces).encoded(.json), as: UTF8.self) == "{}")
    }

    @Test func partialSuccessPerSignal() throws {
        let traces = OTLPExportResponse(signal: .traces, rejected: 2, errorMessage: "bad")
        #expect(String(decoding: traces.encoded(.json), as: UTF8.self) == #"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad"}}"#)
        let logs = OTLPExportResponse(signal: .logs, rejected: 1, errorMessage: "x")
        #expect(String(decoding: logs.encoded(.json), as: UTF8.self) == #"{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"x"}}"#)
        // ExportTraceServiceResponse { partial_success (1) { rejected_spans (1) = 2, error_message (2) = "bad" } }
        #expect(traces.encoded(.protobuf) == [0x0a, 0x07, 0x08, 0x02, 0x12, 0x03, 0x62, 0x61, 0x64])
    }

    @Test func statusBodies() {
        let status = OTLPStatus(code: OTLPStatus.invalidArgument, message: "no")
        #expect(status.encoded(.protobuf) == [0x08, 0x03, 0x12, 0x02, 0x6e, 0x6f])
        #expect(String(decoding: status.encoded(.json), as: UTF8.self) == #"{"code":3,"message":"no"}"#)
        #expect(OTLPStatus.code(forHTTPStatus: 429) == OTLPStatus.resourceExhausted)
        #expect(OTLPStatus.code(forHTTPStatus: 503) == OTLPStatus.unavailable)
        #expect(OTLPStatus.code(forHTTPStatus: 401) == OTLPStatus.unauthenticated)
    }
}
