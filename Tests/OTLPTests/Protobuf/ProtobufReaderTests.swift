import Testing
@testable import OTLP

struct ProtobufReaderTests {
    @Test(arguments: [
        ([0x00], 0), ([0x01], 1), ([0x96, 0x01], 150), ([0xff, 0x7f], 16383),
        ([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], UInt64.max),
    ] as [([UInt8], UInt64)])
    func readsVarints(bytes: [UInt8], value: UInt64) throws {
        var reader = ProtobufReader(bytes)
        #expect(try reader.varint() == value)
        #expect(reader.isAtEnd)
    }

    @Test(arguments: [
        [UInt8]([0x80]),                                                          // truncated
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],             // overflows 64 bits
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],       // 11 bytes
    ])
    func refusesBadVarints(bytes: [UInt8]) {
        var reader = ProtobufReader(bytes)
        #expect(throws: ProtobufError.self) { try reader.varint() }
    }

    @Test func lengthPastTheEndIsAnErrorNotAnAllocation() {
        // Declares 2^62 bytes and holds 1.
        var reader = ProtobufReader([0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00])
        #expect(throws: ProtobufError.self) {
            _ = try reader.nextField()
            _ = try reader.lengthDelimited()
        }
    }

    @Test(arguments: [[UInt8]([0x0b]), [0x0c], [0x0e], [0x0f], [0x00], [0x07]])
    func refusesGroupsUnknownWireTypesAndFieldZero(bytes: [UInt8]) {
        var reader = ProtobufReader(bytes)
        #expect(throws: ProtobufError.self) { try reader.nextField() }
    }

    @Test func nestingIsBounded() throws {
        // 40 nested length-delimited fields, each the only content of its parent.
        var bytes: [UInt8] = []
        for _ in 0..<40 {
            var writer = ProtobufWriter()
            writer.data(1, bytes)
            bytes = writer.bytes
        }
        var reader = ProtobufReader(bytes, maxDepth: 32)
        #expect(throws: ProtobufError.self) {
            while true {
                guard try reader.nextField() != nil else { break }
                reader = try reader.message()
            }
        }
    }

    @Test func writerRoundTripsEveryWireType() throws {
        var writer = ProtobufWriter()
        writer.varint(1, 300)
        writer.int(2, -1)
        writer.fixed64(3, 0x0102_0304_0506_0708)
        writer.fixed32(4, 0xdead_beef)
        writer.string(5, "héllo")
        writer.double(6, 1.5)
        writer.message(7) { $0.bool(1, true) }
        var reader = ProtobufReader(writer.bytes)
        #expect(try reader.nextField()! == (1, .varint)); #expect(try reader.varint() == 300)
        #expect(try reader.nextField()! == (2, .varint)); #expect(Int64(bitPattern: try reader.varint()) == -1)
        #expect(try reader.nextField()! == (3, .fixed64)); #expect(try reader.fixed64() == 0x0102_0304_0506_0708)
        #expect(try reader.nextField()! == (4, .fixed32)); #expect(try reader.fixed32() == 0xdead_beef)
        #expect(try reader.nextField()! == (5, .lengthDelimited)); #expect(try reader.string() == "héllo")
        #expect(try reader.nextField()! == (6, .fixed64)); #expect(Double(bitPattern: try reader.fixed64()) == 1.5)
        #expect(try reader.nextField()! == (7, .lengthDelimited))
        var nested = try reader.message()
        #expect(try nested.nextField()! == (1, .varint)); #expect(try nested.varint() == 1)
        #expect(try reader.nextField() == nil)
    }

    @Test func stringsReplaceInvalidUTF8AndNUL() throws {
        var writer = ProtobufWriter()
        writer.data(1, [0x61, 0x00, 0xff, 0x62])
        var reader = ProtobufReader(writer.bytes)
        _ = try reader.nextField()
        #expect(try reader.string() == "a\u{FFFD}\u{FFFD}b")
    }
}
