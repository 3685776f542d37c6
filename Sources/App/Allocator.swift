import CLinux

enum Allocator {
    /// glibc raises its mmap threshold each time a large mmapped block is freed, after which large
    /// request bodies and batches come from the heap and are not given back: the ingest benchmark
    /// showed 800 MB resident after a text-heavy minute. A fixed threshold keeps large blocks mmapped
    /// (returned on free) and lets the heap shrink (measured with the same thresholds set through
    /// MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_: peak 346 MB, falling between loads).
    static func returnMemoryEagerly() {
        tm_malloc_return_eagerly(128 * 1024)
    }
}
