import Foundation
import KlaxonCore
import Logging
import SQLiteNIO

/// The embedded store: one SQLite file in WAL mode, written by one connection.
///
/// Durability: `synchronous=FULL`, so a committed transaction survives a crash of the
/// process and of the machine. A second process holding the file's lock makes writes wait
/// up to `busyTimeout`, then fail with ``StoreError`` (answered 503, so senders retry).
public final class SQLiteIncidentStore: IncidentStore {
    let connection: SQLiteConnection
    private let gate = SerialGate()
    public let path: String

    /// Opens (creating when missing) the file and brings its schema up to date.
    /// `migrations` limits how many are applied; only tests of upgrades pass it.
    public static func open(
        path: String,
        busyTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "klaxon.store"),
        migrations: Int = SQLiteSchema.version
    ) async throws -> SQLiteIncidentStore {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError("cannot open SQLite store \(path): \(error)")
        }
        let store = SQLiteIncidentStore(connection: connection, path: path)
        do {
            // busy_timeout replaces sqlite-nio's retry-forever busy handler.
            _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeout.components.seconds * 1000)")
            _ = try await connection.query("PRAGMA journal_mode = WAL")
            _ = try await connection.query("PRAGMA synchronous = FULL")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            try await store.migrate(upTo: migrations, logger: logger)
        } catch {
            try? await connection.close()
            throw error as? StoreError ?? StoreError("cannot prepare SQLite store \(path): \(error)")
        }
        return store
    }

    private init(connection: SQLiteConnection, path: String) {
        self.connection = connection
        self.path = path
    }

    /// The schema version of the open file.
    public func schemaVersion() async throws -> Int {
        let rows = try await connection.query("PRAGMA user_version")
        return Int(rows.first?.column("user_version")?.integer ?? 0)
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
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                for statement in SQLiteSchema.migrations[version] {
                    _ = try await connection.query(statement)
                }
                _ = try await connection.query("PRAGMA user_version = \(version + 1)")
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw StoreError("migrating SQLite store \(path) to schema version \(version + 1) failed: \(error)")
            }
            logger.info("store schema migrated", metadata: ["path": "\(path)", "version": "\(version + 1)"])
        }
    }

    public func write<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        try await transaction("BEGIN IMMEDIATE", body)
    }

    public func read<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        try await transaction("BEGIN DEFERRED", body)
    }

    private func transaction<T: Sendable>(_ begin: String, _ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        try await gate.withGate {
            do {
                _ = try await connection.query(begin)
            } catch {
                throw StoreError("store unavailable: \(error)")
            }
            let result: T
            do {
                result = try await body(SQLiteTransaction(connection: connection))
            } catch {
                _ = try? await connection.query("ROLLBACK")
                if let error = error as? SQLiteError { throw StoreError("store failed: \(error)") }
                throw error
            }
            do {
                _ = try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw StoreError("store could not commit: \(error)")
            }
            return result
        }
    }

    public func ping() async throws {
        try await gate.withGate {
            do {
                _ = try await connection.query("SELECT 1")
            } catch {
                throw StoreError("store unavailable: \(error)")
            }
        }
    }

    public func close() async throws {
        try await gate.withGate {
            if !connection.isClosed { try await connection.close() }
        }
    }
}
