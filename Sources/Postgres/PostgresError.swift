/// Everything that can go wrong talking to Postgres.
///
/// `description` is safe to log: it never contains bind values, row values or passwords.
/// Server messages are included only for SQLSTATE classes whose messages describe the
/// statement or the server (syntax, connection, resources, concurrency), never for classes
/// whose messages echo data (22 data exception, 23 integrity violation, P0 raise, ...).
/// The raw `message`/`detail` stay available through the associated values and
/// `debugDescription` for a debug log.
public enum PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// Could not open a connection. The message is libpq's, with any password scrubbed.
    case connectionFailed(String)
    /// The server rejected a statement (an ErrorResponse with a SQLSTATE).
    case server(sqlState: String, message: String, detail: String?)
    /// The connection died mid-query (server restarted, backend terminated, network gone).
    /// The connection is unusable afterwards; retrying on a fresh one is safe for idempotent work.
    case connectionLost(String)
    /// A cell could not be decoded as the requested Swift type. `value` is the raw text (nil for NULL).
    case decode(column: String, type: String, value: String?)
    /// `decode(_:column:)` named a column the result does not have (or an index out of range).
    case columnNotFound(column: String, available: [String])
    /// `PostgresPool.withConnection` found no connection within `acquireTimeout`.
    case poolTimeout
    /// `PostgresPool.withConnection` was called after `close()`.
    case poolClosed
    /// libpq or the server did something this wrapper does not expect, or the API was misused
    /// (for example a connection used from two threads at once).
    case protocolViolation(String)

    /// Whether running the same work again (on a fresh connection) may succeed.
    public var isRetryable: Bool {
        switch self {
        case .connectionLost, .connectionFailed, .poolTimeout:
            return true
        case .server(let sqlState, _, _):
            return Self.isRetryable(sqlState: sqlState)
        case .decode, .columnNotFound, .poolClosed, .protocolViolation:
            return false
        }
    }

    /// The SQLSTATE of a server error, nil for every other case.
    public var sqlState: String? {
        if case .server(let sqlState, _, _) = self { return sqlState }
        return nil
    }

    static func isRetryable(sqlState: String) -> Bool {
        switch sqlState {
        case "57P01", "57P02", "57P03", "40001", "40P01": return true
        default: return sqlState.hasPrefix("08") || sqlState.hasPrefix("53")
        }
    }

    public var description: String {
        switch self {
        case .connectionFailed(let message):
            return "Postgres connection failed: \(message)"
        case .server(let sqlState, let message, _):
            let name = SQLState.conditionName(sqlState).map { " (\($0))" } ?? ""
            if SQLState.messageIsSafeToLog(sqlState), !message.isEmpty {
                return "Postgres error \(sqlState)\(name): \(message)"
            }
            return "Postgres error \(sqlState)\(name)"
        case .connectionLost(let message):
            return "Postgres connection lost: \(message)"
        case .decode(let column, let type, let value):
            return value == nil
                ? "cannot decode column \"\(column)\" as \(type): the value is NULL"
                : "cannot decode column \"\(column)\" as \(type)"
        case .columnNotFound(let column, let available):
            return "no column \"\(column)\" in the result (columns: \(available.joined(separator: ", ")))"
        case .poolTimeout:
            return "no Postgres connection became available in time"
        case .poolClosed:
            return "the Postgres pool is closed"
        case .protocolViolation(let message):
            return "Postgres protocol violation: \(message)"
        }
    }

    /// Everything, including server messages and detail that may contain data. For debug logs only.
    public var debugDescription: String {
        switch self {
        case .server(let sqlState, let message, let detail):
            return "Postgres error \(sqlState): \(message)" + (detail.map { " — \($0)" } ?? "")
        case .decode(let column, let type, let value?):
            return "cannot decode column \"\(column)\" as \(type) from \"\(value)\""
        default:
            return description
        }
    }
}

/// SQLSTATE helpers (https://www.postgresql.org/docs/15/errcodes-appendix.html).
enum SQLState {
    /// Classes whose messages name SQL objects or server conditions but never echo values:
    /// 08 connection, 0A feature not supported, 25 transaction state, 3D/3F catalog/schema,
    /// 40 rollback, 42 syntax/access rule, 53 resources, 54 limits, 55 object state, 57 operator, 58 system.
    static func messageIsSafeToLog(_ sqlState: String) -> Bool {
        let safeClasses: Set<Substring> = ["08", "0A", "25", "3D", "3F", "40", "42", "53", "54", "55", "57", "58"]
        return safeClasses.contains(sqlState.prefix(2))
    }

    static func conditionName(_ sqlState: String) -> String? {
        switch sqlState {
        case "08000": return "connection_exception"
        case "08003": return "connection_does_not_exist"
        case "08006": return "connection_failure"
        case "22001": return "string_data_right_truncation"
        case "22003": return "numeric_value_out_of_range"
        case "22007": return "invalid_datetime_format"
        case "22008": return "datetime_field_overflow"
        case "22012": return "division_by_zero"
        case "22021": return "character_not_in_repertoire"
        case "22P02": return "invalid_text_representation"
        case "22P04": return "bad_copy_file_format"
        case "23502": return "not_null_violation"
        case "23503": return "foreign_key_violation"
        case "23505": return "unique_violation"
        case "23514": return "check_violation"
        case "25P02": return "in_failed_sql_transaction"
        case "40001": return "serialization_failure"
        case "40P01": return "deadlock_detected"
        case "42601": return "syntax_error"
        case "42703": return "undefined_column"
        case "42P01": return "undefined_table"
        case "42883": return "undefined_function"
        case "42804": return "datatype_mismatch"
        case "53300": return "too_many_connections"
        case "57014": return "query_canceled"
        case "57P01": return "admin_shutdown"
        case "57P02": return "crash_shutdown"
        case "57P03": return "cannot_connect_now"
        default: return nil
        }
    }
}
