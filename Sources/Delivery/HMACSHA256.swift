import TokenmeterCore

/// HMAC-SHA256 (RFC 2104) over TokenmeterCore's ``SHA256``: what receivers compute to check that a
/// webhook came from us. Checked against the RFC 4231 test vectors.
public enum HMACSHA256 {
    static let blockSize = 64

    public static func authenticationCode<Key: Collection<UInt8>, Message: Collection<UInt8>>(key: Key, message: Message) -> [UInt8] {
        // Keys longer than a block are hashed first; shorter ones are zero-padded.
        var block = key.count > blockSize ? SHA256.hash(key) : Array(key)
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = SHA256.hash(block.map { $0 ^ 0x36 } + Array(message))
        return SHA256.hash(block.map { $0 ^ 0x5c } + inner)
    }

    /// The code as lowercase hex.
    public static func hex<Key: Collection<UInt8>, Message: Collection<UInt8>>(key: Key, message: Message) -> String {
        authenticationCode(key: key, message: message).hexString
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
