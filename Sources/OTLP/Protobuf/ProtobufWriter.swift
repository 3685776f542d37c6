/// Appends protobuf fields to a byte array. Enough for OTLP responses and for building test
/// payloads; nested messages are written into their own writer and embedded with ``message(_:_:)``.
public struct ProtobufWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    private mutating func key(_ field: UInt32, _ wireType: WireType) {
        rawVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    public mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func varint(_ field: UInt32, _ value: UInt64) {
        key(field, .varint)
        rawVarint(value)
    }

    /// int32/int64/enum: negative values take ten bytes, as protobuf requires.
    public mutating func int(_ field: UInt32, _ value: Int64) {
        varint(field, UInt64(bitPattern: value))
    }

    public mutating func bool(_ field: UInt32, _ value: Bool) {
        varint(field, value ? 1 : 0)
    }

    public mutating func fixed64(_ field: UInt32, _ value: UInt64) {
        key(field, .fixed64)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    public mutating func fixed32(_ field: UInt32, _ value: UInt32) {
        key(field, .fixed32)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    public mutating func double(_ field: UInt32, _ value: Double) {
        fixed64(field, value.bitPattern)
    }

    public mutating func data<Bytes: Collection<UInt8>>(_ field: UInt32, _ value: Bytes) {
        key(field, .lengthDelimited)
        rawVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: UInt32, _ value: String) {
        data(field, Array(value.utf8))
    }

    public mutating func message(_ field: UInt32, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        data(field, nested.bytes)
    }
}
