import CLibPQ
import Foundation

extension PostgresConnection {
    /// Retries connecting until one succeeds or `timeout` passes (for startup, when the database
    /// may still be booting). Throws `.connectionFailed` naming host, port, database and user
    /// (never the password) plus libpq's last message.
    public static func waitUntilReachable(connectionString: String, timeout: Duration) throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var pause = Duration.milliseconds(50)
        var lastMessage = ""
        while true {
            let remaining = clock.now.duration(to: deadline)
            let seconds = max(2, Int((Double(remaining.components.seconds) + 0.999).rounded(.down)))
            do {
                let connection = try PostgresConnection(
                    connectionString: connectionString, applicationName: "tokenmeter", connectTimeout: seconds)
                connection.close()
                return
            } catch let error as PostgresError {
                if case .connectionFailed(let message) = error { lastMessage = message } else { lastMessage = error.description }
            }
            let left = clock.now.duration(to: deadline)
            if left <= .zero {
                throw PostgresError.connectionFailed(
                    "Postgres at \(ConnectionTarget.describe(connectionString)) not reachable within \(timeout): \(lastMessage)")
            }
            let nap = min(pause, left)
            Thread.sleep(forTimeInterval: Double(nap.components.seconds) + Double(nap.components.attoseconds) / 1e18)
            pause = min(pause * 2, .seconds(1))
        }
    }
}

/// Reading a connection string for messages without exposing its password.
enum ConnectionTarget {
    /// `host=/tmp/pg port=5432 dbname=app user=svc`, from the options the string sets.
    static func describe(_ connectionString: String) -> String {
        let options = parse(connectionString)
        guard let options else { return "<unparsable connection string>" }
        let shown = ["host", "hostaddr", "port", "dbname", "user"].compactMap { key in
            options[key].map { "\(key)=\($0)" }
        }
        return shown.isEmpty ? "the libpq default host" : shown.joined(separator: " ")
    }

    /// Removes the password from a libpq message: the parsed password itself, `password=...`
    /// and the `:secret@` of URLs, should libpq ever echo the connection string.
    static func redact(_ message: String, connectionString: String) -> String {
        var result = message
        if let password = parse(connectionString)?["password"], !password.isEmpty {
            result = result.replacingOccurrences(of: password, with: "***")
        }
        result = result.replacingOccurrences(
            of: #"password\s*=\s*('(\\.|[^'])*'|\S+)"#, with: "password=***", options: .regularExpression)
        result = result.replacingOccurrences(
            of: #"(://[^:/@\s]*):[^@\s]*@"#, with: "$1:***@", options: .regularExpression)
        return result
    }

    /// The options a conninfo string or URL sets (libpq's own parser).
    static func parse(_ connectionString: String) -> [String: String]? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                result[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        return result
    }
}
