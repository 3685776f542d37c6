import Foundation

/// A Swift type that can be read from a cell in Postgres text format.
///
/// Conforming: String (any column; numeric too, keeping its exact digits), Int, Int64, Int32,
/// Double, Bool, Date (timestamptz / timestamp as UTC / date), UUID, [UInt8] (bytea),
/// [String] (text[] without NULLs) and Optional of any of these (NULL → nil).
public protocol PostgresDecodable {
    /// Parses a non-NULL cell; nil when the text is not a valid value of this type.
    init?(postgresText text: String)
    /// The value SQL NULL decodes to; nil (the default) makes NULL a decoding error.
    static var postgresNullValue: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNullValue: Self? { nil }
}

extension String: PostgresDecodable {
    public init?(postgresText text: String) { self = text }
}

extension Int: PostgresDecodable {
    public init?(postgresText text: String) { self.init(text, radix: 10) }
}

extension Int64: PostgresDecodable {
    public init?(postgresText text: String) { self.init(text, radix: 10) }
}

extension Int32: PostgresDecodable {
    public init?(postgresText text: String) { self.init(text, radix: 10) }
}

extension Double: PostgresDecodable {
    /// Accepts float4/float8/numeric output, including `NaN`, `Infinity` and `-Infinity`.
    public init?(postgresText text: String) { self.init(text) }
}

extension Bool: PostgresDecodable {
    public init?(postgresText text: String) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension Date: PostgresDecodable {
    /// Postgres ISO output (the default DateStyle, which the connection enforces).
    public init?(postgresText text: String) {
        guard let date = PostgresTimestamp.parse(text) else { return nil }
        self = date
    }
}

extension UUID: PostgresDecodable {
    public init?(postgresText text: String) { self.init(uuidString: text) }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init?(postgresText text: String) {
        guard let array = Element.postgresArray(fromText: text) else { return nil }
        self = array
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init?(postgresText text: String) {
        guard let wrapped = Wrapped(postgresText: text) else { return nil }
        self = .some(wrapped)
    }

    public static var postgresNullValue: Wrapped?? { .some(.none) }
}
