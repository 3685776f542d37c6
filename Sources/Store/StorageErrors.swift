import Postgres
import TokenmeterCore

extension StorageError {
    /// Transient database trouble (down, restarting, overloaded, connection lost) becomes
    /// `unavailable`, which callers answer with 503 + Retry-After; anything else is a `failed`.
    init(_ error: any Error) {
        if let pg = error as? PostgresError {
            self = pg.isRetryable ? .unavailable(pg.description) : .failed(pg.description)
        } else if let storage = error as? StorageError {
            self = storage
        } else {
            self = .failed(String(describing: error))
        }
    }
}

/// Runs `body` and translates whatever it throws into a `StorageError`.
func storage<T>(_ body: () throws -> T) throws(StorageError) -> T {
    do { return try body() } catch { throw StorageError(error) }
}
