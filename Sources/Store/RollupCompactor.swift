import Dispatch
import Foundation
import Postgres
import Synchronization
import TokenmeterCore

/// Moves the pending rows that ingest writes (per-user rollups and latency sketches, one array row
/// per batch; see `PendingRollup` and migration 0004) into the keyed folded tables at every level.
///
/// A fold is one statement per family: DELETE pending rows RETURNING them, and upsert their cells.
/// Readers see the views over folded UNION ALL pending rows, so within any snapshot each event counts
/// once. Rows that ingest commits after the statement's snapshot wait for the next pass.
///
/// The three families (usage, per-user, sketches) write disjoint tables, so they fold side by side
/// on as many connections as the pool has free: a back-fill leaves every event its own cells (old
/// minutes, one batch each), and one session folded them at ~210 µs of a core per event, far behind
/// ingest. Each family is folded by one session at a time (an exclusive transaction-level advisory
/// lock per family), so several Tokenmeter instances on one database never contend on its folded
/// rows; every fold also holds the shared `advisoryLockKey`, which a migration that rebuilds folded
/// tables takes exclusively to keep folds out while it runs.
public final class RollupCompactor: Sendable {
    private let pool: PostgresPool
    /// Pending rows moved per statement (each holds one ingest batch's cells): bounds one transaction.
    private let rowsPerPass: Int
    /// When the passes began to leave a backlog (nil while they keep up). Once a backlog has lasted
    /// `sideBySideAfter`, passes fold the families side by side. Live traffic leaves a backlog of a
    /// few passes now and then (every pending row of the last interval), cleared in seconds; folding
    /// it on three connections took both cores from ingest at once, which then waited (ack p99).
    private let backlogSince = Mutex<ContinuousClock.Instant?>(nil)
    private let sideBySideAfter: Duration

    /// Any constant shared by every instance; "tm_roll" in ASCII. Migrations take it exclusively.
    static let advisoryLockKey: Int64 = 0x746D_5F72_6F6C_6C

    /// The exclusive lock of one family's fold.
    static func familyLockKey(_ family: Int) -> Int64 { advisoryLockKey + 1 + Int64(family) }

    public init(pool: PostgresPool, rowsPerPass: Int = 500, sideBySideAfter: Duration = .seconds(30)) {
        self.pool = pool
        self.rowsPerPass = rowsPerPass
        self.sideBySideAfter = sideBySideAfter
    }

    static let foldSQLs = PendingRollup.all.map { ($0.pendingTable, $0.foldSQL) }

    /// The families folded side by side: a pool of this many connections folds them all at once.
    public static var familyCount: Int { foldSQLs.count }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// Pending rows moved into the folded tables.
        public var movedRows = 0
        /// True when some family had more pending rows than one statement takes: run again soon.
        public var backlog = false
        /// False when other sessions held every family's lock and nothing was done.
        public var ran = false
    }

    /// One pass over every family: the first connection folds families one after another and, once
    /// a backlog has lasted `sideBySideAfter`, each further connection that is free right now takes
    /// the next family not yet started.
    @discardableResult
    public func compactOnce() throws -> Pass {
        let run = PassRun(families: RollupCompactor.familyCount, rowsPerPass: rowsPerPass)
        let now = ContinuousClock.now
        let sideBySide = backlogSince.withLock { since in since.map { now - $0 >= sideBySideAfter } ?? false }
        let helperCount = sideBySide ? run.families - 1 : 0
        let pass = try storage {
            try pool.withConnection { first in
                let helpers = DispatchGroup()
                for _ in 0..<helperCount {
                    DispatchQueue.global().async(group: helpers) {
                        // Only a connection free right now: waiting for one while the first is held could
                        // deadlock a pool of one (tests, small deployments). Without one, the first folds all.
                        do { _ = try self.pool.withConnectionIfFree { self.work(run, on: $0) } } catch { run.record(error) }
                    }
                }
                work(run, on: first)
                helpers.wait()
            }
            return try run.result()
        }
        backlogSince.withLock { since in since = pass.backlog ? (since ?? now) : nil }
        return pass
    }

    /// Folds the families not yet taken, one at a time, until none is left.
    private func work(_ run: PassRun, on connection: PostgresConnection) {
        while let family = run.take() {
            do { run.record(moved: try fold(family, on: connection)) } catch { run.record(error) }
        }
    }

    /// Folds up to `rowsPerPass` pending rows of one family; nil when another session holds its lock
    /// or a migration holds the shared one.
    private func fold(_ family: Int, on connection: PostgresConnection) throws -> Int? {
        try connection.transaction { tx in
            let locked = try tx.query(PostgresQuery(
                sql: "SELECT pg_try_advisory_xact_lock_shared($1) AND pg_try_advisory_xact_lock($2) AS locked",
                binds: [.int(RollupCompactor.advisoryLockKey), .int(RollupCompactor.familyLockKey(family))]))
            guard try locked.rows.first?.decode(Bool.self, column: "locked") == true else { return nil }
            // One session per family folds at a time; its grouping of ~a million cells fits in memory.
            try tx.execute("SET LOCAL work_mem = '64MB'")
            let result = try tx.query(PostgresQuery(sql: RollupCompactor.foldSQLs[family].1, binds: [.int(Int64(rowsPerPass))]))
            return try result.rows.first?.decode(Int.self, column: "moved") ?? 0
        }
    }
}

/// The families of one pass still to fold, and what the folds did, shared by its connections.
private final class PassRun: Sendable {
    let families: Int
    let rowsPerPass: Int
    private let next = Atomic<Int>(0)
    private let outcome = Mutex<(pass: RollupCompactor.Pass, error: (any Error)?)>((RollupCompactor.Pass(), nil))

    init(families: Int, rowsPerPass: Int) {
        self.families = families
        self.rowsPerPass = rowsPerPass
    }

    func take() -> Int? {
        let family = next.add(1, ordering: .relaxed).oldValue
        return family < families ? family : nil
    }

    /// `moved` is nil when the family's lock was taken by another session.
    func record(moved: Int?) {
        guard let moved else { return }
        outcome.withLock {
            $0.pass.ran = true
            $0.pass.movedRows += moved
            if moved >= rowsPerPass { $0.pass.backlog = true }
        }
    }

    func record(_ error: any Error) {
        outcome.withLock { if $0.error == nil { $0.error = error } }
    }

    /// The pass, or the first error of any family's fold.
    func result() throws -> RollupCompactor.Pass {
        let (pass, error) = outcome.withLock { $0 }
        if let error { throw error }
        return pass
    }
}
