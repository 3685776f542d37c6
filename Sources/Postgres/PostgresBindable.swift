import Foundation

/// A Swift value that can be interpolated into a `PostgresQuery` as a `$n` parameter.
public protocol PostgresBindable {
    var postgresValue: PostgresValue { get }
}

extension PostgresValue: PostgresBindable {
    public var postgresValue: PostgresValue { self }
}

extension String: PostgresBindable {
    public var postgresValue: PostgresValue { .text(self) }
}

extension Substring: PostgresBindable {
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Int: PostgresBindable {
    public var postgresValue: PostgresValue { .int(Int64(self)) }
}

extension Int64: PostgresBindable {
    public var postgresValue: PostgresValue { .int(self) }
}

extension Int32: PostgresBindable {
    public var postgresValue: PostgresValue { .int(Int64(self)) }
}

extension Double: PostgresBindable {
    public var postgresValue: PostgresValue { .double(self) }
}

extension Bool: PostgresBindable {
    public var postgresValue: PostgresValue { .bool(self) }
}

extension Date: PostgresBindable {
    public var postgresValue: PostgresValue { .timestamp(self) }
}

/// Bound as text (lowercase), so it fits uuid and text columns alike.
extension UUID: PostgresBindable {
    public var postgresValue: PostgresValue { .text(postgresText) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresValue: PostgresValue {
        switch self {
        case .none: return .null
        case .some(let wrapped): return wrapped.postgresValue
        }
    }
}

/// Element types whose arrays have a Postgres form: `[UInt8]` is bytea, `[String]` is text[].
/// (Swift allows only one conditional conformance of `Array` per protocol, hence this indirection.)
public protocol PostgresArrayElement {
    static func postgresValue(of array: [Self]) -> PostgresValue
    /// Decodes a non-NULL cell holding the whole array; nil when the text does not fit.
    static func postgresArray(fromText text: String) -> [Self]?
}

extension UInt8: PostgresArrayElement {
    public static func postgresValue(of array: [UInt8]) -> PostgresValue { .bytes(array) }
    public static func postgresArray(fromText text: String) -> [UInt8]? { PostgresText.parseBytea(text) }
}

extension String: PostgresArrayElement {
    public static func postgresValue(of array: [String]) -> PostgresValue { .textArray(array) }
    /// Fails on arrays that contain NULL elements.
    public static func postgresArray(fromText text: String) -> [String]? {
        guard let elements = PostgresText.parseArray(text) else { return nil }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let element else { return nil }
            result.append(element)
        }
        return result
    }
}

extension Array: PostgresBindable where Element: PostgresArrayElement {
    public var postgresValue: PostgresValue { Element.postgresValue(of: self) }
}
