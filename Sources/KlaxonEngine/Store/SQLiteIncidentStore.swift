import Foundation
import KlaxonCore
import Logging
import SQLiteNIO
import Synchronization

/// The embedded store: one SQLite file in WAL mode, written by one connection and read by
/// another, so listings, the scheduler's look-ahead and the open-incident count never hold
/// up a webhook's commit (WAL readers see the last commit and do not block the writer).
///
/// Durability: a write returns only once its commit is on disk (``WALSync``: one
/// `fdatasync` of the WAL for many commits, while the next transaction runs), so a
/// committed transaction survives a crash of the process and of the machine.
///
/// The schema declares its foreign keys but the connection does not enforce them on every
/// statement (that check cost a tenth of each webhook's time): the engine is the only
/// writer and writes parents first in the same transaction, and ``danglingReferences()``
/// lets the tests prove it. A second process holding the file's lock makes writes wait
/// up to `busyTimeout`, then fail with ``StoreError`` (answered 503, so senders retry).
public final class SQLiteIncidentStore: IncidentStore {
    let database: SQLiteHandle
    private let gate = SerialGate()
    private let reader: SQLiteHandle
    private let readGate = SerialGate()
    /// Copies the WAL back into the database file (below).
    private let checkpoints = Mutex<Task<Void, Never>?>(nil)
    private let walSync: WALSync
    /// Why the last write could not begin or commit (the file locked by another process, a
    /// full disk); nil once one has. `/readyz` fails while it is set and a probe of the
    /// writer fails too.
    private let lastWriteFailure = Mutex<String?>(nil)
    /// The writer's dedupe lookup (``ActiveIncidentKeys``), in place of an index on the key.
    let activeKeys: ActiveIncidentKeys
    public let path: String

