/// The outcome of one statement: column names, rows (all copied out of libpq) and the row count
/// from the command tag (`INSERT 0 5` → 5).
public struct PostgresResult: Sendable {
    public var columns: [String]
    public var rows: [PostgresRow]
    /// Rows inserted/updated/deleted/selected/copied according to the command tag; 0 when it has none.
    public var affectedRows: Int
    /// The command tag, such as `INSERT 0 5` or `CREATE TABLE`.
    public var commandTag: String

    public init(columns: [String], rows: [PostgresRow], affectedRows: Int, commandTag: String = "") {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// The position of a column (the first one, if several share the name), for decoding many rows
    /// by position: looking the name up in every row cost a hash per cell.
    public func index(ofColumn name: String) throws -> Int {
        guard let index = columns.firstIndex(of: name) else { throw PostgresError.columnNotFound(column: name, available: columns) }
        return index
    }
}

/// Cells of one result, shared by all its rows.
@usableFromInline
final class PostgresCells: Sendable {
    @usableFromInline let columns: [String]
    @usableFromInline let columnIndex: [String: Int]
    /// Row-major, `nil` for NULL.
    @usableFromInline let values: [String?]

    init(columns: [String], values: [String?]) {
        self.columns = columns
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() where index[name] == nil { index[name] = i }
        self.columnIndex = index
        self.values = values
    }
}

/// One row of a result. Cells are kept in Postgres text format and parsed on `decode`.
///
/// The decoding methods are inlinable so that callers get them specialized for the decoded type:
/// a generic call across the module boundary looked up type metadata for every cell (7% of the
/// server's time for a 1,000-row usage answer).
public struct PostgresRow: Sendable {
    @usableFromInline let cells: PostgresCells
    @usableFromInline let row: Int

    init(cells: PostgresCells, row: Int) {
        self.cells = cells
        self.row = row
    }

    public var columns: [String] { cells.columns }

    /// The raw text of a column, nil for NULL or an unknown column.
    public subscript(column: String) -> String? {
        guard let index = cells.columnIndex[column] else { return nil }
        return cells.values[row * cells.columns.count + index]
    }

    /// The raw text of the column at a zero-based position, nil for NULL or a position out of range.
    public func text(at index: Int) -> String? {
        guard cells.columns.indices.contains(index) else { return nil }
        return cells.values[row * cells.columns.count + index]
    }

    /// Decodes a column by name (the first one, if several share the name).
    /// Throws `.columnNotFound`, or `.decode` naming the column and the Swift type.
    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column: String) throws -> T {
        guard let index = cells.columnIndex[column] else {
            throw PostgresError.columnNotFound(column: column, available: cells.columns)
        }
        return try decodeCell(T.self, index: index)
    }

    /// Decodes a column by its zero-based position.
    @inlinable
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard cells.columns.indices.contains(index) else {
            throw PostgresError.columnNotFound(column: "#\(index)", available: cells.columns)
        }
        return try decodeCell(T.self, index: index)
    }

    @inlinable
    func decodeCell<T: PostgresDecodable>(_ type: T.Type, index: Int) throws -> T {
        guard let text = cells.values[row * cells.columns.count + index] else {
            if let null = T.postgresNullValue { return null }
            throw PostgresError.decode(column: cells.columns[index], type: String(describing: T.self), value: nil)
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError.decode(column: cells.columns[index], type: String(describing: T.self), value: text)
        }
        return value
    }
}
