/// Header fields in the order they were received or added. Names compare ASCII case-insensitively;
/// values are kept as sent.
public struct HTTPHeaders: Sendable, Equatable {
    public typealias Field = (name: String, value: String)

    @usableFromInline var names: [String] = []
    @usableFromInline var values: [String] = []

    public init() {}

    public init(_ fields: [(String, String)]) {
        names.reserveCapacity(fields.count)
        values.reserveCapacity(fields.count)
        for (name, value) in fields { add(name: name, value: value) }
    }

    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }

    public mutating func reserveCapacity(_ n: Int) {
        names.reserveCapacity(n)
        values.reserveCapacity(n)
    }

    /// Appends a field, keeping any earlier ones with the same name.
    public mutating func add(name: String, value: String) {
        names.append(name)
        values.append(value)
    }

    /// The first value for `name`; setting replaces every field of that name (nil removes them).
    public subscript(name: String) -> String? {
        get {
            for index in names.indices where asciiCaseInsensitiveEquals(names[index], name) {
                return values[index]
            }
            return nil
        }
        set {
            remove(name: name)
            if let newValue { add(name: name, value: newValue) }
        }
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        var result: [String] = []
        for index in names.indices where asciiCaseInsensitiveEquals(names[index], name) {
            result.append(values[index])
        }
        return result
    }

    public func contains(_ name: String) -> Bool {
        names.contains { asciiCaseInsensitiveEquals($0, name) }
    }

    public mutating func remove(name: String) {
        var index = names.count - 1
        while index >= 0 {
            if asciiCaseInsensitiveEquals(names[index], name) {
                names.remove(at: index)
                values.remove(at: index)
            }
            index -= 1
        }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.names == rhs.names && lhs.values == rhs.values
    }
}

extension HTTPHeaders: Sequence {
    public struct Iterator: IteratorProtocol {
        let headers: HTTPHeaders
        var index = 0
        public mutating func next() -> Field? {
            guard index < headers.names.count else { return nil }
            defer { index += 1 }
            return (headers.names[index], headers.values[index])
        }
    }

    public func makeIterator() -> Iterator { Iterator(headers: self) }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}

extension HTTPHeaders: CustomStringConvertible {
    public var description: String {
        map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}

/// ASCII case-insensitive comparison without allocating (header names are ASCII tokens).
@inlinable
func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    let au = a.utf8, bu = b.utf8
    guard au.count == bu.count else { return false }
    for (x, y) in zip(au, bu) where x != y {
        guard x | 0x20 == y | 0x20, (x | 0x20) >= UInt8(ascii: "a"), (x | 0x20) <= UInt8(ascii: "z") else {
            return false
        }
    }
    return true
}
