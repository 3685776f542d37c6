/// SQL whose interpolated values become `$1, $2 ...` parameters, never SQL text.
///
/// ```swift
/// let q: PostgresQuery = "SELECT * FROM t WHERE a = \(x) AND b = \(y)"
/// // q.sql == "SELECT * FROM t WHERE a = $1 AND b = $2", q.binds == [x, y]
/// let sorted: PostgresQuery = "SELECT * FROM t \(unsafeRaw: orderByClause)"  // spliced verbatim
/// ```
/// Only values conforming to `PostgresBindable` can be interpolated, so a stray `\(name)` of some
/// other type is a compile error rather than an injection. `unsafeRaw:` is for text the caller
/// controls (whitelisted identifiers, fixed clauses), never for user input.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public var sql: String
    public var binds: [PostgresValue]

    public init(sql: String, binds: [PostgresValue] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(sql: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(sql: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// Appends another query, renumbering its `$n` parameters to follow this query's binds.
    /// Placeholders inside string literals, quoted identifiers, dollar quotes and comments are left alone.
    ///
    /// ```swift
    /// var q: PostgresQuery = "SELECT count(*) FROM events WHERE project_id = \(project)"
    /// if let model { q.append(" AND model = \(model)") }   // becomes $2
    /// ```
    public mutating func append(_ other: PostgresQuery) {
        sql += SQLPlaceholders.shift(other.sql, by: binds.count)
        binds += other.binds
    }

    public static func + (lhs: PostgresQuery, rhs: PostgresQuery) -> PostgresQuery {
        var result = lhs
        result.append(rhs)
        return result
    }

    /// The SQL and the kinds of its binds, never their values, so it is safe to log.
    public var description: String {
        binds.isEmpty ? sql : "\(sql) [\(binds.map(\.description).joined(separator: ", "))]"
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        public typealias StringLiteralType = String

        var sql: String
        var binds: [PostgresValue]

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A value: becomes the next `$n`.
        public mutating func appendInterpolation(_ value: some PostgresBindable) {
            binds.append(value.postgresValue)
            sql += "$\(binds.count)"
        }

        /// An optional value: `nil` binds SQL NULL. (A separate overload, so the compiler does not
        /// warn about interpolating an optional.)
        public mutating func appendInterpolation<Value: PostgresBindable>(_ value: Value?) {
            binds.append(value.postgresValue)
            sql += "$\(binds.count)"
        }

        /// Raw SQL text spliced verbatim. Only for text the program controls, never for input.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            sql += text
        }
    }
}

extension PostgresValue: Hashable {
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .text(let s): hasher.combine(1); hasher.combine(s)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .double(let d): hasher.combine(3); hasher.combine(d)
        case .bool(let b): hasher.combine(4); hasher.combine(b)
        case .bytes(let b): hasher.combine(5); hasher.combine(b)
        case .timestamp(let d): hasher.combine(6); hasher.combine(d)
        case .textArray(let a): hasher.combine(7); hasher.combine(a)
        }
    }
}

/// A small SQL lexer that finds `$n` parameters outside literals and comments.
enum SQLPlaceholders {
    static func shift(_ sql: String, by offset: Int) -> String {
        if offset == 0 { return sql }
        let s = Array(sql.utf8)
        var out = [UInt8]()
        out.reserveCapacity(s.count + 8)
        var i = 0
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        func isIdent(_ c: UInt8) -> Bool {
            isDigit(c) || c == UInt8(ascii: "_") || c >= 0x80
                || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z"))
        }
        func copy(until end: Int) {
            let stop = min(end, s.count)
            out.append(contentsOf: s[i..<stop])
            i = stop
        }
        while i < s.count {
            let c = s[i]
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                // 'string' or "identifier"; a doubled quote is an escaped quote. E'..' strings
                // also allow backslash escapes.
                let escapes = c == UInt8(ascii: "'") && i > 0 && (s[i - 1] | 0x20) == UInt8(ascii: "e")
                    && (i < 2 || !isIdent(s[i - 2]))
                var j = i + 1
                while j < s.count {
                    if escapes && s[j] == UInt8(ascii: "\\") { j += 2; continue }
                    if s[j] == c {
                        if j + 1 < s.count && s[j + 1] == c { j += 2; continue }
                        break
                    }
                    j += 1
                }
                copy(until: j + 1)
            case UInt8(ascii: "-") where i + 1 < s.count && s[i + 1] == UInt8(ascii: "-"):
                var j = i
                while j < s.count && s[j] != UInt8(ascii: "\n") { j += 1 }
                copy(until: j)
            case UInt8(ascii: "/") where i + 1 < s.count && s[i + 1] == UInt8(ascii: "*"):
                var depth = 0
                var j = i
                repeat {
                    if j + 1 < s.count && s[j] == UInt8(ascii: "/") && s[j + 1] == UInt8(ascii: "*") {
                        depth += 1; j += 2
                    } else if j + 1 < s.count && s[j] == UInt8(ascii: "*") && s[j + 1] == UInt8(ascii: "/") {
                        depth -= 1; j += 2
                    } else {
                        j += 1
                    }
                } while depth > 0 && j < s.count
                copy(until: j)
            case UInt8(ascii: "$"):
                if i > 0 && isIdent(s[i - 1]) {
                    copy(until: i + 1)  // `$` inside an identifier such as a$b
                } else if i + 1 < s.count && isDigit(s[i + 1]) {
                    var j = i + 1
                    var n = 0
                    while j < s.count && isDigit(s[j]) { n = n * 10 + Int(s[j] - UInt8(ascii: "0")); j += 1 }
                    out.append(UInt8(ascii: "$"))
                    out.append(contentsOf: String(n + offset).utf8)
                    i = j
                } else {
                    // Dollar quote: $tag$ ... $tag$
                    var j = i + 1
                    if j < s.count && isIdent(s[j]) && !isDigit(s[j]) {
                        while j < s.count && isIdent(s[j]) { j += 1 }
                    }
                    if j < s.count && s[j] == UInt8(ascii: "$") {
                        let tag = Array(s[i...j])
                        var k = j + 1
                        var end = s.count
                        while k + tag.count <= s.count {
                            if s[k] == UInt8(ascii: "$") && Array(s[k..<(k + tag.count)]) == tag { end = k + tag.count; break }
                            k += 1
                        }
                        copy(until: end)
                    } else {
                        copy(until: i + 1)
                    }
                }
            default:
                copy(until: i + 1)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
