import CLibPQ
import Foundation
import Synchronization

/// One libpq connection, driven with blocking calls.
///
/// **Threading:** a connection serves one thread at a time. It is `Sendable` so it can be handed
/// from thread to thread (the pool does that), but two threads must never use it at once;
/// if they try, the second call throws `.protocolViolation` instead of corrupting the protocol.
/// Every call blocks its thread until the server answers, so call it from your own threads
/// (or a pool of them), never from Swift's cooperative executor.
public final class PostgresConnection: @unchecked Sendable {
    /// nil once closed. Only touched by the thread that currently owns the connection.
    private var handle: OpaquePointer?
    /// Set while a call is in flight; detects use from two threads at once.
    private let inUse = Atomic<Bool>(false)
    /// Nesting of `transaction` calls; nested ones become savepoints.
    private var transactionDepth = 0

    /// The server process id serving this connection (as in `pg_stat_activity.pid`).
    public let backendPID: Int32

    /// Names of what the owner has set up in this server session (temporary tables, prepared
    /// statements), so it is done once per session. Empty on every new connection, including the
    /// one a pool opens after the server restarted. Touched only by the thread owning the connection.
    public var sessionSetUp: Set<String> = []

    /// Statements prepared in this session (`queryPrepared`), by SQL text and parameter types, least
    /// recently used first. Only touched by the thread that currently owns the connection.
    private var prepared: [(key: String, name: String)] = []
    private var preparedCount = 0
    /// Prepared statements kept per session; the least recently used one is deallocated beyond it.
    public static let preparedLimit = 64

    /// Opens a connection with `application_name=tokenmeter`.
    ///
    /// - Parameter connectionString: a libpq conninfo (`host=/run/pg dbname=x user=y`) or a URL
    ///   (`postgresql://user@host:5432/db`). A `connect_timeout` of 10 s applies unless it sets one.
    public convenience init(connectionString: String) throws {
        try self.init(connectionString: connectionString, applicationName: "tokenmeter")
    }

