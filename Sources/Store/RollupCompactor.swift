import Foundation
import Postgres
import TokenmeterCore

/// Moves the pending rows that ingest writes (per-user rollups and latency sketches, one array row
/// per batch; see `PendingRollup` and migration 0004) into the keyed folded tables at every level.
///
/// A fold is one statement: DELETE pending rows RETURNING them, and upsert their cells. Readers see
/// the views over folded UNION ALL pending rows, so within any snapshot each event counts once.
/// Rows that ingest commits after the statement's snapshot wait for the next pass. Only one session
/// folds at a time (a transaction-level advisory lock), so several Tokenmeter instances on one
/// database never contend on the folded rows.
public final class RollupCompactor: Sendable {
    private let pool: PostgresPool
    /// Pending rows moved per statement (each holds one ingest batch's cells): bounds one transaction.
    private let rowsPerPass: Int

    /// Any constant shared by every instance; "tm_roll" in ASCII.
    static let advisoryLockKey: Int64 = 0x746D_5F72_6F6C_6C

    public init(pool: PostgresPool, rowsPerPass: Int = 500) {
        self.pool = pool
        self.rowsPerPass = rowsPerPass
    }

    static let foldSQLs = PendingRollup.all.map { ($0.pendingTable, $0.foldSQL) }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// Pending rows moved into the folded tables.
        public var movedRows = 0
        /// True when some family had more pending rows than one statement takes: run again soon.
        public var backlog = false
        /// False when another session held the lock and nothing was done.
        public var ran = true
    }

    /// One pass over every delta table.
    @discardableResult
    public func compactOnce() throws -> Pass {
        try storage {
            try pool.withConnection { connection in
                try connection.transaction { tx in
                    let locked = try tx.query(PostgresQuery(sql: "SELECT pg_try_advisory_xact_lock($1) AS locked",
                                                            binds: [.int(RollupCompactor.advisoryLockKey)]))
                    guard try locked.rows.first?.decode(Bool.self, column: "locked") == true else { return Pass(ran: false) }
                    // One session folds at a time; its grouping of ~a million cells fits in memory.
                    try tx.execute("SET LOCAL work_mem = '64MB'")
                    var pass = Pass()
                    for (_, sql) in RollupCompactor.foldSQLs {
                        let result = try tx.query(PostgresQuery(sql: sql, binds: [.int(Int64(rowsPerPass))]))
                        let moved = try result.rows.first?.decode(Int.self, column: "moved") ?? 0
                        pass.movedRows += moved
                        if moved >= rowsPerPass { pass.backlog = true }
                    }
                    return pass
                }
            }
        }
    }
}
