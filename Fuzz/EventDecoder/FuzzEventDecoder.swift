import FuzzHarnesses

/// libFuzzer entry point for `scripts/fuzz EventDecoder`; the harness is `FuzzHarnesses.run("EventDecoder", _:)`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarnesses.run("EventDecoder", Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
