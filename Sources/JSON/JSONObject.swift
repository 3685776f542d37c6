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
    public static let linearScanLimit = 8

    /// The entries in document order, without duplicate keys.
    public private(set) var entries: [Element]
    /// Open-addressing table of `entry index + 1` (0 = empty); empty when small.
    private var table: [Int32]

    public init() {
        entries = []
        table = []
    }

    /// Builds an object from pairs in order; for a repeated key the last value wins.
    public init(_ pairs: [(String, JSONValue)]) {
        entries = []
        table = []
        entries.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The parser's path: keys and values side by side, already bounds-consistent.
    init(keys: ArraySlice<String>, values: ArraySlice<JSONValue>) {
        table = []
        entries = []
        entries.reserveCapacity(keys.count)
        var vi = values.startIndex
        if keys.count <= JSONObject.linearScanLimit {
            outer: for key in keys {
                let value = values[vi]
                vi += 1
                for j in entries.indices where JSONObject.keysEqual(entries[j].key, key) {
                    entries[j].value = value
                    continue outer
                }
                entries.append((key, value))
            }
        } else {
            table = [Int32](repeating: 0, count: JSONObject.tableSize(for: keys.count))
            for key in keys {
                let value = values[vi]
                vi += 1
                insertOrReplace(key, value)
            }
        }
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
                    }
                } else {
                    if table.isEmpty || (entries.count + 1) * 2 > table.count {
                        rebuildTable(minimumCount: entries.count + 1)
                    }
                    insertOrReplace(key, newValue)
                }
            } else if let i = index(forKey: key) {
                entries.remove(at: i)
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
            for i in entries.indices where JSONObject.keysEqual(entries[i].key, key) {
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

    /// Byte-wise UTF-8 equality.
    @inline(__always)
    static func keysEqual(_ a: String, _ b: String) -> Bool {
        let count = a.utf8.count
        guard count == b.utf8.count else { return false }
        if count == 0 { return true }
        var a = a
        var b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in memcmp(pa.baseAddress!, pb.baseAddress!, count) == 0 }
        }
    }
}
