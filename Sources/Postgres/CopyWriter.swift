import CLibPQ
import Foundation

/// Writes rows for `COPY ... FROM STDIN` in text format, buffering them and sending them to the
/// server in ~256 KB chunks. Only `PostgresConnection.copyIn` creates one; it is valid only
/// inside the `produce` closure.
///
/// Two ways to write a row:
/// ```swift
/// writer.writeRow(["a", nil, "b\tc"])                       // simple
/// writer.field("a"); writer.field(nil as String?); writer.field(42); writer.endRow()  // no array
/// ```
/// Sending errors do not throw here (the writer stops sending and `copyIn` reports them);
/// check `hasFailed` to stop producing early.
public struct CopyWriter {
    static let flushThreshold = 256 * 1024

    private let connection: OpaquePointer
    private var buffer: [UInt8] = []
    private var fieldsInRow = 0
    /// Rows completed with `endRow` / `writeRow` so far.
    public private(set) var rowsWritten = 0
    /// libpq's message once sending failed (connection lost); later rows are dropped.
    private(set) var sendFailure: String?

    init(connection: OpaquePointer) {
        self.connection = connection
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    /// Whether sending to the server has failed; further rows are discarded.
    public var hasFailed: Bool { sendFailure != nil }

    /// Writes one row; `nil` is SQL NULL.
    public mutating func writeRow(_ fields: [String?]) {
        for value in fields { field(value) }
        endRow()
    }

    /// Starts a row. Optional: `endRow` already prepares the next one; this just discards
    /// fields of an unfinished row.
    public mutating func beginRow() {
        fieldsInRow = 0
    }

    public mutating func field(_ value: String?) {
        separate()
        guard let value else { appendNull(); return }
        appendEscaped(value)
    }

    public mutating func field(_ value: Int64) {
        separate()
        appendInteger(value)
    }

    public mutating func field(_ value: Int) {
        separate()
        appendInteger(Int64(value))
    }

    public mutating func field(_ value: Double) {
        separate()
        buffer.append(contentsOf: PostgresText.double(value).utf8)
    }

    public mutating func field(_ value: Bool) {
        separate()
        buffer.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    public mutating func field(_ value: Int64?) {
        guard let value else { separate(); appendNull(); return }
        field(value)
    }

    public mutating func field(_ value: Double?) {
        guard let value else { separate(); appendNull(); return }
        field(value)
    }

    public mutating func field(_ value: Bool?) {
        guard let value else { separate(); appendNull(); return }
        field(value)
    }

    public mutating func field(_ value: UUID) {
        separate()
        value.appendPostgresText(to: &buffer)
    }

    /// timestamptz in UTC with microseconds.
    public mutating func field(_ value: Date) {
        separate()
        buffer.append(contentsOf: PostgresTimestamp.format(value).utf8)
    }

    /// bytea, as hex (`\\x..` once COPY-escaped).
    public mutating func field(bytes value: [UInt8]) {
        separate()
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(contentsOf: PostgresText.byteaHex(value).utf8)
    }

    /// Any bindable value, written as its text form (`.null` → NULL).
    public mutating func field(_ value: PostgresValue) {
        switch value {
        case .null: separate(); appendNull()
        case .text(let s): field(s)
        case .int(let i): field(i)
        case .double(let d): field(d)
        case .bool(let b): field(b)
        case .bytes(let b): field(bytes: b)
        case .timestamp(let t): field(t)
        case .textArray(let a): field(PostgresText.arrayLiteral(a))
        }
    }

    /// Ends the row; sends the buffer once it passes ~256 KB.
    public mutating func endRow() {
        buffer.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
        rowsWritten += 1
        if buffer.count >= Self.flushThreshold { flush() }
    }

    /// Sends what is buffered.
    mutating func flush() {
        defer { buffer.removeAll(keepingCapacity: true) }
        guard sendFailure == nil, !buffer.isEmpty else { return }
        let status = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
        }
        if status != 1 {
            sendFailure = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    // MARK: encoding

    private mutating func separate() {
        if fieldsInRow > 0 { buffer.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }

    private mutating func appendNull() {
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(UInt8(ascii: "N"))
    }

    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            buffer.append(contentsOf: raw[(20 - count)...])
        }
    }

    /// COPY text format: backslash, tab, newline and carriage return are escaped.
    private mutating func appendEscaped(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            var needsEscaping = false
            for byte in utf8 where byte == UInt8(ascii: "\\") || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                needsEscaping = true
                break
            }
            guard needsEscaping else {
                buffer.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "\\"))
                case 0x09: buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "t"))
                case 0x0A: buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "n"))
                case 0x0D: buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "r"))
                default: buffer.append(byte)
                }
            }
        }
    }
}
