import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite store is one process's: a second `klaxon serve` on the same file would take
/// the first one's running steps for a stopped process's and run them again (calling
/// people twice), and leave its own to nobody when it stops. `klaxon serve` holds an
/// exclusive `flock` on `PATH.lock` while it runs; the kernel lets go of it however the
/// process ends.
final class StoreFileLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock of the database at `path`, or throws ``ServeError`` naming the process
    /// that holds it.
    init(databasePath path: String) throws {
        let lockPath = path + ".lock"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ServeError(["store sqlite:\(path): cannot open \(lockPath): \(String(cString: strerror(errno)))"])
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            close(descriptor)
            if reason == EWOULDBLOCK {
                let pid = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
                throw ServeError(["store sqlite:\(path) is in use by another klaxon serve (pid \(pid)); one process serves a SQLite store"])
            }
            throw ServeError(["store sqlite:\(path): cannot lock \(lockPath): \(String(cString: strerror(reason)))"])
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
