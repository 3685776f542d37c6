import Foundation
import Postgres
import Testing

struct BindRoundTripTests {
    static let trickyStrings = [
        "", "plain", "O'Reilly", "\"double\"", "back\\slash", "tab\there", "new\nline", "cr\rlf\r\n",
        "Robert'); DROP TABLE students;--", "' OR '1'='1", "$1", "$$ dollar $$", "\\N", "NULL", "--comment",
        "日本語テキスト", "emoji 🧪🚀👩‍👩‍👧", "combining é vs é", "\u{7}bell\u{1B}esc", String(repeating: "x", count: 100_000),
    ]

    @Test(arguments: trickyStrings)
    func stringsRoundTripUnchanged(value: String) throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let result = try connection.query("SELECT \(value)::text AS v, length(\(value)) AS n")
        let row = try #require(result.rows.first)
        #expect(try row.decode(String.self, column: "v") == value)
        #expect(try row.decode(Int.self, column: "n") == value.unicodeScalars.count)
        #expect(row["v"] == value)
    }

    @Test func stringsRoundTripThroughATable() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (id int PRIMARY KEY, s text)")
            for (id, value) in Self.trickyStrings.enumerated() {
                try connection.query("INSERT INTO t (id, s) VALUES (\(id), \(value))")
            }
            let rows = try connection.query("SELECT s FROM t ORDER BY id").rows
            #expect(try rows.map { try $0.decode(String.self, column: "s") } == Self.trickyStrings)
            #expect(try connection.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'students'").rows[0]
                .decode(Int.self, column: "n") == 0)
        }
    }

    @Test func everyTypeRoundTrips() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let date = Date(timeIntervalSince1970: 1_717_171_717.123456)
        let bytes = (0...255).map(UInt8.init) + [0, 0]
        let array = ["a", "", "NULL", "with,comma", "{brace}", "q\"uote", "back\\slash", "sp ace", "ünï"]
        let uuid = UUID()
        let none: Int? = nil
        let row = try #require(try connection.query("""
            SELECT \(Int.max) AS int, \(Int64.min) AS int64, \(Int32.max) AS int32, \(-0.1) AS double,
                   \(true) AS yes, \(false) AS no, \(date) AS date, \(bytes) AS bytes, \(array) AS array,
                   \(uuid)::uuid AS uuid, \(none) AS none, \(Optional(5)) AS some, \(PostgresValue.null) AS null,
                   \(1e-300) AS tiny, \(Double.greatestFiniteMagnitude) AS huge, pg_typeof(\(1)) AS inttype
            """).rows.first)
        #expect(try row.decode(Int.self, column: "int") == Int.max)
        #expect(try row.decode(Int64.self, column: "int64") == Int64.min)
        #expect(try row.decode(Int32.self, column: "int32") == Int32.max)
        #expect(try row.decode(Double.self, column: "double") == -0.1)
        #expect(try row.decode(Bool.self, column: "yes") == true)
        #expect(try row.decode(Bool.self, column: "no") == false)
        #expect(try row.decode(Date.self, column: "date") == date)
        #expect(try row.decode([UInt8].self, column: "bytes") == bytes)
        #expect(try row.decode([String].self, column: "array") == array)
        #expect(try row.decode(UUID.self, column: "uuid") == uuid)
        #expect(try row.decode(Int?.self, column: "none") == nil)
        #expect(try row.decode(Int?.self, column: "some") == 5)
        #expect(try row.decode(String?.self, column: "null") == nil)
        #expect(row["null"] == nil)
        #expect(try row.decode(Double.self, column: "tiny") == 1e-300)
        #expect(try row.decode(Double.self, column: "huge") == .greatestFiniteMagnitude)
        #expect(try row.decode(String.self, column: "inttype") == "bigint")
        let inferred: Int = try row.decode(column: "int")
        #expect(inferred == Int.max)
        #expect(try row.decode(Int.self, at: 0) == Int.max)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 0.0, -0.0, 0.1 + 0.2, .leastNonzeroMagnitude])
    func doublesRoundTripBitForBit(value: Double) throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let decoded = try connection.query("SELECT \(value) AS v").rows[0].decode(Double.self, column: "v")
        #expect(decoded.bitPattern == value.bitPattern || (decoded.isNaN && value.isNaN))
    }

    @Test(arguments: ["UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam"])
    func datesDecodeInAnySessionTimeZone(zone: String) throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        try connection.execute("SET TIME ZONE '\(zone)'")
        // 1900 in Amsterdam has a seconds offset (+00:19:32); 2024 has plain hours and half hours.
        for date in [Date(timeIntervalSince1970: 1_709_210_096.789012), Date(timeIntervalSince1970: -2_208_988_800.5)] {
            let text = try connection.query("SELECT \(date)::timestamptz::text AS v").rows[0]["v"]
            #expect(try connection.query("SELECT \(date) AS v").rows[0].decode(Date.self, column: "v") == date,
                    "\(zone): \(text ?? "NULL")")
        }
    }

    @Test func binaryBytesIntoByteaColumnAndTextIntoTypedColumns() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (b bytea, u uuid, j jsonb, n numeric, ts timestamptz, small int)")
            let uuid = UUID()
            try connection.query("""
                INSERT INTO t VALUES (\([UInt8]([0, 1, 2, 255])), \(uuid.uuidString), \(#"{"k": "v"}"#), \("12345678901234567890.123"),
                                      \(Date(timeIntervalSince1970: 0)), \(7))
                """)
            let row = try connection.query("SELECT * FROM t").rows[0]
            #expect(try row.decode([UInt8].self, column: "b") == [0, 1, 2, 255])
            #expect(try row.decode(UUID.self, column: "u") == uuid)
            #expect(try row.decode(String.self, column: "j") == #"{"k": "v"}"#)
            #expect(try row.decode(String.self, column: "n") == "12345678901234567890.123")
            #expect(try row.decode(Date.self, column: "ts") == Date(timeIntervalSince1970: 0))
            #expect(try row.decode(Int32.self, column: "small") == 7)
        }
    }

    @Test func nulByteInTextIsRejectedNotTruncated() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        #expect(throws: PostgresError.self) { try connection.query("SELECT \("a\u{0}b") AS v") }
        #expect(try connection.query("SELECT 1 AS one").rows.count == 1)
    }
}

struct QueryBehaviourTests {
    @Test func unsafeRawSplicesWhitelistedIdentifiers() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int, b text); INSERT INTO t VALUES (1, 'z'), (2, 'y'), (3, 'x')")
            let sortable = ["a", "b"]
            let column = "b"
            #expect(sortable.contains(column))
            let rows = try connection.query("SELECT a FROM t WHERE a >= \(1) ORDER BY \(unsafeRaw: column) ASC").rows
            #expect(try rows.map { try $0.decode(Int.self, column: "a") } == [3, 2, 1])
        }
    }

    @Test func affectedRowsAndCommandTag() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int)")
            let insert = try connection.query("INSERT INTO t SELECT generate_series(1, \(5)::int)")
            #expect(insert.affectedRows == 5)
            #expect(insert.commandTag == "INSERT 0 5")
            #expect(try connection.query("UPDATE t SET a = a + 1 WHERE a > \(2)").affectedRows == 3)
            let select = try connection.query("SELECT a, a * 2 AS double FROM t ORDER BY a")
            #expect(select.columns == ["a", "double"])
            #expect(select.affectedRows == 5)
        }
    }

    @Test func executeRunsSeveralStatements() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            let result = try connection.execute("""
                CREATE TABLE m (id int);
                INSERT INTO m VALUES (1), (2);
                CREATE INDEX ON m (id);
                SELECT count(*) AS n FROM m;
                """)
            #expect(try result.rows[0].decode(Int.self, column: "n") == 2)
        }
    }

    @Test func decodeErrorsNameColumnAndType() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let row = try connection.query("SELECT \("s3cret-value") AS model, NULL::int AS tokens").rows[0]
        do {
            _ = try row.decode(Int.self, column: "model")
            Issue.record("decoding text as Int should fail")
        } catch let error as PostgresError {
            guard case .decode(let column, let type, let value) = error else { Issue.record("\(error)"); return }
            #expect(column == "model" && type == "Int" && value == "s3cret-value")
            #expect(error.description.contains("model") && error.description.contains("Int"))
            #expect(!error.description.contains("s3cret"))
        }
        #expect {
            try row.decode(Int.self, column: "tokens")
        } throws: { error in
            guard case PostgresError.decode("tokens", "Int", nil) = error else { return false }
            return true
        }
        #expect(try row.decode(Int?.self, column: "tokens") == nil)
        #expect {
            try row.decode(String.self, column: "missing")
        } throws: { error in
            guard case PostgresError.columnNotFound("missing", ["model", "tokens"]) = error else { return false }
            return true
        }
        #expect(throws: PostgresError.self) { try row.decode(String.self, at: 9) }
    }

    @Test func columnsCanBeResolvedOnceAndReadByPosition() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let result = try connection.query("SELECT 'a' AS model, 7 AS tokens, NULL::text AS model UNION ALL SELECT 'b', 8, 'x'")
        let model = try result.index(ofColumn: "model"), tokens = try result.index(ofColumn: "tokens")
        #expect(model == 0 && tokens == 1)
        #expect(result.rows.map { $0.text(at: model) } == ["a", "b"])
        #expect(try result.rows.map { try $0.decode(Int.self, at: tokens) } == [7, 8])
        #expect(result.rows[0].text(at: 2) == nil && result.rows[1].text(at: 2) == "x" && result.rows[0].text(at: 3) == nil)
        #expect {
            try result.index(ofColumn: "missing")
        } throws: { error in
            guard case PostgresError.columnNotFound("missing", ["model", "tokens", "model"]) = error else { return false }
            return true
        }
    }

    @Test func serverErrorsCarrySQLStateAndHideBoundValues() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        do {
            try connection.query("SELECT \("s3cret-value")::int")
            Issue.record("expected a server error")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22P02")
            #expect(!error.description.contains("s3cret"))
            #expect(!error.isRetryable)
        }
        do {
            try connection.query("SELECT * FROM no_such_table_\(unsafeRaw: "xyz")")
            Issue.record("expected a server error")
        } catch let error as PostgresError {
            #expect(error.sqlState == "42P01")
            #expect(error.description.contains("no_such_table_xyz"))
        }
        #expect(try connection.query("SELECT 1 AS one").rows.count == 1)
    }

    /// A prepared statement is prepared once per session and text (and parameter types), answers
    /// with each call's values, stays usable after a failed transaction, and at most
    /// `preparedLimit` of them live in a session; a statement that fails to prepare is not kept.
    @Test func preparedStatementsAreReusedAndBounded() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        func prepared() throws -> Int {
            try connection.query("SELECT count(*) AS n FROM pg_prepared_statements").rows[0].decode(Int.self, column: "n")
        }
        for i in 0..<5 {
            #expect(try connection.queryPrepared("SELECT \(i)::int + 1 AS v").rows[0].decode(Int.self, column: "v") == i + 1)
        }
        #expect(try prepared() == 1)
        #expect(try connection.queryPrepared("SELECT \("x")::text || 'y' AS v").rows[0].decode(String.self, column: "v") == "xy")
        #expect(try prepared() == 2)  // same text, other parameter type: its own statement

        try? connection.transaction { tx in
            try tx.query("SELECT 1/0")
        }
        #expect(try connection.queryPrepared("SELECT \(41)::int + 1 AS v").rows[0].decode(Int.self, column: "v") == 42)
        #expect(throws: PostgresError.self) { try connection.queryPrepared("SELECT * FROM no_such_table_\(unsafeRaw: "xyz")") }
        #expect(try prepared() == 2)

        for i in 0..<(PostgresConnection.preparedLimit + 10) {
            #expect(try connection.queryPrepared("SELECT \(i)::int AS v, \(unsafeRaw: String(i)) AS w").rows[0].decode(Int.self, column: "w") == i)
        }
        #expect(try prepared() == PostgresConnection.preparedLimit)
        // The first statement was evicted long ago and is prepared again when it comes back.
        #expect(try connection.queryPrepared("SELECT \(7)::int + 1 AS v").rows[0].decode(Int.self, column: "v") == 8)
        #expect(try prepared() == PostgresConnection.preparedLimit)
    }

    @Test func defaultsAreUTF8AndISODates() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let row = try connection.query("""
            SELECT current_setting('client_encoding') AS enc, current_setting('DateStyle') AS style,
                   current_setting('application_name') AS app
            """).rows[0]
        #expect(row["enc"] == "UTF8")
        #expect(row["style"]?.hasPrefix("ISO") == true)
        #expect(row["app"] == TestDatabase.applicationName)
    }

    @Test func closedConnectionThrowsConnectionLost() throws {
        let connection = try TestDatabase.connect()
        #expect(connection.isHealthy)
        connection.close()
        #expect(!connection.isHealthy)
        #expect {
            try connection.query("SELECT 1")
        } throws: { error in
            guard case PostgresError.connectionLost = error else { return false }
            return true
        }
    }

    @Test func reentrantUseIsReportedNotCorrupting() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a text)")
            #expect {
                _ = try connection.copyIn("COPY t FROM STDIN") { _ in try connection.query("SELECT 1") }
            } throws: { error in
                guard case PostgresError.protocolViolation = error else { return false }
                return true
            }
            #expect(try connection.query("SELECT count(*) AS n FROM t").rows[0].decode(Int.self, column: "n") == 0)
        }
    }
}

struct TransactionTests {
    struct Boom: Error {}

    @Test func commitsWhenBodyReturns() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int)")
            let value = try connection.transaction { tx in
                try tx.query("INSERT INTO t VALUES (\(1)), (\(2))")
                return "done"
            }
            #expect(value == "done")
            #expect(try count(connection) == 2)
        }
    }

    @Test func rollsBackWhenBodyThrows() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int)")
            #expect(throws: Boom.self) {
                try connection.transaction { tx in
                    try tx.query("INSERT INTO t VALUES (\(1))")
                    throw Boom()
                }
            }
            #expect(try count(connection) == 0)
            #expect(try connection.query("SELECT 1 AS one").rows.count == 1)
        }
    }

    @Test func nestedTransactionsUseSavepoints() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int)")
            try connection.transaction { tx in
                try tx.query("INSERT INTO t VALUES (\(1))")
                try? tx.transaction { inner in
                    try inner.query("INSERT INTO t VALUES (\(2))")
                    throw Boom()
                }
                _ = try tx.transaction { inner in try inner.query("INSERT INTO t VALUES (\(3))") }
            }
            let values = try connection.query("SELECT a FROM t ORDER BY a").rows.map { try $0.decode(Int.self, column: "a") }
            #expect(values == [1, 3])
        }
    }

    @Test func swallowedStatementErrorPreventsCommit() throws {
        try TestDatabase.withScratchSchema { connection, _ in
            try connection.execute("CREATE TABLE t (a int PRIMARY KEY)")
            #expect {
                try connection.transaction { tx in
                    try tx.query("INSERT INTO t VALUES (\(1))")
                    _ = try? tx.query("INSERT INTO t VALUES (\(1))")  // duplicate, swallowed
                }
            } throws: { error in
                (error as? PostgresError)?.sqlState == "25P02"
            }
            #expect(try count(connection) == 0)
        }
    }

    private func count(_ connection: PostgresConnection) throws -> Int {
        try connection.query("SELECT count(*) AS n FROM t").rows[0].decode(Int.self, column: "n")
    }
}
