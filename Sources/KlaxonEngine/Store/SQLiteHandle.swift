import Foundation
import SQLiteNIO
import VaporCSQLite

/// One SQLite database handle (the SQLite that sqlite-nio bundles) with a cache of
/// prepared statements. Statements run on the calling thread: a transaction's dozens of
/// statements cost microseconds each instead of a thread hop each. Callers serialise all
/// use (``SQLiteIncidentStore`` does, with its gate) and send blocking work (COMMIT's disk
/// sync, a wait on another process's lock) to a thread pool.
final class SQLiteHandle: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: (statement: OpaquePointer, columns: [String])] = [:]
    private var statementsByAddress: [UnsafeRawPointer: (sql: String, statement: OpaquePointer, columns: [String])] = [:]
    private let busyMilliseconds: Int32

    /// `vfs`: a registered VFS's name; nil for SQLite's default.
    init(path: String, busyTimeout: Duration, vfs: String? = nil) throws {
        // NOMUTEX: callers serialise all use, so SQLite's lock around every call is not needed.
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, vfs)
        guard status == SQLITE_OK, handle != nil else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite_nio_sqlite3_close(handle)
            handle = nil
            throw StoreError("cannot open SQLite store \(path): \(message)")
        }
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        busyMilliseconds = Int32(clamping: milliseconds)
        sqlite_nio_sqlite3_busy_timeout(handle, busyMilliseconds)
    }

    var isClosed: Bool { handle == nil }

    func close() {
        for (statement, _) in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        statementsByAddress.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
        handle = nil
    }

    deinit {
        if handle != nil { close() }
    }

    /// `BEGIN IMMEDIATE` when the write lock is free at once; false (nothing begun) when
    /// another connection holds it and the caller must wait for it elsewhere.
    func beginWithoutWaiting() -> Bool {
        guard let handle else { return false }
        sqlite_nio_sqlite3_busy_timeout(handle, 0)
        defer { sqlite_nio_sqlite3_busy_timeout(handle, busyMilliseconds) }
        return (try? query("BEGIN IMMEDIATE")) != nil
    }

    /// The id of the row the last successful INSERT on this handle added.
    var lastInsertRowID: Int64 { sqlite_nio_sqlite3_last_insert_rowid(handle) }

    /// Runs one statement with `binds` and returns its rows.
    func query(_ sql: String, _ binds: [SQLiteData] = []) throws -> [Row] {
        guard let handle else { throw StoreError("store is closed") }
        let (statement, columns) = try prepared(sql, handle: handle)
        // No sqlite3_clear_bindings: it expires any statement whose plan may depend on a
        // bound value, and every step would then re-prepare it. Every parameter is bound anew.
        defer { sqlite_nio_sqlite3_reset(statement) }
        guard binds.count == Int(sqlite_nio_sqlite3_bind_parameter_count(statement)) else {
            throw StoreError("\(binds.count) values for \(sqlite_nio_sqlite3_bind_parameter_count(statement)) parameters in \(sql.prefix(60))")
        }
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(statement, position, Int64(number))
            case .float(let number): status = sqlite_nio_sqlite3_bind_double(statement, position, number)
            case .text(var text):
                // The string's own UTF-8, not a C copy of it (SQLITE_TRANSIENT copies anyway).
                // An empty one may have no address, and a null pointer would bind NULL.
                status = text.withUTF8 { utf8 in
                    guard let bytes = utf8.baseAddress else {
                        return sqlite_nio_sqlite3_bind_text64(statement, position, "", 0, transient, UInt8(SQLITE_UTF8))
                    }
                    return sqlite_nio_sqlite3_bind_text64(
                        statement,
                        position,
                        UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self),
                        UInt64(utf8.count),
                        transient,
                        UInt8(SQLITE_UTF8)
                    )
                }
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, position)
            case .blob(let buffer):
                status = buffer.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob64(statement, position, $0.baseAddress, UInt64($0.count), transient)
                }
            }
            guard status == SQLITE_OK else { throw error(handle, sql) }
        }
        var rows: [Row] = []
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw error(handle, sql) }
            var values: [SQLiteData] = []
            values.reserveCapacity(columns.count)
            for index in 0..<Int32(columns.count) {
                switch sqlite_nio_sqlite3_column_type(statement, index) {
                case SQLITE_INTEGER: values.append(.integer(Int(sqlite_nio_sqlite3_column_int64(statement, index))))
                case SQLITE_FLOAT: values.append(.float(sqlite_nio_sqlite3_column_double(statement, index)))
                case SQLITE_TEXT:
                    // By its length, not up to a NUL: JSON's `\u0000` can put one in a key.
                    let text = sqlite_nio_sqlite3_column_text(statement, index).map {
                        String(decoding: UnsafeBufferPointer(start: $0, count: Int(sqlite_nio_sqlite3_column_bytes(statement, index))), as: UTF8.self)
                    }
                    values.append(.text(text ?? ""))
                default: values.append(.null)
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
    }

    /// Runs one statement without binds and hands each result row's statement to `body`,
    /// which reads its columns: a large result is never held whole.
    func forEachRow(_ sql: String, _ body: (OpaquePointer) throws -> Void) throws {
        guard let handle else { throw StoreError("store is closed") }
        let (statement, _) = try prepared(sql, handle: handle)
        defer { sqlite_nio_sqlite3_reset(statement) }
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw error(handle, sql) }
            try body(statement)
        }
    }

    private func prepared(_ sql: String, handle: OpaquePointer) throws -> (OpaquePointer, [String]) {
        // Most statements are constants: found by where their text lives, which hashes an
        // address instead of hundreds of bytes. The text is compared too (a copy of the same
        // string compares by identity, at once), so a reused address cannot mislead.
        let address = sql.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
        if let address, let cached = statementsByAddress[address], cached.sql == sql {
            return (cached.statement, cached.columns)
        }
        let found = try preparedBySQL(sql, handle: handle)
        if let address {
            // Text built per call lands at a new address each time: keep the table small.
            if statementsByAddress.count >= 256 { statementsByAddress.removeAll(keepingCapacity: true) }
            statementsByAddress[address] = (sql, found.0, found.1)
        }
        return found
    }

    private func preparedBySQL(_ sql: String, handle: OpaquePointer) throws -> (OpaquePointer, [String]) {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(handle, sql) }
        let columns = (0..<sqlite_nio_sqlite3_column_count(statement)).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
        statements[sql] = (statement, columns)
        return (statement, columns)
    }

    private func error(_ handle: OpaquePointer, _ sql: String) -> StoreError {
        let code = sqlite_nio_sqlite3_extended_errcode(handle)
        let message = String(cString: sqlite_nio_sqlite3_errmsg(handle))
        return StoreError("SQLite error \(code): \(message) (in \(sql.prefix(60).replacingOccurrences(of: "\n", with: " "))...)")
    }

    /// One result row: values by column position, found by name.
    struct Row: Sendable {
        let columns: [String]
        let values: [SQLiteData]

        func column(_ name: String) -> SQLiteData? {
            columns.firstIndex(of: name).map { values[$0] }
        }
    }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
