import Foundation
import Postgres
import Testing

struct CopyInTests {
    /// Deterministic tricky text for row `i`.
    static func text(_ i: Int) -> String? {
        switch i % 9 {
        case 0: return nil
        case 1: return "tab\there\tand\tthere"
        case 2: return "line\nbreak\r\nwindows\rmac"
        case 3: return "back\\slash \\N \\. \\t literal"
        case 4: return "ünïcødé 日本 🧪 \(i)"
        case 5: return ""
        case 6: return "\\"
        case 7: return "quotes ' \" and , commas {braces}"
        default: return "plain \(i)"
        }
    }

    @Test func tenThousandTrickyRowsRoundTripExactly() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id bigint, s text, n bigint, d double precision, b boolean, ts timestamptz, raw bytea)")
            let base = Date(timeIntervalSince1970: 1_700_000_000.000001)
            let count = 10_000
            let copied = try connection.copyIn("COPY t (id, s, n, d, b, ts, raw) FROM STDIN") { writer in
                for i in 0..<count {
                    if i % 2 == 0 {
                        writer.writeRow([String(i), Self.text(i), i % 5 == 0 ? nil : String(-i), "\(Double(i) / 7)",
                                         i % 3 == 0 ? "t" : "f", "2024-01-01 00:00:00+00", "\\x0a5c09"])
                    } else {
                        writer.field(i)
                        writer.field(Self.text(i))
                        if i % 5 == 0 { writer.field(nil as String?) } else { writer.field(Int64(-i)) }
                        writer.field(Double(i) / 7)
                        writer.field(i % 3 == 0)
                        writer.field(base.addingTimeInterval(Double(i)))
                        writer.field(bytes: [0x0a, 0x5c, 0x09])
                        writer.endRow()
                    }
                }
                #expect(writer.rowsWritten == count)
            }
            #expect(copied == count)
            let rows = try connection.query("SELECT * FROM t ORDER BY id").rows
            #expect(rows.count == count)
            for (i, row) in rows.enumerated() {
                #expect(try row.decode(Int.self, column: "id") == i)
                #expect(try row.decode(String?.self, column: "s") == Self.text(i), "row \(i)")
                #expect(try row.decode(Int?.self, column: "n") == (i % 5 == 0 ? nil : -i))
                #expect(try row.decode(Double.self, column: "d") == Double(i) / 7)
                #expect(try row.decode(Bool.self, column: "b") == (i % 3 == 0))
                #expect(try row.decode([UInt8].self, column: "raw") == [0x0a, 0x5c, 0x09])
                if i % 2 == 1 {
                    #expect(try row.decode(Date.self, column: "ts") == base.addingTimeInterval(Double(i)))
                }
            }
        }
    }

    @Test func badDataFailsAndLeavesConnectionUsable() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id int, s text)")
            #expect {
                try connection.copyIn("COPY t FROM STDIN") { writer in
                    for i in 0..<5_000 { writer.writeRow([String(i), "ok"]) }
                    writer.writeRow(["not-a-number", "s3cret"])
                }
            } throws: { error in
                guard let error = error as? PostgresError, error.sqlState == "22P02" else { return false }
                return !error.description.contains("s3cret")
            }
            #expect(connection.isHealthy)
            #expect(try connection.query("SELECT count(*) AS n FROM t").rows[0].decode(Int.self, column: "n") == 0)
            #expect(try connection.copyIn("COPY t FROM STDIN") { $0.writeRow(["1", "fine"]) } == 1)
        }
    }

    @Test func wrongColumnCountFailsCleanly() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id int, s text)")
            #expect(throws: PostgresError.self) {
                try connection.copyIn("COPY t FROM STDIN") { $0.writeRow(["1"]) }
            }
            #expect(try connection.query("SELECT 1 AS one").rows.count == 1)
        }
    }

    @Test func producerErrorAbortsTheCopy() throws {
        struct Stop: Error {}
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id int)")
            #expect(throws: Stop.self) {
                try connection.copyIn("COPY t FROM STDIN") { writer in
                    for i in 0..<100_000 { writer.writeRow([String(i)]) }  // several flushed chunks
                    throw Stop()
                }
            }
            #expect(try connection.query("SELECT count(*) AS n FROM t").rows[0].decode(Int.self, column: "n") == 0)
        }
    }

    @Test func copyStatementErrorsAndNonCopyStatements() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        #expect {
            try connection.copyIn("COPY no_such_table FROM STDIN") { _ in }
        } throws: { error in
            (error as? PostgresError)?.sqlState == "42P01"
        }
        #expect {
            try connection.copyIn("SELECT 1") { _ in }
        } throws: { error in
            guard case PostgresError.protocolViolation = error else { return false }
            return true
        }
        #expect {
            try connection.execute("COPY (SELECT 1) TO STDOUT")
        } throws: { error in
            guard case PostgresError.protocolViolation = error else { return false }
            return true
        }
        #expect(try connection.query("SELECT 1 AS one").rows.count == 1)
    }
}
