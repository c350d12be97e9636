import Foundation
import VaporCSQLite

/// A VFS over SQLite's default one that gathers a commit's WAL writes into one.
///
/// SQLite writes each WAL frame as two `pwrite`s (its 24-byte header, then the page): a
/// commit opening one incident made 22 system calls, which cost three times what one
/// write of the same bytes does. This VFS keeps a WAL file's writes in memory while each
/// continues the last, and writes them at once before anything that could look at the
/// file: a read, its size, a truncate, a file control, a sync, a close, or a write
/// elsewhere.
///
/// SQLite publishes a commit's frames to other connections (in the shared-memory index)
/// right after it syncs the WAL, and only with `synchronous=FULL` does it sync there. So
/// the writer runs with FULL, and inside ``deferringCommitSync(_:)`` a sync of the WAL
/// only writes the gathered frames: ``WALSync`` makes them durable afterwards, once for
/// many commits, as it does for `synchronous=NORMAL`. A sync after the WAL's own header
/// was written (a WAL started over) always reaches the disk: SQLite relies on the new
/// header being durable before any frame behind it. The writer never checkpoints
/// (`wal_autocheckpoint=0`), so no deferred sync comes before a copy into the database file.
enum WALWriteGathering {
    static let vfsName = "klaxon-gathered-wal"

    /// Registers the VFS (once) and returns its name, for `sqlite3_open_v2`.
    static func register() -> String {
        _ = registration
        return vfsName
    }

    /// Runs `body` (a COMMIT on the calling thread) with WAL syncs left to ``WALSync``.
    static func deferringCommitSync<T>(_ body: () throws -> T) rethrows -> T {
        let key = deferKey
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, nil) }
        return try body()
    }

    fileprivate static var isDeferringCommitSync: Bool { pthread_getspecific(deferKey) != nil }

    private static let deferKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    nonisolated(unsafe) fileprivate static let base: UnsafeMutablePointer<sqlite3_vfs> = sqlite_nio_sqlite3_vfs_find(nil)!

    /// Where the default VFS's file lives inside ours.
    fileprivate static let realFileOffset = (MemoryLayout<GatheredFile>.stride + 15) & ~15

    nonisolated(unsafe) private static let registration: UnsafeMutablePointer<sqlite3_vfs> = {
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: base.pointee)
        vfs.pointee.pNext = nil
        vfs.pointee.zName = UnsafePointer(strdup(vfsName))
        vfs.pointee.szOsFile = Int32(realFileOffset) + base.pointee.szOsFile
        vfs.pointee.xOpen = { _, name, file, flags, outFlags in
            guard let file else { return SQLITE_MISUSE }
            guard flags & SQLITE_OPEN_WAL != 0 else {
                // Any other file is the default VFS's own, at the start of the space.
                return WALWriteGathering.base.pointee.xOpen!(WALWriteGathering.base, name, file, flags, outFlags)
            }
            let real = UnsafeMutableRawPointer(file).advanced(by: WALWriteGathering.realFileOffset).assumingMemoryBound(to: sqlite3_file.self)
            let status = WALWriteGathering.base.pointee.xOpen!(WALWriteGathering.base, name, real, flags, outFlags)
            let gathered = UnsafeMutableRawPointer(file).assumingMemoryBound(to: GatheredFile.self)
            guard status == SQLITE_OK, let methods = real.pointee.pMethods else {
                file.pointee.pMethods = nil
                return status
            }
            gathered.initialize(
                to: GatheredFile(
                    base: sqlite3_file(pMethods: gatheredMethods(version: methods.pointee.iVersion)),
                    state: Unmanaged.passRetained(WALWriteBuffer()).toOpaque()
                )
            )
            return SQLITE_OK
        }
        sqlite_nio_sqlite3_vfs_register(vfs, 0)
        return vfs
    }()
}

/// Our part of an open WAL file; the default VFS's file follows it.
private struct GatheredFile {
    var base: sqlite3_file
    var state: UnsafeMutableRawPointer
}

/// The writes gathered for one WAL file. Used only under its connection's mutex.
private final class WALWriteBuffer {
    /// The default VFS writes at most 128 KiB - 1 bytes a call (it masks larger sizes,
    /// and a commit then fails with SQLITE_FULL): 31 frames of 4 KiB pages.
    static let capacity = 0x1ffff
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    var start: Int64 = 0
    var count = 0
    /// The WAL header (its first 32 bytes) was written since the last sync that reached
    /// the disk.
    var headerWritten = false

    deinit { bytes.deallocate() }
}

private func parts(_ file: UnsafeMutablePointer<sqlite3_file>?) -> (buffer: WALWriteBuffer, real: UnsafeMutablePointer<sqlite3_file>) {
    let raw = UnsafeMutableRawPointer(file!)
    let gathered = raw.assumingMemoryBound(to: GatheredFile.self)
    let buffer = Unmanaged<WALWriteBuffer>.fromOpaque(gathered.pointee.state).takeUnretainedValue()
    return (buffer, raw.advanced(by: WALWriteGathering.realFileOffset).assumingMemoryBound(to: sqlite3_file.self))
}

