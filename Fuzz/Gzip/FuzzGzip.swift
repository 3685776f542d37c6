import FuzzHarnesses

/// libFuzzer entry point for `scripts/fuzz Gzip`; the harness is `FuzzHarnesses.run("Gzip", _:)`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.run("Gzip", Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
