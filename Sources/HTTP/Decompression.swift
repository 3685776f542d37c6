import CZlib
import Glibc

/// Why a body could not be decoded.
public enum DecompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A content coding other than gzip, x-gzip, deflate or identity.
    case unsupportedEncoding(String)
    /// Truncated or corrupt compressed data.
    case corrupt(String)
    /// The decoded output would exceed the limit; decoding stopped there.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .unsupportedEncoding(let coding): "unsupported content coding '\(coding)'"
        case .corrupt(let reason): "corrupt compressed body: \(reason)"
        case .tooLarge(let limit): "decompressed body exceeds \(limit) bytes"
        }
    }
}

/// The content codings of a `Content-Encoding` value, in the order they were applied, lowercased,
/// without `identity`. Throws `DecompressionError.unsupportedEncoding` for anything else than gzip/deflate.
public func contentCodings(_ encoding: String) throws(DecompressionError) -> [String] {
    var codings: [String] = []
    for element in encoding.utf8.split(separator: UInt8(ascii: ",")) {
        let coding = String(decoding: trimOWS(element), as: UTF8.self).lowercased()
        switch coding {
        case "", "identity": continue
        case "gzip", "x-gzip", "deflate": codings.append(coding)
        default: throw .unsupportedEncoding(coding)
        }
    }
    return codings
}

/// Decodes `bytes` per a `Content-Encoding` value (`gzip`, `x-gzip`, `deflate` — zlib-wrapped or raw —,
/// `identity`, or a comma-separated list of those). Stops as soon as the output would pass `limit` bytes,
/// so a compression bomb costs at most `limit` bytes of memory.
///
/// - Throws: `DecompressionError`.
public func decompress(_ bytes: [UInt8], encoding: String, limit: Int) throws -> [UInt8] {
    var data = bytes
    for coding in try contentCodings(encoding).reversed() {
        data = try inflate(data, gzip: coding != "deflate", limit: limit)
    }
    if data.count > limit { throw DecompressionError.tooLarge(limit: limit) }
    return data
}

private func inflate(_ input: [UInt8], gzip: Bool, limit: Int) throws(DecompressionError) -> [UInt8] {
    guard !input.isEmpty else { throw .corrupt("empty input") }
    let windowBits: Int32
    if gzip {
        windowBits = 16 + MAX_WBITS
    } else {
        // RFC 9110 "deflate" is zlib-wrapped; some clients send raw deflate. A zlib header is recognisable.
        let looksLikeZlib = input.count >= 2 && input[0] & 0x0F == 8 && (UInt16(input[0]) << 8 | UInt16(input[1])) % 31 == 0
        windowBits = looksLikeZlib ? MAX_WBITS : -MAX_WBITS
    }

    var stream = z_stream()
    guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw .corrupt("inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }

    let scratchSize = 256 * 1024
    let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchSize)
    defer { scratch.deallocate() }

    var output: [UInt8] = []
    output.reserveCapacity(min(limit, max(4096, input.count * 4)))

    return try input.withUnsafeBufferPointer { (inBuffer) throws(DecompressionError) -> [UInt8] in
        var consumed = 0  // bytes of input handed to zlib so far
        func refill() {
            if stream.avail_in == 0 && consumed < inBuffer.count {
                let count = min(inBuffer.count - consumed, Int(UInt32.max))
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress! + consumed)
                stream.avail_in = UInt32(count)
                consumed += count
            }
        }
        refill()
        while true {
            stream.next_out = scratch
            stream.avail_out = UInt32(scratchSize)
            let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
            let produced = scratchSize - Int(stream.avail_out)
            if produced > 0 {
                guard produced <= limit - output.count else { throw .tooLarge(limit: limit) }
                output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
            }
            refill()
            switch rc {
            case Z_STREAM_END:
                let remaining = Int(stream.avail_in) + (inBuffer.count - consumed)
                guard remaining > 0 else { return output }
                let next = inBuffer.count - remaining
                // gzip allows several members back to back; anything else after the end is corrupt.
                if gzip, remaining >= 2, inBuffer[next] == 0x1F, inBuffer[next + 1] == 0x8B {
                    guard inflateReset(&stream) == Z_OK else { throw .corrupt("inflateReset failed") }
                    continue
                }
                throw .corrupt("trailing data after the compressed stream")
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the input ended before the stream did.
                if stream.avail_in == 0 { throw .corrupt("truncated stream") }
                continue
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw .corrupt(message)
            }
        }
    }
}
