import FuzzHarnesses

/// libFuzzer entry point for `scripts/fuzz OTLP`; the harness is `FuzzHarnesses.run("OTLP", _:)`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTLP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.run("OTLP", Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
