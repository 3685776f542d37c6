#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON object that keeps its keys in document order.
///
/// - Keys compare by their UTF-8 bytes (as RFC 8259 suggests), not by Unicode
///   canonical equivalence as `String ==` does.
/// - Duplicate keys: the last value wins and the key keeps the position of its first
///   occurrence (what `JSON.parse` does in JavaScript).
/// - Lookup is a linear scan up to ``linearScanLimit`` entries and a hash table
///   (randomly seeded `Hasher`, so hostile keys cannot force collisions) above that.
/// - Equality ignores order: two objects are equal when they hold the same keys with
///   equal values.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    /// Objects with at most this many entries are searched linearly.
    public static let linearScanLimit = 32

    /// The entries in document order, without duplicate keys.
    public private(set) var entries: [Element]
    /// ``keySignature(_:)`` of each entry's key, parallel to `entries`: a linear lookup
    /// compares integers and looks at a key's bytes only on a signature match.
    private var signatures: [UInt64]
    /// Open-addressing table of `entry index + 1` (0 = empty); empty when small.
    private var table: [Int32]

    public init() {
        entries = []
        signatures = []
        table = []
    }

    /// Builds an object from pairs in order; for a repeated key the last value wins.
    public init(_ pairs: [(String, JSONValue)]) {
        entries = []
        signatures = []
        table = []
        entries.reserveCapacity(pairs.count)
        signatures.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The parser's path: moves `count` keys and values out of the parser's stacks
    /// (the caller must treat that memory as uninitialized afterwards). `signatures` holds
    /// ``keySignature(_:_:)`` of each key, so the common case — no duplicates — is found
    /// by comparing integers.
    init(
        movingKeys keys: UnsafeMutablePointer<String>, values: UnsafeMutablePointer<JSONValue>,
        signatures signatures_: UnsafePointer<UInt64>, count: Int
    ) {
        table = []
        entries = []
        signatures = []
        var possibleDuplicate = false
        if count <= JSONObject.linearScanLimit {
            outer: for i in 0..<count {
                for j in 0..<i where signatures_[j] == signatures_[i] {
                    possibleDuplicate = true
                    break outer
                }
            }
        } else {
            possibleDuplicate = true
        }
        if !possibleDuplicate {
            entries = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count {
                    (buffer.baseAddress! + i).initialize(to: ((keys + i).move(), (values + i).move()))
                }
                initialized = count
            }
            signatures = Array(UnsafeBufferPointer(start: signatures_, count: count))
            return
        }
        entries.reserveCapacity(count)
        signatures.reserveCapacity(count)
        for i in 0..<count { self[(keys + i).move()] = (values + i).move() }
    }

    static func keySignature(_ key: String) -> UInt64 {
        func signature(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
            guard let p = b.baseAddress, b.count > 0 else { return 0 }   // same as keySignature(p, 0)
            return keySignature(p, b.count)
        }
        if let s = key.utf8.withContiguousStorageIfAvailable(signature) { return s }
        return Array(key.utf8).withUnsafeBufferPointer(signature)
    }

    /// A cheap fingerprint of a key's UTF-8 bytes: equal keys have equal signatures.
    /// Only used to skip comparisons, never as a hash-table hash (it is not seeded).
    @inline(__always)
    static func keySignature(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        if n >= 8 {
            head = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
            tail = UnsafeRawPointer(p + (n - 8)).loadUnaligned(as: UInt64.self)
        } else {
            for i in 0..<n { head |= UInt64(p[i]) << (8 * UInt64(i)) }
        }
        return (head &* 0x9E37_79B9_7F4A_7C15) ^ (tail &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(n)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }
    public var values: [JSONValue] { entries.map(\.value) }

    public func makeIterator() -> IndexingIterator<[Element]> {
        entries.makeIterator()
    }

    /// The value for `key`; setting `nil` removes the key, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = index(forKey: key) else { return nil }
            return entries[i].value
        }
        set {
            if let newValue {
                if table.isEmpty && entries.count < JSONObject.linearScanLimit {
                    if let i = index(forKey: key) {
                        entries[i].value = newValue
                    } else {
                        entries.append((key, newValue))
                        signatures.append(JSONObject.keySignature(key))
                    }
                } else {
                    if table.isEmpty || (entries.count + 1) * 2 > table.count {
                        rebuildTable(minimumCount: entries.count + 1)
                    }
                    insertOrReplace(key, newValue)
                }
            } else if let i = index(forKey: key) {
                entries.remove(at: i)
                signatures.remove(at: i)
                if entries.count <= JSONObject.linearScanLimit {
                    table = []
                } else {
                    rebuildTable(minimumCount: entries.count)
                }
            }
        }
    }

    /// Position of `key` in ``entries``.
    public func index(forKey key: String) -> Int? {
        if table.isEmpty {
            let signature = JSONObject.keySignature(key)
            for i in signatures.indices where signatures[i] == signature && JSONObject.keysEqual(entries[i].key, key) {
                return i
            }
            return nil
        }
        let mask = table.count - 1
        var slot = JSONObject.hash(key) & mask
        while true {
            let stored = Int(table[slot])
            if stored == 0 { return nil }
            if JSONObject.keysEqual(entries[stored - 1].key, key) { return stored - 1 }
            slot = (slot + 1) & mask
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for (key, value) in lhs.entries {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    // MARK: - Hash table

    private static func tableSize(for count: Int) -> Int {
        var size = 16
        while size < count * 2 { size <<= 1 }
        return size
    }

    private mutating func rebuildTable(minimumCount: Int) {
        let size = JSONObject.tableSize(for: minimumCount)
        table = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for i in entries.indices {
            var slot = JSONObject.hash(entries[i].key) & mask
            while table[slot] != 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(i + 1)
        }
    }

    /// Requires a table with a free slot.
    private mutating func insertOrReplace(_ key: String, _ value: JSONValue) {
        let mask = table.count - 1
        var slot = JSONObject.hash(key) & mask
        while true {
            let stored = Int(table[slot])
            if stored == 0 {
                entries.append((key, value))
                signatures.append(JSONObject.keySignature(key))
                table[slot] = Int32(entries.count)
                return
            }
            if JSONObject.keysEqual(entries[stored - 1].key, key) {
                entries[stored - 1].value = value
                return
            }
            slot = (slot + 1) & mask
        }
    }

    static func hash(_ key: String) -> Int {
        var hasher = Hasher()
        var key = key
        key.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        return hasher.finalize()
    }

    /// Byte-wise UTF-8 equality (not `==`, which equates canonically equivalent spellings).
    @inline(__always)
    static func keysEqual(_ a: String, _ b: String) -> Bool {
        let au = a.utf8
        let bu = b.utf8
        let count = au.count
        guard count == bu.count else { return false }
        if count == 0 { return true }
        let fast = au.withContiguousStorageIfAvailable { pa in
            bu.withContiguousStorageIfAvailable { pb in memcmp(pa.baseAddress!, pb.baseAddress!, count) == 0 }
        }
        if let fast, let result = fast { return result }
        return au.elementsEqual(bu)
    }
}
