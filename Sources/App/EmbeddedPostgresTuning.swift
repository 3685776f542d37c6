/// Server settings for the embedded cluster, sized to the machine it runs on.
///
/// Ingest inserts into b-trees keyed by client-chosen ids (the event-id registry, request ids), so
/// every insert lands on a random leaf page. Once those indexes outgrow `shared_buffers`, each insert
/// evicts a dirty page and reads another back, and Postgres' cost per event doubles as the tables
/// grow (measured: ~40 µs per event empty, ~85 µs at 25M events with 512 MB). A quarter of the
/// memory keeps the hot indexes of tens of millions of events resident, and rare, large checkpoints
/// keep the full-page images written after each checkpoint to a small share of the WAL.
///
/// The settings go to `tokenmeter.conf`, rewritten at every start and included from
/// `postgresql.conf`, so an upgrade or a bigger machine takes effect on the next start while
/// `ALTER SYSTEM` (read after both) still overrides any of them.
struct EmbeddedPostgresTuning: Sendable, Equatable {
    static let fileName = "tokenmeter.conf"
    static let includeLine = "include_if_exists = '\(fileName)'"

    let sharedBuffersMB: UInt64
    let effectiveCacheSizeMB: UInt64
    let maxWalSizeMB: UInt64

    init(physicalMemoryBytes: UInt64) {
        let memoryMB = physicalMemoryBytes / (1 << 20)
        sharedBuffersMB = min(max(memoryMB / 4, 128), 8192)
        effectiveCacheSizeMB = max(memoryMB * 3 / 4, sharedBuffersMB)
        // WAL between checkpoints: bounded by the disk it shares with the data, not by memory.
        maxWalSizeMB = 8192
    }

    var configuration: String {
        """
        # Written by Tokenmeter at every start of the embedded cluster; edits here are lost.
        # Override a setting with ALTER SYSTEM (postgresql.auto.conf is read after this file).
        listen_addresses = ''
        max_connections = 100
        shared_buffers = \(sharedBuffersMB)MB
        effective_cache_size = \(effectiveCacheSizeMB)MB
        maintenance_work_mem = 256MB
        max_wal_size = \(maxWalSizeMB)MB
        checkpoint_timeout = 30min
        checkpoint_completion_target = 0.9
        # every index page touched after a checkpoint is logged whole once; lz4 compresses those
        # page images at a fraction of pglz's CPU
        wal_compression = lz4
        jit = off
        synchronous_commit = on
        timezone = 'UTC'

        """
    }

    /// `postgresql.conf` with the include appended unless it is already there (clusters created before
    /// the include existed carry their settings inline; the include comes after them and wins).
    static func includingTuning(_ postgresqlConf: String) -> String? {
        if postgresqlConf.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == includeLine }) {
            return nil
        }
        let separator = postgresqlConf.hasSuffix("\n") || postgresqlConf.isEmpty ? "" : "\n"
        return postgresqlConf + separator + "\n# Tokenmeter's settings for this machine (rewritten at every start)\n" + includeLine + "\n"
    }
}
