import FuzzHarnesses

/// libFuzzer entry point for `scripts/fuzz HTTPParser`; the harness is `FuzzHarnesses.run("HTTPParser", _:)`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.run("HTTPParser", Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
