import CSQLite

/// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the bind call returns.
private let transientDestructor = unsafeBitCast(Int(-1), to: sqlite3_destructor_type.self)
/// A non-null pointer for binding empty text (a nil pointer would bind NULL).
private let emptyCString: StaticString = ""

/// A compiled SQL statement with `?` parameters, bound by 1-based index.
///
/// Binding and stepping allocate nothing on the Swift side; column reads allocate only
/// the `String` / `[UInt8]` they return. Not `Sendable`: use it on the thread or actor
/// that owns its ``SQLiteConnection``.
///
/// ```swift
/// let select = try db.cachedStatement("SELECT id, body FROM t WHERE id > ?")
/// try select.bind(Int64(10), at: 1)
/// while try select.step() {
///     let id = select.int64(at: 0)
///     let body = select.bytes(at: 1)
/// }
/// ```
public final class Statement {
    /// The raw `sqlite3_stmt*` handle.
    public let handle: OpaquePointer
    private let db: OpaquePointer
    /// The SQL text this statement was compiled from.
    public let sql: String

    init(handle: OpaquePointer, db: OpaquePointer, sql: String) {
        self.handle = handle
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: Binding (1-based index)

    /// Binds a 64-bit integer to parameter `index` (1-based).
    public func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer to parameter `index` (1-based).
    public func bind(_ value: Int, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, Int64(value)))
    }

    /// Binds a floating-point number to parameter `index` (1-based).
    public func bind(_ value: Double, at index: Int32) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Binds UTF-8 text to parameter `index` (1-based). SQLite copies the bytes.
    public func bind(_ value: String, at index: Int32) throws {
        var value = value
        let rc = value.withUTF8 { utf8 -> Int32 in
            if utf8.isEmpty {
                return emptyCString.withUTF8Buffer { empty in
                    empty.baseAddress!.withMemoryRebound(to: CChar.self, capacity: 1) {
                        sqlite3_bind_text(handle, index, $0, 0, transientDestructor)
                    }
                }
            }
            return utf8.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text(handle, index, $0.baseAddress, Int32(utf8.count), transientDestructor)
            }
        }
        try check(rc)
    }

    /// Binds a blob to parameter `index` (1-based). SQLite copies the bytes.
    /// An empty array binds an empty blob, not NULL.
    public func bind(_ value: [UInt8], at index: Int32) throws {
        try value.withUnsafeBytes { try bind(bytes: $0, at: index) }
    }

    /// Binds a blob from any contiguous bytes to parameter `index` (1-based). SQLite copies them.
    public func bind(bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            try check(sqlite3_bind_zeroblob(handle, index, 0))
            return
        }
        try check(sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), transientDestructor))
    }

    /// Binds SQL `NULL` to parameter `index` (1-based).
    public func bindNull(at index: Int32) throws {
        try check(sqlite3_bind_null(handle, index))
    }

    /// Binds a dynamically typed value to parameter `index` (1-based).
    public func bind(_ value: SQLiteValue, at index: Int32) throws {
        switch value {
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        case .null: try bindNull(at: index)
        }
    }

    /// Binds `values` to parameters 1...`values.count`, in order (GRDB's arguments array).
    ///
    /// ```swift
    /// try db.cachedStatement("INSERT INTO t(id, body) VALUES (?, ?)").run([.integer(1), .text("a")])
    /// ```
    public func bind(_ values: [SQLiteValue]) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    /// Binds `values` (parameters 1...`values.count`) and runs the statement to its end.
    public func run(_ values: [SQLiteValue]) throws {
        try bind(values)
        try run()
    }

    /// Binds `values`, steps once and maps the first row with `row`, then resets the
    /// statement: nil when there is no row. The one place a single-row read is written.
    public func first<T>(_ values: [SQLiteValue], _ row: (Statement) throws -> T) throws -> T? {
        defer { reset() }
        try bind(values)
        return try step() ? row(self) : nil
    }

    /// Binds `values`, steps through every row mapping each with `row`, then resets the
    /// statement. The one place a multi-row read is written.
    public func all<T>(_ values: [SQLiteValue], _ row: (Statement) throws -> T) throws -> [T] {
        defer { reset() }
        try bind(values)
        var rows: [T] = []
        while try step() { rows.append(try row(self)) }
        return rows
    }

    /// The number of `?` parameters.
    public var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }

    // MARK: Running

    /// Runs the statement one step.
    /// - Returns: `true` if a row is available (read it with the column accessors),
    ///   `false` when the statement has finished.
    /// - Throws: ``SQLiteError`` (for example ``SQLiteError/isConstraintViolation``,
    ///   ``SQLiteError/isDiskFull``). Call ``reset()`` before reusing the statement.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError.from(rc, db: db, sql: sql)
        }
    }

    /// Steps until the statement finishes (for `INSERT`, `UPDATE`, `DELETE`), then resets
    /// it so it can be bound and run again. Bindings are kept.
    public func run() throws {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Rewinds the statement and clears every binding to `NULL`.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Columns (0-based index)

    /// The number of columns in a result row.
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The name of column `index` (0-based).
    public func columnName(at index: Int32) -> String {
        sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    /// `true` if column `index` (0-based) of the current row is `NULL`.
    public func isNull(at index: Int32) -> Bool {
        sqlite3_column_type(handle, index) == SQLITE_NULL
    }

    /// Column `index` (0-based) as an integer (`NULL` reads as 0).
    public func int64(at index: Int32) -> Int64 {
        sqlite3_column_int64(handle, index)
    }

    /// Column `index` (0-based) as a floating-point number (`NULL` reads as 0).
    public func double(at index: Int32) -> Double {
        sqlite3_column_double(handle, index)
    }

    /// Column `index` (0-based) as text, or `nil` if `NULL`.
    public func string(at index: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` (0-based) as bytes, or `nil` if `NULL`. An empty blob reads as `[]`.
    public func bytes(at index: Int32) -> [UInt8]? {
        if sqlite3_column_type(handle, index) == SQLITE_NULL { return nil }
        let raw = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        guard let raw, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    /// Lends column `index` (0-based) as raw bytes without copying. The buffer is valid
    /// only inside `body`; it is empty for `NULL` and empty blobs.
    public func withBytes<R>(at index: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let raw = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return try body(UnsafeRawBufferPointer(start: count > 0 ? raw : nil, count: count))
    }

    /// Column `index` (0-based) as a dynamically typed value.
    public func value(at index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_TEXT: return .text(string(at: index) ?? "")
        case SQLITE_BLOB: return .blob(bytes(at: index) ?? [])
        default: return .null
        }
    }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw SQLiteError.from(rc, db: db, sql: sql) }
    }
}

/// A value in one of SQLite's five storage classes.
public enum SQLiteValue: Sendable, Hashable {
    /// `INTEGER`.
    case integer(Int64)
    /// `REAL`.
    case real(Double)
    /// `TEXT` (UTF-8).
    case text(String)
    /// `BLOB`.
    case blob([UInt8])
    /// `NULL`.
    case null

    /// `TEXT`, or `NULL` when `value` is nil.
    public static func text(orNull value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }

    /// `BLOB`, or `NULL` when `value` is nil.
    public static func blob(orNull value: [UInt8]?) -> SQLiteValue { value.map { .blob($0) } ?? .null }

    /// `INTEGER` from any fixed-width integer (it must fit in an `Int64`).
    public static func int(_ value: some BinaryInteger) -> SQLiteValue { .integer(Int64(value)) }
}
