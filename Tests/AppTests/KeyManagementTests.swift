import Foundation
import Postgres
import Store
import Testing
import TokenmeterCore

/// `tokenmeter keys list|revoke|rotate` and what they do to a running server.
@Suite(.serialized)
struct KeyManagementTests {
    let server: RunningServer

    init() throws { server = try RunningServer() }

    private func withStore<T>(_ body: (PostgresKeyStore) throws -> T) throws -> T {
        let pool = PostgresPool(connectionString: server.connectionString, size: 1)
        defer { pool.close() }
        return try body(PostgresKeyStore(pool: pool))
    }

    private func ingest(key: String) throws -> Int {
        try server.ingest(#"{"request_id":"k-\#(UUID().uuidString)","tokens_in":1}"#, key: key).status
    }

    @Test func listShowsIdsButNeverKeys() throws {
        let records = try withStore { try $0.listKeys(project: "test") }
        #expect(records.count == 2)
        #expect(Set(records.map(\.kind)) == [.ingest, .read])
        let ingest = try #require(records.first { $0.kind == .ingest })
        #expect(ingest.id == String(APIKey.hash(server.ingestKey).prefix(12)))
        #expect(server.ingestKey.hasPrefix(ingest.prefix))
        #expect(ingest.prefix.count < server.ingestKey.count / 2)
        #expect(ingest.revokedAt == nil)
        #expect(try withStore { try $0.listKeys(project: "no such project") }.isEmpty)
    }

    @Test func revokedKeyStopsWorkingOnTheRunningServer() throws {
        #expect(try ingest(key: server.ingestKey) == 200)
        let id = String(APIKey.hash(server.ingestKey).prefix(8))
        let revoked = try withStore { try $0.revokeKey(id: id) }
        #expect(revoked.kind == .ingest)
        #expect(revoked.revokedAt.map { $0 <= Date() } == true)
        #expect(try withStore { try $0.principal(keyHash: APIKey.hash(server.ingestKey)) } == nil)
        // The server caches keys for 5 s; within a few seconds more the key is refused.
        let deadline = Date().addingTimeInterval(15)
        var status = 200
        while status == 200, Date() < deadline {
            status = try ingest(key: server.ingestKey)
            if status == 200 { Thread.sleep(forTimeInterval: 0.5) }
        }
        #expect(status == 401)
        // Revoking again keeps the first end.
        let again = try withStore { try $0.revokeKey(id: id, after: .seconds(3600)) }
        #expect(again.revokedAt == revoked.revokedAt)
    }

    @Test func unknownAmbiguousAndMalformedIds() throws {
        let first = "abcdef" + String(repeating: "0", count: 57) + "1", second = "abcdef" + String(repeating: "0", count: 57) + "2"
        _ = try server.sql("""
            INSERT INTO api_keys (key_hash, project_id, kind, key_prefix)
            SELECT h, id, 'read', p FROM projects, (VALUES ('\(first)', 'tm_read_x'), ('\(second)', 'tm_read_y')) AS v (h, p) WHERE name = 'test'
            """)
        #expect(throws: PostgresKeyStore.KeyManagementError.ambiguous("abcdef", matches: 2)) { try withStore { try $0.revokeKey(id: "abcdef") } }
        #expect(throws: PostgresKeyStore.KeyManagementError.noSuchKey("fedcba")) { try withStore { try $0.revokeKey(id: "fedcba") } }
        // LIKE wildcards are not ids: "%" would otherwise match every key.
        #expect(throws: PostgresKeyStore.KeyManagementError.noSuchKey("%%%%%%")) { try withStore { try $0.revokeKey(id: "%%%%%%") } }
        let one = try withStore { try $0.revokeKey(id: second) }
        #expect(one.prefix == "tm_read_y")
        #expect(try withStore { try $0.listKeys(project: "test") }.filter { $0.revokedAt != nil }.map(\.prefix) == ["tm_read_y"])
    }

    @Test func rotationWithAndWithoutGrace() throws {
        // With a grace period the old key keeps working until it ends.
        let graceful = try withStore { try $0.rotateKeys(project: "test", kind: .ingest, after: .seconds(3600)) }
        #expect(graceful.revoked.count == 1)
        #expect(graceful.revoked[0].isActive(at: Date()))
        #expect(try ingest(key: server.ingestKey) == 200)
        #expect(try ingest(key: graceful.key) == 200)
        // Rotating again at once ends both earlier keys now; only the newest works.
        let immediate = try withStore { try $0.rotateKeys(project: "test", kind: .ingest, after: .zero) }
        #expect(immediate.revoked.count == 2)
        #expect(try ingest(key: immediate.key) == 200)
        for old in [server.ingestKey, graceful.key] {
            #expect(try withStore { try $0.principal(keyHash: APIKey.hash(old)) } == nil)
        }
        // The read key was never touched.
        #expect(try withStore { try $0.principal(keyHash: APIKey.hash(server.readKey)) }?.kind == .read)
        #expect(throws: PostgresKeyStore.KeyManagementError.noSuchProject("absent")) {
            try withStore { try $0.rotateKeys(project: "absent", kind: .read, after: .zero) }
        }
    }

    @Test func commandLine() throws {
        let list = try server.runBinary(["keys", "list", "--project", "test"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first == "id\tproject\tkind\tprefix\tcreated\tstatus")
        #expect(lines.count == 3)
        #expect(!list.stdout.contains(server.ingestKey) && !list.stdout.contains(server.readKey))
        let readID = String(APIKey.hash(server.readKey).prefix(12))
        let revoke = try server.runBinary(["keys", "revoke", readID])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(revoke.stdout.isEmpty)
        #expect(try withStore { try $0.principal(keyHash: APIKey.hash(server.readKey)) } == nil)
        let rotate = try server.runBinary(["keys", "rotate", "--project", "test", "--kind", "read"])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.hasPrefix("tm_read_"))
        #expect(try server.get("/v1/usage", key: rotate.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).status == 200)
        for bad in [["keys", "revoke", "xyz"], ["keys", "revoke"], ["keys", "rotate", "--project", "test"], ["keys", "list", "--kind", "read"],
                    ["keys", "rotate", "--project", "test", "--kind", "read", "--grace-seconds", "-1"]] {
            let result = try server.runBinary(bad)
            #expect(result.status == 2, "\(bad): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(bad)")
        }
        let unknown = try server.runBinary(["keys", "revoke", "fedcba9876"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no key has the id"))
    }
}