/// Writes what is gathered; after a failure it is dropped (SQLite fails the commit, and
/// writes its frames again).
private func flush(_ buffer: WALWriteBuffer, _ real: UnsafeMutablePointer<sqlite3_file>) -> Int32 {
    guard buffer.count > 0 else { return SQLITE_OK }
    let status = real.pointee.pMethods.pointee.xWrite!(real, buffer.bytes, Int32(buffer.count), buffer.start)
    buffer.count = 0
    return status
}

/// Flushes, then calls the default VFS's method on its file.
private func forwarding(
    _ file: UnsafeMutablePointer<sqlite3_file>?,
    _ call: (UnsafeMutablePointer<sqlite3_file>, sqlite3_io_methods) -> Int32
) -> Int32 {
    let (buffer, real) = parts(file)
    let status = flush(buffer, real)
    guard status == SQLITE_OK else { return status }
    return call(real, real.pointee.pMethods.pointee)
}

nonisolated(unsafe) private let gatheredMethodsByVersion: [UnsafeMutablePointer<sqlite3_io_methods>] = (1...3).map { version in
    var methods = sqlite3_io_methods()
    methods.iVersion = Int32(version)
    methods.xClose = { file in
        let (buffer, real) = parts(file)
        let flushed = flush(buffer, real)
        let closed = real.pointee.pMethods.pointee.xClose!(real)
        Unmanaged<WALWriteBuffer>.fromOpaque(UnsafeMutableRawPointer(file!).assumingMemoryBound(to: GatheredFile.self).pointee.state).release()
        return flushed == SQLITE_OK ? closed : flushed
    }
    methods.xRead = { file, data, amount, offset in forwarding(file) { $1.xRead!($0, data, amount, offset) } }
    methods.xWrite = { file, data, amount, offset in
        let (buffer, real) = parts(file)
        guard let data else { return SQLITE_MISUSE }
        if offset < 32 { buffer.headerWritten = true }
        let continues = buffer.count > 0 && offset == buffer.start + Int64(buffer.count)
        if !continues || buffer.count + Int(amount) > WALWriteBuffer.capacity {
            let status = flush(buffer, real)
            guard status == SQLITE_OK else { return status }
        }
        guard Int(amount) <= WALWriteBuffer.capacity else {
            return real.pointee.pMethods.pointee.xWrite!(real, data, amount, offset)
        }
        if buffer.count == 0 { buffer.start = offset }
        (buffer.bytes + buffer.count).copyMemory(from: data, byteCount: Int(amount))
        buffer.count += Int(amount)
        return SQLITE_OK
    }
    methods.xTruncate = { file, size in forwarding(file) { $1.xTruncate!($0, size) } }
    methods.xSync = { file, flags in
        let (buffer, real) = parts(file)
        let status = flush(buffer, real)
        guard status == SQLITE_OK else { return status }
        if WALWriteGathering.isDeferringCommitSync && !buffer.headerWritten { return SQLITE_OK }
        let synced = real.pointee.pMethods.pointee.xSync!(real, flags)
        if synced == SQLITE_OK { buffer.headerWritten = false }
        return synced
    }
    methods.xFileSize = { file, size in forwarding(file) { $1.xFileSize!($0, size) } }
    methods.xLock = { file, lock in forwarding(file) { $1.xLock!($0, lock) } }
    methods.xUnlock = { file, lock in forwarding(file) { $1.xUnlock!($0, lock) } }
    methods.xCheckReservedLock = { file, result in forwarding(file) { $1.xCheckReservedLock!($0, result) } }
    methods.xFileControl = { file, operation, argument in forwarding(file) { $1.xFileControl!($0, operation, argument) } }
    methods.xSectorSize = { file in
        let real = parts(file).real
        return real.pointee.pMethods.pointee.xSectorSize!(real)
    }
    methods.xDeviceCharacteristics = { file in
        let real = parts(file).real
        return real.pointee.pMethods.pointee.xDeviceCharacteristics!(real)
    }
    if version >= 2 {
        methods.xShmMap = { file, page, size, extend, pointer in forwarding(file) { $1.xShmMap!($0, page, size, extend, pointer) } }
        methods.xShmLock = { file, offset, count, flags in forwarding(file) { $1.xShmLock!($0, offset, count, flags) } }
        methods.xShmBarrier = { file in
            let real = parts(file).real
            real.pointee.pMethods.pointee.xShmBarrier!(real)
        }
        methods.xShmUnmap = { file, delete in forwarding(file) { $1.xShmUnmap!($0, delete) } }
    }
    if version >= 3 {
        methods.xFetch = { file, offset, amount, pointer in forwarding(file) { $1.xFetch!($0, offset, amount, pointer) } }
        methods.xUnfetch = { file, offset, pointer in forwarding(file) { $1.xUnfetch!($0, offset, pointer) } }
    }
    let stored = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
    stored.initialize(to: methods)
    return stored
}

private func gatheredMethods(version: Int32) -> UnsafeMutablePointer<sqlite3_io_methods> {
    gatheredMethodsByVersion[Int(min(max(version, 1), 3)) - 1]
}
