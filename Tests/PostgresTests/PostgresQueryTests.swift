import Foundation
import Testing

@testable import Postgres

struct PostgresQueryTests {
    @Test func interpolatedValuesBecomeNumberedBinds() {
        let name = "Robert'); DROP TABLE students;--"
        let limit = 10
        let missing: String? = nil
        let query: PostgresQuery = "SELECT * FROM t WHERE a = \(name) AND b = \(limit) AND c IS NOT DISTINCT FROM \(missing)"
        #expect(query.sql == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c IS NOT DISTINCT FROM $3")
        #expect(query.binds == [.text(name), .int(10), .null])
    }

    @Test func unsafeRawIsSplicedVerbatimAndTakesNoNumber() {
        let column = "created_at"
        let query: PostgresQuery = "SELECT \(1) FROM t ORDER BY \(unsafeRaw: column) DESC LIMIT \(5)"
        #expect(query.sql == "SELECT $1 FROM t ORDER BY created_at DESC LIMIT $2")
        #expect(query.binds == [.int(1), .int(5)])
    }

    @Test func plainLiteralHasNoBinds() {
        let query: PostgresQuery = "SELECT 1"
        #expect(query.sql == "SELECT 1")
        #expect(query.binds.isEmpty)
    }

    @Test func appendRenumbersPlaceholders() {
        var query: PostgresQuery = "SELECT count(*) FROM events WHERE project = \(7)"
        query.append(" AND model = \(Optional("gpt")) AND tag = ANY(\(["a", "b"]))")
        #expect(query.sql == "SELECT count(*) FROM events WHERE project = $1 AND model = $2 AND tag = ANY($3)")
        #expect(query.binds == [.int(7), .text("gpt"), .textArray(["a", "b"])])
    }

    @Test(arguments: [
        ("x = $1", "x = $3"),
        ("'$1' || $1", "'$1' || $3"),
        ("\"col$1\" = $1", "\"col$1\" = $3"),
        ("E'it\\'s $1' = $1", "E'it\\'s $1' = $3"),
        ("'it''s $1' = $1", "'it''s $1' = $3"),
        ("-- $1\n$1", "-- $1\n$3"),
        ("/* $1 /* $2 */ */ $1", "/* $1 /* $2 */ */ $3"),
        ("$$ $1 $$ || $tag$ $1 $tag$ || $1", "$$ $1 $$ || $tag$ $1 $tag$ || $3"),
        ("a$1 + $10", "a$1 + $12"),
    ])
    func placeholderShiftSkipsLiteralsAndComments(input: String, expected: String) {
        #expect(SQLPlaceholders.shift(input, by: 2) == expected)
    }

    @Test func descriptionNamesKindsButHidesValues() {
        let secret = "sk-live-123"
        let query: PostgresQuery = "INSERT INTO keys VALUES (\(secret), \(42), \(nil as Int?))"
        #expect(!query.description.contains(secret))
        #expect(!query.description.contains("42"))
        #expect(query.description.contains("<text>"))
        #expect(query.description.contains("NULL"))
    }

    @Test func arrayLiteralQuotesEveryElement() {
        #expect(PostgresText.arrayLiteral([]) == "{}")
        #expect(PostgresText.arrayLiteral(["a", "", "NULL", "x\"y\\z", "a,b{}"]) == #"{"a","","NULL","x\"y\\z","a,b{}"}"#)
    }

    @Test func arrayParserHandlesQuotesNullsAndBounds() {
        #expect(PostgresText.parseArray("{}")! == [])
        #expect(PostgresText.parseArray(#"{a,"b c",NULL,"NULL","q\"\\"}"#)! == ["a", "b c", nil, "NULL", "q\"\\"])
        #expect(PostgresText.parseArray("[0:1]={x,y}")! == ["x", "y"])
        #expect(PostgresText.parseArray("{{1,2},{3,4}}") == nil)
        #expect(PostgresText.parseArray("not an array") == nil)
    }

    @Test func byteaParsesHexAndEscapeFormats() {
        #expect(PostgresText.parseBytea("\\x00ff10")! == [0, 255, 16])
        #expect(PostgresText.parseBytea("a\\\\b\\000\\377")! == [97, 92, 98, 0, 255])
        #expect(PostgresText.parseBytea("\\x0") == nil)
        #expect(PostgresText.byteaHex([0, 171, 255]) == "\\x00abff")
    }
}
