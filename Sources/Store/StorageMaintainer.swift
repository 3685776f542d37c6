import Foundation
import Postgres
import TokenmeterCore

/// How long stored data lives, in days.
public struct RetentionPolicy: Sendable, Equatable {
    /// Raw events, their texts and their ids in the dedup registry (whole day partitions).
    public var rawDays = 30
    /// Rollup and sketch rows (whole UTC days); at least `rawDays`, so every range raw events still
    /// answer is also in the rollups.
    public var rollupDays = 400
    /// Daily partitions kept ready after today.
    public var partitionsAheadDays = 7

    public init(rawDays: Int = 30, rollupDays: Int = 400, partitionsAheadDays: Int = 7) {
        self.rawDays = rawDays
        self.rollupDays = rollupDays
        self.partitionsAheadDays = partitionsAheadDays
    }
}

/// Background storage work for the time-partitioned `events` (migration 0011): creates the daily
/// partitions ahead, drops those past the raw retention together with their ids and texts, applies
/// shorter per-project raw retention and the rollup retention, in bounded batches.
///
/// One session at a time works (a session advisory lock), so several Tokenmeter instances on one
/// database do the work once; the others' passes return `ran == false`. Every step is idempotent
/// and commits on its own, so a pass cut short by a crash is finished by the next one.
public final class StorageMaintainer: Sendable {
    let pool: PostgresPool
    let policy: RetentionPolicy
    /// Rows one DELETE statement removes at most: bounds each transaction and its locks.
    let batchSize: Int
    /// Statements of one pass at most; the rest waits for the next pass (reported as backlog).
    let statementsPerPass: Int

    /// Any constant shared by every instance; "tm_part" in ASCII.
    public static let advisoryLockKey: Int64 = 0x746D_5F70_6172_74

    public init(pool: PostgresPool, policy: RetentionPolicy, batchSize: Int = 5_000, statementsPerPass: Int = 200) {
        self.pool = pool
        self.policy = policy
        self.batchSize = batchSize
        self.statementsPerPass = statementsPerPass
    }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// False when another session held the lock and nothing was done.
        public var ran = true
        public var partitionsCreated = 0
        public var partitionsDropped = 0
        /// Raw event rows deleted row by row (default partition, per-project retention).
        public var eventsDeleted = 0
        /// Ids that left the dedup registry (their texts with them).
        public var idsExpired = 0
        public var rollupRowsDeleted = 0
        /// True when the statement budget ran out before everything due was done: run again soon.
        public var backlog = false

        public init(ran: Bool = true) {
            self.ran = ran
        }

        /// Whether the pass created, dropped or deleted anything.
        public var didWork: Bool {
            partitionsCreated + partitionsDropped + eventsDeleted + idsExpired + rollupRowsDeleted > 0
        }
    }

    /// One pass at `now` (injected for tests; the server passes the clock).
    @discardableResult
    public func runOnce(now: Date = Date()) throws -> Pass {
        try storage {
            try pool.withConnection { connection in
                let locked = try connection.query(PostgresQuery(sql: "SELECT pg_try_advisory_lock($1) AS locked", binds: [.int(StorageMaintainer.advisoryLockKey)]))
                guard try locked.rows.first?.decode(Bool.self, column: "locked") == true else { return Pass(ran: false) }
                defer { _ = try? connection.query(PostgresQuery(sql: "SELECT pg_advisory_unlock($1)", binds: [.int(StorageMaintainer.advisoryLockKey)])) }
                var work = Work(connection: connection, budget: statementsPerPass, batchSize: batchSize)
                try ensurePartitions(now: now, &work)
                try expireRawEvents(now: now, &work)
                try applyProjectRetention(now: now, &work)
                try expireRollups(now: now, &work)
                return work.pass
            }
        }
    }

    /// The state of one pass: its connection, what is left of its statement budget, what it did.
    struct Work {
        let connection: PostgresConnection
        var budget: Int
        let batchSize: Int
        var pass = Pass()

        /// Runs `statement` (which deletes at most `batchSize` rows and answers their count as `n`)
        /// until it deletes fewer than a batch or the budget is spent; returns the rows deleted.
        /// Only statements that deleted something spend the budget: a probe that finds nothing is an
        /// index lookup, and must not make an idle pass look like a backlog.
        mutating func deleteInBatches(_ statement: PostgresQuery) throws -> Int {
            var total = 0
            while true {
                guard budget > 0 else {
                    pass.backlog = true
                    return total
                }
                let n = try connection.transaction { tx in
                    try tx.execute(StorageMaintainer.indexJoinsOnly)
                    return try tx.query(statement).rows.first?.decode(Int.self, column: "n") ?? 0
                }
                if n > 0 { budget -= 1 }
                total += n
                if n < batchSize { return total }
            }
        }
    }

    /// A batch joins a few thousand ids against tables of millions of rows (texts, old partitions):
    /// estimating the batch from its LIMIT, the planner would hash-join over a full scan of the big
    /// side on every batch. Index lookups per id are what a bounded batch needs.
    static let indexJoinsOnly = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"

    /// Midnight UTC of the day `date` falls in.
    static func startOfDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    static func days(_ n: Int) -> TimeInterval { TimeInterval(n) * 86_400 }
}
