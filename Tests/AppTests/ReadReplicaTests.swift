import Foundation
import JSON
import Testing

/// With `TOKENMETER_DATABASE_READ_URL`, queries are answered from that database while ingest, keys
/// and settings stay on the main one. A second database stands in for the replica: what the answers
/// show proves where they were read.
struct ReadReplicaTests {
    @Test func queriesGoToTheReadDatabase() throws {
        let replica = try RunningServer()
        let body = (0..<3).map { #"{"request_id":"on-replica-\#($0)","timestamp":"2026-11-10T10:00:00Z","feature":"r","tokens_in":7}"# }
        #expect(try replica.ingest("[" + body.joined(separator: ",") + "]").status == 200)

        let server = try RunningServer { $0.databaseReadURL = replica.connectionString }
        #expect(try server.ingest(#"{"request_id":"on-primary","timestamp":"2026-11-10T10:00:00Z","feature":"r","tokens_in":1000}"#).status == 200)
        let response = try server.get("/v1/usage?from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z&feature=r")
        #expect(response.status == 200, "\(response.text)")
        guard case .object(let answer)? = response.json, case .array(let rows)? = answer["rows"], case .object(let row)? = rows.first else {
            Issue.record("no rows: \(response.text)"); return
        }
        #expect(row["calls"] == .number(JSONNumber(3)))
        #expect(row["tokens_in"] == .number(JSONNumber(21)))
        // The event sent to this server was written to the main database.
        let stored = try server.sql("SELECT count(*) AS n FROM events WHERE request_id = 'on-primary'")
        #expect(stored.rows.first?["n"] == "1")
        // The read database's own requests are what /v1/requests/{id} finds.
        #expect(try server.get("/v1/requests/on-replica-0").status == 200)
        #expect(try server.get("/v1/requests/on-primary").status == 404)
    }
}
