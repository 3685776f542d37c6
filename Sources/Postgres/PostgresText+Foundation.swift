import Foundation

extension UUID {
    /// The canonical lowercase text form (`8-4-4-4-12` hex digits), as Postgres prints a uuid.
    /// Foundation's `uuidString` formats through `sprintf` on Linux, which showed up in ingest
    /// profiles at one call per event.
    public var postgresText: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(36)
        appendPostgresText(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the text form to a byte buffer (COPY rows, array literals) without a String.
    public func appendPostgresText(to bytes: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        withUnsafeBytes(of: uuid) { raw in
            digits.withUTF8Buffer { hex in
                for (i, byte) in raw.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 { bytes.append(UInt8(ascii: "-")) }
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
            }
        }
    }
}

extension Date {
    /// The timestamptz text Postgres reads back to the same microsecond (UTC, `+00`): the form
    /// COPY rows and bound timestamps use, built from bytes rather than formatted strings.
    public var postgresText: String { PostgresTimestamp.format(self) }
}