    /// Opens a connection. `applicationName` overrides any `application_name` in the string;
    /// `client_encoding` is always UTF8; `connectTimeout` (seconds, libpq's minimum is 2) applies
    /// unless the string sets `connect_timeout`.
    public init(connectionString: String, applicationName: String, connectTimeout: Int = 10) throws {
        // Entries before "dbname" can be overridden by the expanded connection string,
        // entries after it override the string (libpq PQconnectdbParams semantics).
        let keywords = ["connect_timeout", "dbname", "application_name", "client_encoding"]
        let values = [String(connectTimeout), connectionString, applicationName, "UTF8"]
        let connection = CStringArray(keywords).withPointers { keys in
            CStringArray(values).withPointers { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let connection else {
            throw PostgresError.connectionFailed("libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.errorMessage(connection)
            PQfinish(connection)
            throw PostgresError.connectionFailed(ConnectionTarget.redact(message, connectionString: connectionString))
        }
        // libpq prints NOTICEs (e.g. "table does not exist, skipping") to stderr by default.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        backendPID = PQbackendPID(connection)
        // Date decoding expects ISO output; it is the server default, but a database or role may override it.
        if let dateStyle = PQparameterStatus(connection, "DateStyle"), !String(cString: dateStyle).hasPrefix("ISO") {
            try execute("SET DateStyle TO ISO")
        }
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection. Later calls throw `.connectionLost`.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether libpq considers the connection usable (`PQstatus == CONNECTION_OK`).
    /// A server that went away is noticed only on the next read; see `probeIsAlive`.
    public var isHealthy: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    // MARK: queries

    /// Runs one statement with its binds (extended protocol, text results).
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresResult {
        try withExclusiveUse { connection in
            let params = try Self.encode(query)
            let result = params.withPointers { types, values, lengths, formats in
                PQexecParams(connection, query.sql, Int32(query.binds.count), types, values, lengths, formats, 0)
            }
            return try Self.take(result, on: connection)
        }
    }

    /// Runs one statement as a prepared statement of this session, preparing it on first use: a
    /// statement that comes back (a dashboard's refresh) is not parsed again, and once Postgres settles
    /// on a generic plan for it, not planned again either (~1 ms for a usage statement of 20 pieces).
    /// For statements whose plan does not depend much on their parameters.
    @discardableResult
    public func queryPrepared(_ query: PostgresQuery) throws -> PostgresResult {
        try withExclusiveUse { connection in
            let params = try Self.encode(query)
            let key = params.types.map(String.init).joined(separator: ",") + ";" + query.sql
            let name: String
            if let index = prepared.firstIndex(where: { $0.key == key }) {
                name = prepared[index].name
                prepared.append(prepared.remove(at: index))
            } else {
                if prepared.count >= Self.preparedLimit {
                    let oldest = prepared.removeFirst()
                    _ = try Self.take(PQexec(connection, "DEALLOCATE \(oldest.name)"), on: connection)
                }
                preparedCount += 1
                name = "tm_prepared_\(preparedCount)"
                let result = params.withPointers { types, _, _, _ in
                    PQprepare(connection, name, query.sql, Int32(query.binds.count), types)
                }
                _ = try Self.take(result, on: connection)
                prepared.append((key, name))
            }
            let result = params.withPointers { _, values, lengths, formats in
                PQexecPrepared(connection, name, Int32(query.binds.count), values, lengths, formats, 0)
            }
            return try Self.take(result, on: connection)
        }
    }

    private static func encode(_ query: PostgresQuery) throws -> EncodedParameters {
        if query.sql.utf8.contains(0) {
            throw PostgresError.protocolViolation("the SQL text contains a NUL byte")
        }
        return try EncodedParameters(query.binds)
    }

    /// Runs SQL with the simple protocol: no binds, may hold several statements (migrations).
    /// The statements run in one implicit transaction unless the text has its own BEGIN/COMMIT.
    /// Returns the result of the last statement.
    @discardableResult
    public func execute(_ sql: String) throws -> PostgresResult {
        try withExclusiveUse { connection in
            try Self.take(PQexec(connection, sql), on: connection)
        }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (then rethrows).
    /// Nested calls use savepoints. If a statement failed inside `body` and `body` swallowed the
    /// error, committing is impossible: the transaction is rolled back and 25P02 is thrown.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "tokenmeter_savepoint_\(depth)"
        try execute(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)")
        transactionDepth += 1
        do {
            let value = try body(self)
            transactionDepth = depth
            if depth == 0 {
                if transactionStatus == PQTRANS_INERROR {
                    throw PostgresError.server(
                        sqlState: "25P02",
                        message: "a statement in the transaction failed; it was rolled back instead of committed",
                        detail: nil)
                }
                try execute("COMMIT")
            } else {
                try execute("RELEASE SAVEPOINT \(savepoint)")
            }
            return value
        } catch {
            transactionDepth = depth
            if isHealthy {
                _ = try? execute(depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
            }
            throw error
        }
    }

    // MARK: COPY

    /// Streams rows into `COPY ... FROM STDIN` (text format). `produce` writes rows into the
    /// writer, which sends them in ~256 KB chunks. Returns the number of rows the server copied.
    ///
    /// If `produce` throws, the COPY is aborted (nothing is copied) and its error is rethrown.
    /// If the server rejects the data, `.server` is thrown. Either way the connection stays
    /// usable, unless the connection itself died (`.connectionLost`).
    public func copyIn(_ copySQL: String, _ produce: (inout CopyWriter) throws -> Void) throws -> Int {
        try withExclusiveUse { connection in
            guard let start = PQexec(connection, copySQL) else {
                throw Self.lostOrViolation(connection, "COPY did not start")
            }
            guard PQresultStatus(start) == PGRES_COPY_IN else {
                _ = try Self.take(start, on: connection)  // throws the server error, or drains COPY OUT
                throw PostgresError.protocolViolation("copyIn needs a COPY ... FROM STDIN statement")
            }
            PQclear(start)

            var writer = CopyWriter(connection: connection)
            var produceError: (any Error)?
            do {
                try produce(&writer)
                writer.flush()
            } catch {
                produceError = error
            }
            let abortMessage: String? = produceError != nil
                ? "COPY aborted by the client" : (writer.sendFailure != nil ? "COPY aborted: send failed" : nil)
            _ = PQputCopyEnd(connection, abortMessage)

            // Drain every result so the connection is ready for the next command.
            var copied = 0
            var serverError: PostgresError?
            while let result = PQgetResult(connection) {
                let status = PQresultStatus(result)
                if status == PGRES_COMMAND_OK {
                    copied = Int(String(cString: PQcmdTuples(result))) ?? 0
                } else if status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE {
                    serverError = Self.error(from: result, on: connection)
                }
                PQclear(result)
                if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                    // libpq could not leave COPY mode; the connection is no longer usable.
                    throw Self.lostOrViolation(connection, "COPY did not end cleanly")
                }
            }
            if let produceError { throw produceError }
            if PQstatus(connection) != CONNECTION_OK {
                throw PostgresError.connectionLost(Self.errorMessage(connection))
            }
            if let sendFailure = writer.sendFailure, serverError == nil {
                throw PostgresError.connectionLost(sendFailure)
            }
            if let serverError { throw serverError }
            return copied
        }
    }

    /// Whether a transaction is open on this connection (possibly failed, awaiting ROLLBACK).
    public var isInTransaction: Bool {
        let status = transactionStatus
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    // MARK: internals

    var transactionStatus: PGTransactionStatusType {
        guard let handle else { return PQTRANS_UNKNOWN }
        return PQtransactionStatus(handle)
    }

    /// A non-blocking liveness check for a connection that sat idle: reads whatever the server
    /// sent meanwhile (a FATAL message and EOF after a restart or `pg_terminate_backend`), so a
    /// dead connection is noticed before a query is sent on it. Best effort: a server that died
    /// a moment ago may still look alive.
    func probeIsAlive() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // A dead backend leaves its FATAL message and then EOF; one read may return only the
        // message, so keep reading while the socket is readable (bounded, never blocking).
        for _ in 0..<8 {
            var pfd = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 0) > 0 else { break }
            if PQconsumeInput(handle) == 0 { return false }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Makes an idle connection fit for the next user: rolls back a transaction left open.
    /// Returns false when it should be discarded instead.
    func resetForReuse() -> Bool {
        guard isHealthy else { return false }
        transactionDepth = 0
        switch transactionStatus {
        case PQTRANS_IDLE:
            return true
        case PQTRANS_INTRANS, PQTRANS_INERROR:
            return (try? execute("ROLLBACK")) != nil && transactionStatus == PQTRANS_IDLE
        default:
            return false
        }
    }

    private func withExclusiveUse<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw PostgresError.protocolViolation(
                "PostgresConnection used by two callers at once; a connection serves one thread at a time")
        }
        defer { inUse.store(false, ordering: .releasing) }
        guard let handle else { throw PostgresError.connectionLost("the connection is closed") }
        return try body(handle)
    }

    /// Turns a finished PGresult into a PostgresResult or an error, and frees it.
    private static func take(_ result: OpaquePointer?, on connection: OpaquePointer) throws -> PostgresResult {
        guard let result else { throw lostOrViolation(connection, "no result") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return makeResult(result)
        case PGRES_COPY_IN:
            _ = PQputCopyEnd(connection, "COPY FROM STDIN is only supported through copyIn")
            drain(connection)
            throw PostgresError.protocolViolation("COPY FROM STDIN must be run with copyIn")
        case PGRES_COPY_OUT:
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(connection, &buffer, 0) > 0 { PQfreemem(buffer) }
            drain(connection)
            throw PostgresError.protocolViolation("COPY TO STDOUT is not supported")
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw error(from: result, on: connection)
        default:
            throw PostgresError.protocolViolation("unexpected result status \(String(cString: PQresStatus(status)))")
        }
    }

    private static func drain(_ connection: OpaquePointer) {
        var guardCount = 0
        while let result = PQgetResult(connection), guardCount < 1000 {
            PQclear(result)
            guardCount += 1
        }
    }

    private static func makeResult(_ result: OpaquePointer) -> PostgresResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(
                        start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        let cells = PostgresCells(columns: columns, values: values)
        let rows = (0..<rowCount).map { PostgresRow(cells: cells, row: $0) }
        return PostgresResult(
            columns: columns, rows: rows,
            affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0,
            commandTag: String(cString: PQcmdStatus(result)))
    }

    static func error(from result: OpaquePointer, on connection: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        if PQstatus(connection) != CONNECTION_OK {
            return .connectionLost(trimmed(String(cString: PQresultErrorMessage(result))))
        }
        guard let sqlState = field("C") else {
            return .protocolViolation(trimmed(String(cString: PQresultErrorMessage(result))))
        }
        return .server(sqlState: sqlState, message: field("M") ?? "", detail: field("D"))
    }

    private static func lostOrViolation(_ connection: OpaquePointer, _ what: String) -> PostgresError {
        if PQstatus(connection) != CONNECTION_OK {
            return .connectionLost(errorMessage(connection))
        }
        return .protocolViolation("\(what): \(errorMessage(connection))")
    }

    static func errorMessage(_ connection: OpaquePointer) -> String {
        trimmed(String(cString: PQerrorMessage(connection)))
    }

    private static func trimmed(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Bind values laid out for PQexecParams: one byte buffer and parallel arrays.
private struct EncodedParameters {
    var storage: [UInt8] = []
    var offsets: [Int?] = []
    var types: [Oid] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []

    init(_ binds: [PostgresValue]) throws {
        for (i, bind) in binds.enumerated() {
            let wire = bind.wireForm
            types.append(wire.oid)
            formats.append(wire.format)
            guard let bytes = wire.bytes else {
                offsets.append(nil)
                lengths.append(0)
                continue
            }
            if wire.format == 0 && bytes.contains(0) {
                // libpq sends text parameters as C strings: a NUL would silently truncate the value.
                throw PostgresError.server(
                    sqlState: "22021",
                    message: "parameter $\(i + 1) contains a NUL byte, which Postgres text cannot store (checked client-side)",
                    detail: nil)
            }
            offsets.append(storage.count)
            lengths.append(Int32(bytes.count))
            storage.append(contentsOf: bytes)
            if wire.format == 0 { storage.append(0) }
        }
        storage.append(0)  // never empty, so the buffer has a base address
    }

    func withPointers<R>(
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) -> R {
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { base.advanced(by: $0).assumingMemoryBound(to: CChar.self) }
            }
            return types.withUnsafeBufferPointer { types in
                values.withUnsafeBufferPointer { values in
                    lengths.withUnsafeBufferPointer { lengths in
                        formats.withUnsafeBufferPointer { formats in
                            body(types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }
}

/// A NULL-terminated array of C strings that lives for the duration of `withPointers`.
struct CStringArray {
    let strings: [String]
    init(_ strings: [String]) { self.strings = strings }

    func withPointers<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let duplicated = strings.map { strdup($0) }
        defer { duplicated.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = duplicated.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
