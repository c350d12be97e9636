import Foundation
import Metrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Makes committed WAL frames durable with one `fdatasync` for many commits, on a thread
/// of its own, while the writer goes on with the next transaction.
///
/// A write transaction's COMMIT writes its frames to the WAL and returns without a disk
/// sync (``WALWriteGathering``). A writer then calls ``sync()``, which returns once an
/// `fdatasync` of the WAL file that began after that COMMIT has finished: the guarantee
/// of `synchronous=FULL` (whose COMMIT syncs the same file), but the disk's latency no
/// longer stands between one transaction and the next.
///
/// A failed sync fails every later one too. Linux may drop the pages it could not write
/// and report them clean, so a later sync would succeed without them; and SQLite's
/// recovery stops at the first missing frame of the WAL, discarding every commit after it.
/// Only a restart (which reads the WAL as it is) makes commits durable again.
final class WALSync: Sendable {
    private let worker: Worker

    /// Opens the WAL of the database at `databasePath` (creating it empty when SQLite has
    /// not yet) and makes its directory entry durable.
    convenience init(databasePath: String) throws {
        let path = databasePath + "-wal"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError("cannot open \(path): \(String(cString: strerror(errno)))") }
        let directory = (databasePath as NSString).deletingLastPathComponent
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            _ = close(directoryDescriptor)
        }
        self.init(
            sync: {
                guard fdatasync(descriptor) == 0 else { throw StoreError("cannot sync \(path): \(String(cString: strerror(errno)))") }
            },
            close: { _ = close(descriptor) }
        )
    }

    /// `sync` makes everything written so far durable; tests pass their own.
    init(sync: @escaping @Sendable () throws -> Void, close: @escaping @Sendable () -> Void = {}) {
        worker = Worker(sync: sync, close: close)
        let worker = self.worker
        let thread = Thread {
            nameCurrentThread("klaxon-wal-sync")
            worker.run()
        }
        thread.start()
    }

    deinit {
        worker.stop()
    }

    /// Returns once everything committed before the call is on disk.
    func sync() async throws {
        try await withCheckedThrowingContinuation { continuation in
            worker.enqueue { continuation.resume(with: $0) }
        }
    }

    /// Calls `done` on the sync thread once everything committed before the call is on disk,
    /// or with the error when that failed: a caller that only hands the result on saves a
    /// hop through its own task.
    func whenSynced(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        worker.enqueue(done)
    }

    /// Callers waiting for a sync that has not begun.
    var waitingForNextSync: Int { worker.waiting }

    /// Why no commit can be made durable any more; nil while syncs succeed.
    var failure: StoreError? { worker.failure }

    /// Syncs once more for whoever waits, then closes the file; later calls fail.
    func shutdown() {
        worker.stop()
    }

    private final class Worker: @unchecked Sendable {
        private let condition = NSCondition()
        // Guarded by `condition`.
        private var next: [@Sendable (Result<Void, any Error>) -> Void] = []
        private var stopped = false
        private var failed: StoreError?
        private let syncFile: @Sendable () throws -> Void
        private let closeFile: @Sendable () -> Void
        /// How long each sync took: every webhook of a group waits for it, so a slow disk
        /// shows here before it shows as late pages.
        private let duration = Timer(label: "klaxon_store_sync_seconds")

        init(sync: @escaping @Sendable () throws -> Void, close: @escaping @Sendable () -> Void) {
            syncFile = sync
            closeFile = close
        }

        var waiting: Int {
            condition.lock()
            defer { condition.unlock() }
            return next.count
        }

        var failure: StoreError? {
            condition.lock()
            defer { condition.unlock() }
            return failed
        }

        func enqueue(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
            condition.lock()
            guard !stopped else {
                condition.unlock()
                done(.failure(StoreError("store is closed")))
                return
            }
            next.append(done)
            condition.signal()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.signal()
            condition.unlock()
        }

        /// Each sync covers exactly the callers that came before it began.
        func run() {
            while true {
                condition.lock()
                while next.isEmpty && !stopped { condition.wait() }
                let covered = next
                next = []
                let last = stopped
                let failedBefore = failed
                condition.unlock()
                if !covered.isEmpty {
                    let result: Result<Void, any Error>
                    if let failedBefore {
                        result = .failure(failedBefore)
                    } else {
                        let start = ContinuousClock.now
                        result = Result { try syncFile() }
                        duration.record(duration: ContinuousClock.now - start)
                        if case .failure(let error) = result {
                            condition.lock()
                            failed = StoreError("an earlier disk sync of the WAL failed (\(error)); restart klaxon once the disk is sound")
                            condition.unlock()
                        }
                    }
                    for done in covered { done(result) }
                }
                if last { break }
            }
            closeFile()
        }
    }
}
