import CZlib

/// Test-side compressor: gzip (`format: .gzip`), zlib-wrapped or raw deflate.
enum CompressionFormat {
    case gzip, zlib, raw

    var windowBits: Int32 {
        switch self {
        case .gzip: 16 + MAX_WBITS
        case .zlib: MAX_WBITS
        case .raw: -MAX_WBITS
        }
    }
}

/// Compresses `count` repetitions of `chunk` without materialising the whole input.
func compress(_ chunk: [UInt8], repeated count: Int = 1, format: CompressionFormat = .gzip, level: Int32 = 6) -> [UInt8] {
    var stream = z_stream()
    let rc = deflateInit2_(
        &stream, level, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
        Int32(MemoryLayout<z_stream>.size))
    precondition(rc == Z_OK)
    defer { deflateEnd(&stream) }
    var output: [UInt8] = []
    var scratch = [UInt8](repeating: 0, count: 256 * 1024)
    chunk.withUnsafeBufferPointer { input in
        for round in 0..<max(count, 1) {
            let last = round == max(count, 1) - 1
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            repeat {
                scratch.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    _ = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH)
                    output.append(contentsOf: out[..<(out.count - Int(stream.avail_out))])
                }
            } while stream.avail_out == 0 || (last && stream.avail_in > 0)
        }
    }
    return output
}

func gzip(_ bytes: [UInt8]) -> [UInt8] { compress(bytes, format: .gzip) }

/// 1 GiB of zeros, gzipped at level 1 (about 4.5 MB: quicker to build than level 9 at 1 MB); built once.
let gzipBomb: [UInt8] = compress([UInt8](repeating: 0, count: 1 << 20), repeated: 1024, format: .gzip, level: 1)
