import Foundation
import Postgres
import Testing

/// The hand-rolled uuid text must be exactly what Postgres prints and Foundation parses.
struct PostgresTextTests {
    @Test func matchesFoundationLowercased() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
            #expect(UUID(uuidString: id.postgresText) == id)
        }
        let edge = UUID(uuid: (0, 0x0f, 0xf0, 0xff, 0x10, 0x01, 0xa5, 0x5a, 0x80, 0x08, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x99))
        #expect(edge.postgresText == "000ff0ff-1001-a55a-8008-deadbeef0099")
    }

    @Test func copiesAndBindsTheSameText() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let id = UUID()
        let echoed = try connection.query(PostgresQuery(sql: "SELECT $1::uuid::text AS t", binds: [id.postgresValue])).rows[0]["t"]
        #expect(echoed == id.postgresText)
    }

    @Test func timestampTextReadsBackToTheMicrosecond() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        let date = Date(timeIntervalSince1970: 1_796_000_000.123456)
        let micros = try connection.query(PostgresQuery(sql: "SELECT (extract(epoch FROM $1::timestamptz) * 1000000)::bigint AS m",
                                                        binds: [.text(date.postgresText)])).rows[0]["m"]
        #expect(micros == "1796000000123456")
    }
}
