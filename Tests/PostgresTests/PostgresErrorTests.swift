import Testing

@testable import Postgres

struct PostgresErrorTests {
    @Test(arguments: [
        (PostgresError.connectionLost("gone"), true),
        (.connectionFailed("refused"), true),
        (.poolTimeout, true),
        (.poolClosed, false),
        (.server(sqlState: "08006", message: "", detail: nil), true),
        (.server(sqlState: "57P01", message: "", detail: nil), true),
        (.server(sqlState: "57P02", message: "", detail: nil), true),
        (.server(sqlState: "57P03", message: "", detail: nil), true),
        (.server(sqlState: "57014", message: "", detail: nil), false),
        (.server(sqlState: "40001", message: "", detail: nil), true),
        (.server(sqlState: "40P01", message: "", detail: nil), true),
        (.server(sqlState: "53300", message: "", detail: nil), true),
        (.server(sqlState: "23505", message: "", detail: nil), false),
        (.server(sqlState: "42601", message: "", detail: nil), false),
        (.decode(column: "a", type: "Int", value: "x"), false),
        (.protocolViolation("x"), false),
    ])
    func retryability(error: PostgresError, retryable: Bool) {
        #expect(error.isRetryable == retryable)
    }

    @Test func dataBearingServerMessagesStayOutOfDescription() {
        let error = PostgresError.server(
            sqlState: "23505", message: "duplicate key value violates unique constraint \"users_email_key\"",
            detail: "Key (email)=(alice@example.com) already exists.")
        #expect(error.description == "Postgres error 23505 (unique_violation)")
        #expect(!error.description.contains("alice"))
        #expect(error.debugDescription.contains("alice@example.com"))

        let invalid = PostgresError.server(sqlState: "22P02", message: "invalid input syntax for type integer: \"s3cret\"", detail: nil)
        #expect(!invalid.description.contains("s3cret"))
    }

    @Test func statementMessagesAreKept() {
        let error = PostgresError.server(sqlState: "42P01", message: "relation \"nope\" does not exist", detail: nil)
        #expect(error.description == "Postgres error 42P01 (undefined_table): relation \"nope\" does not exist")
    }

    @Test func decodeDescriptionNamesColumnAndTypeButNotValue() {
        let error = PostgresError.decode(column: "total_tokens", type: "Int", value: "s3cret")
        #expect(error.description.contains("total_tokens"))
        #expect(error.description.contains("Int"))
        #expect(!error.description.contains("s3cret"))
    }

    @Test func redactsPasswordsFromMessages() {
        let conninfo = "host=db user=svc password=hunter2 dbname=app"
        #expect(!ConnectionTarget.redact("auth failed for hunter2", connectionString: conninfo).contains("hunter2"))
        let url = "postgresql://svc:hunter2@db:5432/app"
        #expect(!ConnectionTarget.redact("bad uri \(url)", connectionString: "???").contains("hunter2"))
        #expect(!ConnectionTarget.redact("got password=hunter2 here", connectionString: "???").contains("hunter2"))
        #expect(ConnectionTarget.describe(url) == "host=db port=5432 dbname=app user=svc")
    }
}
