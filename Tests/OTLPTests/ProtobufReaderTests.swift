import Testing
@testable import OTLP

struct ProtobufReaderTests {
    @Test func readsVarint() throws {
        var reader = ProtobufReader([0x96, 0x01])
        #expect(try reader.varint() == 150)
    }
}
