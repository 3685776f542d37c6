/// API keys look like `tm_ingest_<32 base62 chars>` / `tm_read_<…>`: the prefix tells a human what a
/// leaked key can do; only the SHA-256 of the whole key is stored.
public enum APIKey {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    public static func generate(kind: KeyKind) -> String {
        var rng = SystemRandomNumberGenerator()
        let body = String((0..<32).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
        return "tm_\(kind.rawValue)_\(body)"
    }

    /// Hex SHA-256 of the key, the only form kept in the database.
    public static func hash(_ key: String) -> String { SHA256.hex(Array(key.utf8)) }

    /// Cheap shape check before any lookup, so garbage never reaches the database.
    public static func isWellFormed(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard bytes.count >= 10, bytes.count <= 200 else { return false }
        return bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x5f || $0 == 0x2d }
    }
}
