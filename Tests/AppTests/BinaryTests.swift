import Foundation
import JSON
import Postgres
@testable import App
import Testing

/// The real `tokenmeter` binary with its embedded Postgres, as a user runs it: first start creates the
/// cluster, project `default` and its keys; `keys create` works beside a running server; SIGTERM exits 0
/// and stops the embedded Postgres.
@Suite(.serialized)
struct BinaryTests {
    /// A port for a server process, below Linux's ephemeral range (32768–60999) so it cannot be the
    /// port an in-process test server was given, and free when checked (bound and released).
    static func freePort() -> Int {
        while true {
            let port = Int.random(in: 20_000...32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if bound == 0 { return port }
        }
    }

    func run(_ binary: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func embeddedServeLifecycle() throws {
        guard let binary = ProcessInfo.processInfo.environment["TOKENMETER_TEST_BINARY"] else {
            throw TestSetupError("TOKENMETER_TEST_BINARY is not set: run through ./scripts/test")
        }
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tm-bin-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        chmod(dataDir, 0o755)
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = BinaryTests.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMETER_DATA_DIR"] = dataDir
        environment["TOKENMETER_PORT"] = String(port)
        environment.removeValue(forKey: "TOKENMETER_DATABASE_URL")

        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve"]
        server.environment = environment
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }

        let client = HTTPClient(port: port)
        var healthy = false
        for _ in 0..<300 {
            if let r = try? client.send(method: "GET", path: "/healthz"), r.status == 200 { healthy = true; break }
            client.close()
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(healthy, "server did not come up")

        let credentials = try String(contentsOfFile: dataDir + "/credentials", encoding: .utf8)
        let attributes = try FileManager.default.attributesOfItem(atPath: dataDir + "/credentials")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        func value(_ name: String) -> String? {
            credentials.split(separator: "\n").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        let ingestKey = try #require(value("TOKENMETER_INGEST_KEY"))
        let readKey = try #require(value("TOKENMETER_READ_KEY"))
        #expect(ingestKey.hasPrefix("tm_ingest_"))

        let ingest = try client.send(method: "POST", path: "/v1/events", headers: ["Authorization": "Bearer \(ingestKey)"],
                                     body: Array(#"{"request_id":"bin-1","feature":"cli","model":"gpt-4o-mini","tokens_in":2000000,"tokens_out":0}"#.utf8))
        #expect(ingest.status == 200, "\(ingest.text)")
        let usage = try client.send(method: "GET", path: "/v1/usage?from=-1h&group_by=feature",
                                    headers: ["Authorization": "Bearer \(readKey)"])
        #expect(usage.status == 200)
        #expect(usage.text.contains("\"cost_usd\":0.3"), "\(usage.text)")

        // The embedded cluster runs with the settings sized for this machine.
        let tuning = EmbeddedPostgresTuning(physicalMemoryBytes: ProcessInfo.processInfo.physicalMemory)
        let postgres = try PostgresConnection(connectionString: "host=\(dataDir)/run user=postgres dbname=tokenmeter")
        let sharedBuffers = try postgres.query("SELECT setting::bigint * 8 / 1024 AS mb FROM pg_settings WHERE name = 'shared_buffers'").rows[0]
        #expect(try sharedBuffers.decode(Int.self, column: "mb") == Int(tuning.sharedBuffersMB))
        postgres.close()

        // keys create beside the running server prints only the key.
        let created = try run(binary, ["keys", "create", "--project", "second", "--kind", "read"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("tm_read_") && created.stdout.split(separator: "\n").count == 1)
        let secondKey = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let isolated = try client.send(method: "GET", path: "/v1/usage?from=-1h", headers: ["Authorization": "Bearer \(secondKey)"])
        #expect(isolated.status == 200)
        #expect(!isolated.text.contains("\"calls\":1"))
        client.close()

        server.terminate()  // SIGTERM
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        let firstOutput = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(firstOutput.contains(ingestKey), "first start prints the keys once")
        // The embedded Postgres was stopped with the server.
        #expect(!FileManager.default.fileExists(atPath: try embeddedDataDirectory(dataDir) + "/postmaster.pid"))

        // keys create with no server running starts and stops the cluster itself.
        let offline = try run(binary, ["keys", "create", "--project", "second", "--kind", "ingest"], environment: environment)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.hasPrefix("tm_ingest_"))
        #expect(!FileManager.default.fileExists(atPath: try embeddedDataDirectory(dataDir) + "/postmaster.pid"))

        let version = try run(binary, ["version"], environment: environment)
        #expect(version.status == 0 && !version.stdout.isEmpty)
        let bad = try run(binary, ["serve", "--port", "99999"], environment: environment)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("TOKENMETER_PORT"))
    }

    @Test func unreachableDatabaseIsAClearStartupError() throws {
        guard let binary = ProcessInfo.processInfo.environment["TOKENMETER_TEST_BINARY"] else {
            throw TestSetupError("TOKENMETER_TEST_BINARY is not set: run through ./scripts/test")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMETER_DATABASE_URL"] = "host=/nonexistent/socket/dir user=postgres dbname=tokenmeter password=hunter2"
        environment["TOKENMETER_DATABASE_WAIT_SECONDS"] = "1"
        environment["TOKENMETER_PORT"] = "0"
        let started = ContinuousClock.now
        let result = try run(binary, ["serve"], environment: environment)
        #expect(result.status == 1)
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(result.stderr.contains("/nonexistent/socket/dir"), "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"), "the password must never be printed")
    }

    private func embeddedDataDirectory(_ dataDir: String) throws -> String { dataDir + "/postgres" }
}
