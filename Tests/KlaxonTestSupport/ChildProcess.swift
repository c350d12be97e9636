import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process for the tests, started with `posix_spawn` and reaped by a thread of its
/// own, instead of Foundation's `Process`.
///
/// Foundation's `Process` on Linux learns that a child exited when a socket it hands the
/// child is closed. A process that another thread spawns meanwhile inherits that socket
/// (swift-corelibs-foundation#4795); a long-lived one (a PostgreSQL server, `klaxon serve`)
/// then keeps it open, and `waitUntilExit` for the short-lived child never returns: the
/// whole test run hung on it. Here the child keeps only its standard streams, every other
/// descriptor is closed in it, and the exit comes from `waitpid`.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let exit = Mutex<Int32?>(nil)
    private let exited = DispatchSemaphore(value: 0)

    /// Starts `path` with `arguments`. `stdin`, `stdout` and `stderr` are descriptors the
    /// child gets as 0, 1 and 2 (nil: /dev/null); the caller still owns and closes them.
    public init(
        _ path: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        stdin: Int32? = nil,
        stdout: Int32? = nil,
        stderr: Int32? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }
        for (source, target) in [(stdin, Int32(0)), (stdout, Int32(1)), (stderr, Int32(2))] {
            posix_spawn_file_actions_adddup2(&actions, source ?? devNull, target)
        }
        guard Self.addCloseFrom(&actions, 3) == 0 else { throw ChildProcessError("posix_spawn_file_actions_addclosefrom_np failed") }
        if let directory, Self.addChdir(&actions, directory) != 0 {
            throw ChildProcessError("posix_spawn_file_actions_addchdir_np failed")
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in variables { free(pointer) } }
        var spawned: pid_t = 0
        let status = posix_spawn(&spawned, path, &actions, nil, argv, variables)
        guard status == 0 else { throw ChildProcessError("cannot start \(path): \(String(cString: strerror(status)))") }
        let pid = spawned
        self.pid = pid
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, 0) } while result == -1 && errno == EINTR
            // Exited: its code; killed by a signal: 128 + the signal, as a shell reports it;
            // -1 when it could not be waited for.
            let code = result != pid ? -1 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            exit.withLock { $0 = code }
            exited.signal()
        }
    }

    public var isRunning: Bool { exit.withLock { $0 == nil } }

    /// The exit code (128 + the signal when a signal ended it); nil while it runs.
    public var terminationStatus: Int32? { exit.withLock { $0 } }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Blocks the calling thread until the child has exited.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        if let code = terminationStatus { return code }
        exited.wait()
        exited.signal()
        return terminationStatus ?? -1
    }

    /// Waits, on a thread of its own, until the child has exited.
    @discardableResult
    public func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in continuation.resume(returning: waitUntilExit()) }
        }
    }

    // glibc has both (2.34, 2.29); Swift's Glibc module does not show them.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32
    private static let addCloseFrom = unsafeBitCast(symbol("posix_spawn_file_actions_addclosefrom_np"), to: CloseFrom.self)
    private static let addChdir = unsafeBitCast(symbol("posix_spawn_file_actions_addchdir_np"), to: Chdir.self)

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { fatalError("\(name) is missing from the C library") }
        return address
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A new log file for a child's output and its descriptor, open for writing.
public func makeLogFile(name: String) throws -> (url: URL, descriptor: Int32) {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
    let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw ChildProcessError("cannot create \(url.path): \(String(cString: strerror(errno)))") }
    return (url, descriptor)
}

/// A pipe whose ends are not inherited by any child but the one given them.
public func makePipe() throws -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { throw ChildProcessError("pipe failed: \(String(cString: strerror(errno)))") }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return (ends[0], ends[1])
}
