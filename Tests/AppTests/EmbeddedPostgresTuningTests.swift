import Testing
@testable import App

@Suite struct EmbeddedPostgresTuningTests {
    @Test func sharedBuffersTakeAQuarterOfMemoryWithinBounds() {
        let gib: UInt64 = 1 << 30
        #expect(EmbeddedPostgresTuning(physicalMemoryBytes: 24 * gib).sharedBuffersMB == 6144)
        #expect(EmbeddedPostgresTuning(physicalMemoryBytes: 24 * gib).effectiveCacheSizeMB == 18432)
        #expect(EmbeddedPostgresTuning(physicalMemoryBytes: 256 * gib).sharedBuffersMB == 8192)
        #expect(EmbeddedPostgresTuning(physicalMemoryBytes: 256 * (1 << 20)).sharedBuffersMB == 128)
        #expect(EmbeddedPostgresTuning(physicalMemoryBytes: 2 * gib).configuration.contains("shared_buffers = 512MB\n"))
    }

    @Test func includeIsAppendedOnceAfterEarlierSettings() throws {
        let old = "shared_buffers = 128MB\n# Tokenmeter embedded defaults\nshared_buffers = 512MB"
        let updated = try #require(EmbeddedPostgresTuning.includingTuning(old))
        #expect(updated.hasPrefix(old + "\n"))
        #expect(updated.hasSuffix("include_if_exists = 'tokenmeter.conf'\n"))
        #expect(EmbeddedPostgresTuning.includingTuning(updated) == nil)
        #expect(EmbeddedPostgresTuning.includingTuning("")?.hasSuffix("include_if_exists = 'tokenmeter.conf'\n") == true)
    }
}
