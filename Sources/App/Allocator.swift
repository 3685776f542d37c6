import CLinux

enum Allocator {
    /// Measured with the ingest benchmark's text-heavy loads (bench/ingest --quick):
    /// - glibc raises its mmap threshold each time a large mmapped block is freed, after which large
    ///   request bodies and batches come from the heap and are not given back: 800 MB resident. A
    ///   fixed 128 KiB threshold keeps them mmapped (returned on free): 346–409 MB.
    /// - glibc also gives each busy thread its own arena (up to 8 per core), each holding on to its
    ///   peak; two arenas for the ~10 threads brought the peak to 248 MB.
    static func returnMemoryEagerly() {
        tm_malloc_return_eagerly(128 * 1024, 2)
    }

    /// Freed memory between live blocks stays resident until trimmed: batches of text-heavy events
    /// leave the heaps full of such holes (the full ingest benchmark peaked at 522 MB without it).
    static func trim() {
        tm_malloc_trim()
    }
}