    /// Opens (creating when missing) the file and brings its schema up to date.
    /// `migrations` limits how many are applied; only tests of upgrades pass it.
    public static func open(
        path: String,
        busyTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "klaxon.store"),
        migrations: Int = SQLiteSchema.version
    ) async throws -> SQLiteIncidentStore {
        try await open(path: path, busyTimeout: busyTimeout, logger: logger, migrations: migrations, walSync: WALSync.init(databasePath:))
    }

    /// `walSync` makes the WAL's syncer for the file's path; tests pass one that fails.
    static func open(
        path: String,
        busyTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "klaxon.store"),
        migrations: Int = SQLiteSchema.version,
        walSync makeWALSync: (String) throws -> WALSync,
        activeKeys: ActiveIncidentKeys = ActiveIncidentKeys()
    ) async throws -> SQLiteIncidentStore {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let database = try await NIOThreadPool.singleton.runIfActive {
            try SQLiteHandle(path: path, busyTimeout: busyTimeout, vfs: WALWriteGathering.register())
        }
        var reader: SQLiteHandle?
        var walSync: WALSync?
        do {
            reader = try await NIOThreadPool.singleton.runIfActive { () throws -> SQLiteHandle in
                _ = try database.query("PRAGMA journal_mode = WAL")
                // FULL, so that COMMIT writes its gathered frames at its sync (WALWriteGathering);
                // a transaction's COMMIT leaves the disk sync itself to WALSync.
                _ = try database.query("PRAGMA synchronous = FULL")
                // Checkpoints run on a connection of their own (startCheckpoints): a COMMIT
                // whose WAL sync is deferred must never copy the WAL into the database file.
                _ = try database.query("PRAGMA wal_autocheckpoint = 0")
                let reader = try SQLiteHandle(path: path, busyTimeout: busyTimeout)
                _ = try reader.query("PRAGMA query_only = 1")
                return reader
            }
            walSync = try makeWALSync(path)
            let store = SQLiteIncidentStore(database: database, reader: reader!, walSync: walSync!, activeKeys: activeKeys, path: path)
            try await store.migrate(upTo: migrations, logger: logger)
            // Fills the dedupe lookup now rather than in the first webhook's transaction. Not
            // a reason to fail the start: another process may hold the write lock, and then
            // the first write fills it, or answers 503 as any write would.
            _ = try? await store.transaction("BEGIN IMMEDIATE", on: database, gate: store.gate) { _ in }
            try await walSync!.sync()
            try await store.startCheckpoints(busyTimeout: busyTimeout)
            return store
        } catch {
            database.close()
            reader?.close()
            walSync?.shutdown()
            throw error as? StoreError ?? StoreError("cannot prepare SQLite store \(path): \(error)")
        }
    }

    private init(database: SQLiteHandle, reader: SQLiteHandle, walSync: WALSync, activeKeys: ActiveIncidentKeys, path: String) {
        self.database = database
        self.reader = reader
        self.walSync = walSync
        self.activeKeys = activeKeys
        self.path = path
    }

    /// The schema version of the open file.
    public func schemaVersion() async throws -> Int {
        let rows = try await gate.withGate { try database.query("PRAGMA user_version") }
        return Int(rows.first?.column("user_version")?.integer ?? 0)
    }

    /// The writer's `PRAGMA synchronous` (2: FULL, whose sync a transaction's COMMIT defers
    /// to ``WALSync``).
    func writerSynchronousMode() async throws -> Int {
        try await gate.withGate { Int(try database.query("PRAGMA synchronous").first?.values.first?.integer ?? -1) }
    }

    private func migrate(upTo target: Int, logger: Logger) async throws {
        let current = try await schemaVersion()
        if current > SQLiteSchema.version {
            throw StoreError(
                "SQLite store \(path) has schema version \(current), newer than this klaxon knows (\(SQLiteSchema.version)); run a newer klaxon"
            )
        }
        guard current < target else { return }
        for version in current..<target {
            do {
                try await NIOThreadPool.singleton.runIfActive { [database] in
                    _ = try database.query("BEGIN IMMEDIATE")
                    do {
                        for statement in SQLiteSchema.migrations[version] {
                            _ = try database.query(statement)
                        }
                        _ = try database.query("PRAGMA user_version = \(version + 1)")
                        _ = try database.query("COMMIT")
                    } catch {
                        _ = try? database.query("ROLLBACK")
                        throw error
                    }
                }
            } catch {
                throw StoreError("migrating SQLite store \(path) to schema version \(version + 1) failed: \(error)")
            }
            logger.info("store schema migrated", metadata: ["path": "\(path)", "version": "\(version + 1)"])
        }
    }

    /// Rows whose declared foreign key names no row (`PRAGMA foreign_key_check`), as
    /// "table rowid → parent": empty unless the engine has a bug.
    public func danglingReferences() async throws -> [String] {
        try await readGate.withGate {
            try reader.query("PRAGMA foreign_key_check").map { row in
                "\(row.column("table")?.string ?? "?") row \(row.column("rowid")?.integer.map(String.init) ?? "?") → \(row.column("parent")?.string ?? "?")"
            }
        }
    }

    /// Returns once the transaction is committed and on disk. The disk sync runs after the
    /// gate opens again, so the next transaction need not wait for it.
    public func write<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        if let failure = walSync.failure { throw failure }
        let result = try await transaction("BEGIN IMMEDIATE", on: database, gate: gate, body)
        do {
            try await walSync.sync()
        } catch {
            throw Self.durabilityError(error)
        }
        return result
    }

    /// The WAL's sync thread calls `whenDurable`.
    public func write<T: Sendable>(
        _ body: @Sendable (any IncidentTransaction) async throws -> T,
        whenDurable: @escaping @Sendable (Result<Void, DurabilityError>) -> Void
    ) async throws -> T {
        // Nothing is applied once commits cannot be made durable: the sender keeps its alerts.
        if let failure = walSync.failure { throw failure }
        let result = try await transaction("BEGIN IMMEDIATE", on: database, gate: gate, body)
        walSync.whenSynced { whenDurable($0.mapError(Self.durabilityError)) }
        return result
    }

    private static func durabilityError(_ error: any Error) -> DurabilityError {
        DurabilityError("store committed but could not make the commit durable: \(error)")
    }

    public func read<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        try await transaction("BEGIN DEFERRED", on: reader, gate: readGate, body)
    }

    /// Statements run inline. Only a write's BEGIN may wait long (another process holding
    /// the write lock), and then it waits on the thread pool; a write's COMMIT writes the
    /// WAL but leaves its disk sync to ``WALSync``, which every caller then waits for.
    private func transaction<T: Sendable>(
        _ begin: String,
        on database: SQLiteHandle,
        gate: SerialGate,
        _ body: @Sendable (any IncidentTransaction) async throws -> T
    ) async throws -> T {
        try await gate.withGate {
            do {
                if begin == "BEGIN IMMEDIATE" {
                    if !database.beginWithoutWaiting() {
                        try await NIOThreadPool.singleton.runIfActive { _ = try database.query(begin) }
                    }
                } else {
                    _ = try database.query(begin)
                }
            } catch {
                if begin == "BEGIN IMMEDIATE" { lastWriteFailure.withLock { $0 = "\(error)" } }
                throw StoreError("store unavailable: \(error)")
            }
            let isWrite = begin == "BEGIN IMMEDIATE"
            let transaction = SQLiteTransaction(database: database, keys: isWrite ? (activeKeys, StagedKeyChanges()) : nil)
            let result: T
            do {
                if isWrite {
                    // The write lock is held: what the file holds now is what this sees.
                    let dataVersion = try transaction.dataVersion()
                    if activeKeys.needsFilling(dataVersion: dataVersion) {
                        try activeKeys.fill(
                            dataVersion: dataVersion,
                            unresolved: transaction.forEachUnresolvedIncidentKey,
                            stormKeys: transaction.forEachStormKey
                        )
                    }
                }
                result = try await body(transaction)
            } catch {
                // A transaction still open after a failed ROLLBACK may yet commit.
                if (try? database.query("ROLLBACK")) == nil, let keys = transaction.keys {
                    keys.active.applyMayHaveCommitted(keys.staged.changes)
                }
                throw error
            }
            do {
                if isWrite {
                    _ = try WALWriteGathering.deferringCommitSync { try database.query("COMMIT") }
                } else {
                    _ = try database.query("COMMIT")
                }
            } catch {
                // A failed COMMIT does not say whether it took effect.
                if let keys = transaction.keys { keys.active.applyMayHaveCommitted(keys.staged.changes) }
                _ = try? database.query("ROLLBACK")
                if isWrite { lastWriteFailure.withLock { $0 = "\(error)" } }
                throw StoreError("store could not commit: \(error)")
            }
            if let keys = transaction.keys {
                keys.active.apply(keys.staged.changes)
                lastWriteFailure.withLock { $0 = nil }
            }
            return result
        }
    }

    public func ping() async throws {
        if let failure = walSync.failure { throw StoreError("store unavailable: \(failure)") }
        // After a failed write, ready again only once a write can begin: without it, an idle
        // store whose file another process holds would look ready while every webhook gets
        // its 503.
        if let failure = lastWriteFailure.withLock({ $0 }) {
            let free = try await gate.withGate { () -> Bool in
                guard database.beginWithoutWaiting() else { return false }
                _ = try? database.query("ROLLBACK")
                return true
            }
            guard free else { throw StoreError("store unavailable: writes fail (\(failure))") }
            lastWriteFailure.withLock { $0 = nil }
        }
        try await readGate.withGate {
            do {
                _ = try reader.query("SELECT 1")
            } catch {
                throw StoreError("store unavailable: \(error)")
            }
        }
    }

    /// WAL checkpoints in two phases on a connection of their own. SQLite's automatic
    /// checkpoint runs inside a commit and held webhooks up to a quarter of a second.
    /// Here a PASSIVE checkpoint copies the bulk while commits go on; once little is left,
    /// the last frames are copied with commits and reads held, so the WAL is wholly copied
    /// and the next commit starts it over (a checkpoint that never finishes under steady
    /// writes would let the WAL grow without bound).
    private func startCheckpoints(busyTimeout: Duration) async throws {
        let path = self.path
        let checkpointer = try await NIOThreadPool.singleton.runIfActive {
            let checkpointer = try SQLiteHandle(path: path, busyTimeout: busyTimeout)
            // A checkpoint syncs the WAL before copying it and the database file after, so
            // the WAL is never started over while the file lacks what it held.
            _ = try checkpointer.query("PRAGMA synchronous = FULL")
            return checkpointer
        }
        let task = Task.detached { [gate, readGate] in
            func checkpoint() async -> (frames: Int, copied: Int) {
                let row = try? await NIOThreadPool.singleton.runIfActive { try checkpointer.query("PRAGMA wal_checkpoint(PASSIVE)").first }
                return (Int(row?.values[1].integer ?? 0), Int(row?.values[2].integer ?? 0))
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                var (frames, copied) = await checkpoint()
                guard frames >= Self.checkpointFrames else { continue }
                // Catch up while commits go on, then finish with them held.
                for _ in 0..<5 where frames - copied > Self.checkpointFrames / 10 {
                    (frames, copied) = await checkpoint()
                }
                _ = try? await gate.withGate { try await readGate.withGate { await checkpoint() } }
            }
            checkpointer.close()
        }
        checkpoints.withLock { $0 = task }
    }

    /// The WAL's size (in pages) at which it is copied back: SQLite's default.
    static let checkpointFrames = 1000

    public func close() async throws {
        if let task = checkpoints.withLock({ $0 }) {
            task.cancel()
            await task.value
        }
        try await gate.withGate {
            try await readGate.withGate {
                if !reader.isClosed { reader.close() }
            }
            if !database.isClosed { database.close() }
        }
        walSync.shutdown()
    }
}
