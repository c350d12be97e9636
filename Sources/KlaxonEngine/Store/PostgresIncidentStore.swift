import Foundation
import KlaxonCore
import Logging
import Metrics
import NIOSSL
import PostgresNIO
import Synchronization

/// The store several `klaxon serve` instances share: a PostgreSQL database.
///
/// Every write transaction first takes one transaction-scoped advisory lock, so writes
/// are serialised across all instances as they are on SQLite's single writer: two
/// instances given the same alert find each other's incident, and a due step is claimed
/// by exactly one of them. Commits are durable when they return (PostgreSQL's
/// `synchronous_commit`), and many webhooks still share one (``GroupCommit``).
///
/// Each instance has a row in `instances`, written when it opens the store and refreshed
/// by ``heartbeat()``. The steps an instance claims carry its id; once it said goodbye on
/// closing, or the database has not heard from it for `lease` while it heard from the
/// instance looking without a gap, the other instances take its running steps over, as a
/// restarted SQLite process does its own. An instance that lost a step that way neither
/// calls for it nor closes it (``IncidentTransaction/claim(stepID:)``).
public final class PostgresIncidentStore: IncidentStore {
    private let client: PostgresClient
    private let run: Task<Void, Never>
    private let failures: PostgresConnectionFailures
    private let logger: Logger
    private let lockTimeout: Duration
    private let idleTransactionTimeout: Duration
    private let answerTimeout: Duration
    private let connectTimeout: Duration
    private let lease: Duration
    private let localClock: @Sendable () -> Date
    /// The latest ``clockOffset``, and when its warning was last logged.
    private let offset = Mutex<(latest: Duration?, warned: ContinuousClock.Instant?)>((nil, nil))
    /// This process's row in `instances`.
    public let instanceID: String
    /// The URL without its password, for messages.
    public let displayURL: String

    /// The lock every write transaction takes: "klaxon" in ASCII.
    static let writeLock: Int64 = 0x6b6c_6178_6f6e

    /// The database server's clock in milliseconds since 1970, for liveness: instances'
    /// own clocks need not agree.
    static let serverMilliseconds = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=...`),
    /// brings the schema up to date and registers this instance. A write waits up to
    /// `lockTimeout` for another instance's, any operation up to `connectTimeout` for a
    /// connection, and a statement up to `answerTimeout` (beyond its wait for the lock) for
    /// the server's answer, then fails with ``StoreError`` (a 503). `migrations` below the current
    /// version makes an older schema, for tests of upgrades, and registers no instance.
    public static func open(
        url: String,
        lockTimeout: Duration = .seconds(5),
        idleTransactionTimeout: Duration = .seconds(10),
        answerTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        lease: Duration = .seconds(30),
        logger: Logger = Logger(label: "klaxon.store"),
        migrations: Int = PostgresSchema.version,
        localClock: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> PostgresIncidentStore {
        var (configuration, displayURL) = try configuration(url)
        configuration.options.connectTimeout = connectTimeout
        let failures = PostgresConnectionFailures()
        let client = PostgresClient(configuration: configuration, backgroundLogger: failures.recording(logger))
        // Queries wait for the client's run() (and log a warning if it has not begun): the
        // store waits for its task to start before the first.
        var run: Task<Void, Never>?
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            run = Task {
                started.resume()
                await client.run()
            }
        }
        let store = PostgresIncidentStore(
            client: client,
            run: run!,
            failures: failures,
            logger: logger,
            lockTimeout: lockTimeout,
            idleTransactionTimeout: idleTransactionTimeout,
            answerTimeout: answerTimeout,
            connectTimeout: connectTimeout,
            lease: lease,
            localClock: localClock,
            displayURL: displayURL
        )
        do {
            try await store.migrate(upTo: migrations)
            if migrations == PostgresSchema.version { try await store.heartbeat() }
        } catch {
            store.run.cancel()
            await store.run.value
            if let error = error as? StoreError, error.message.contains(displayURL) { throw error }
            throw StoreError("cannot open PostgreSQL store \(displayURL): \(error)")
        }
        return store
    }

    private init(
        client: PostgresClient,
        run: Task<Void, Never>,
        failures: PostgresConnectionFailures,
        logger: Logger,
        lockTimeout: Duration,
        idleTransactionTimeout: Duration,
        answerTimeout: Duration,
        connectTimeout: Duration,
        lease: Duration,
        localClock: @escaping @Sendable () -> Date,
        displayURL: String
    ) {
        self.client = client
        self.run = run
        self.failures = failures
        self.logger = logger
        self.lockTimeout = lockTimeout
        self.idleTransactionTimeout = idleTransactionTimeout
        self.answerTimeout = answerTimeout
        self.connectTimeout = connectTimeout
        self.lease = lease
        self.localClock = localClock
        self.instanceID = UUID().uuidString.lowercased()
        self.displayURL = displayURL
    }

    /// The client's configuration for `url`, and the URL without its password.
    static func configuration(_ url: String) throws -> (PostgresClient.Configuration, String) {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty
        else {
            throw StoreError("store \(redacted(url)): expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError("store \(redacted(url)): the URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        // libpq's modes: `prefer` and `require` encrypt without checking the certificate
        // (Debian's PostgreSQL offers TLS with a self-signed one), `verify-full` checks it
        // and the host name.
        var unchecked = TLSConfiguration.makeClientConfiguration()
        unchecked.certificateVerification = .none
        let tls: PostgresClient.Configuration.TLS
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(unchecked)
        case "require": tls = .require(unchecked)
        case "verify-full": tls = .require(.makeClientConfiguration())
        default:
            throw StoreError("store \(redacted(url)): sslmode must be disable, prefer, require or verify-full, got \"\(mode)\"")
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: components.password,
            database: database.isEmpty ? user : database,
            tls: tls
        )
        configuration.options.maximumConnections = 8
        return (configuration, redacted(url))
    }

    /// `url` with its password replaced, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// A short account of a PostgreSQL error: the server's message and SQLSTATE, or what
    /// failed on the way. Not `description`, which PostgresNIO keeps generic on purpose.
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return "PostgreSQL: \(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying as? PSQLError { return describe(underlying) }
        if let underlying = error.underlying { return "PostgreSQL \(error.code): \(underlying)" }
        return "PostgreSQL: \(error.code)"
    }

    private func migrate(upTo target: Int) async throws {
        let displayURL = self.displayURL
        try await transaction(write: true, migrating: true) { session in
            let logger = session.logger
            try await session.execute("CREATE TABLE IF NOT EXISTS klaxon_schema (version INTEGER NOT NULL)")
            var current = 0
            if let row = try await session.execute("SELECT version FROM klaxon_schema").first {
                current = Int(try row.int64("version"))
            } else {
                try await session.execute("INSERT INTO klaxon_schema (version) VALUES (0)")
            }
            if current > PostgresSchema.version {
                throw StoreError(
                    "PostgreSQL store \(displayURL) has schema version \(current), newer than this klaxon knows (\(PostgresSchema.version)); run a newer klaxon"
                )
            }
            guard current < target else { return }
            for version in current..<target {
                for statement in PostgresSchema.migrations[version] {
                    try await session.execute(statement)
                }
                logger.info("store schema migrated", metadata: ["store": "\(displayURL)", "version": "\(version + 1)"])
            }
            try await session.execute("UPDATE klaxon_schema SET version = $1", [.int(target)])
        }
    }

    /// The schema version of the database.
    public func schemaVersion() async throws -> Int {
        try await transaction(write: false) { session in
            Int(try await session.execute("SELECT version FROM klaxon_schema").first?.int64("version") ?? 0)
        }
    }

    // MARK: IncidentStore

    public func write<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            try await transaction(write: true) { session in try await body(self.transaction(in: session)) }
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            try await transaction(write: false) { session in try await body(self.transaction(in: session)) }
        }
    }

    private func transaction(in session: PostgresSession) -> PostgresTransaction {
        PostgresTransaction(session: session, instanceID: instanceID, leaseMilliseconds: lease.milliseconds)
    }

    /// Runs `body` between BEGIN and COMMIT on one leased connection; a write first takes
    /// the write lock (waiting up to the lock timeout), a read sees one snapshot. Every
    /// statement's result is read to its end: PostgresNIO reports a statement's error
    /// there, and a COMMIT after an unseen error would roll back without a word.
    private func transaction<T: Sendable>(
        write: Bool,
        readOnly: Bool = true,
        migrating: Bool = false,
        _ body: @escaping @Sendable (PostgresSession) async throws -> T
    ) async throws -> T {
        let (logger, lockTimeout, idleTimeout) = (self.logger, self.lockTimeout, self.idleTransactionTimeout)
        let answerTimeout = migrating ? nil : self.answerTimeout
        return try await leased { connection in
            let session = PostgresSession(connection: connection, logger: logger, answerTimeout: answerTimeout)
            // READ COMMITTED named, not taken from the database's default: under REPEATABLE
            // READ a write's snapshot would be taken before its wait for the lock, and it would
            // not see what the holder it waited for committed (a second incident for one key).
            try await session.execute(
                write || !readOnly ? "BEGIN ISOLATION LEVEL READ COMMITTED" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            )
            let result: T
            do {
                if write {
                    // SET LOCAL lock_timeout, then the lock, in one round trip: the subquery
                    // in FROM runs before the select list. The server ends a holder that goes
                    // quiet mid-transaction (a frozen VM, a cut network) after the idle
                    // timeout; otherwise its lock would stop every instance's writes until its
                    // TCP keepalive gave up, some two hours.
                    try await session.execute(
                        """
                        SELECT pg_advisory_xact_lock(\(Self.writeLock))
                        FROM (SELECT set_config('lock_timeout', '\(lockTimeout.milliseconds)', true),
                            set_config('idle_in_transaction_session_timeout', '\(idleTimeout.milliseconds)', true)) AS timeouts
                        """,
                        extraWait: lockTimeout
                    )
                }
                result = try await body(session)
                try await session.execute("COMMIT")
            } catch {
                _ = try? await session.execute("ROLLBACK")
                throw error
            }
            return result
        }
    }

    /// Runs `work` on a connection from the pool. The pool waits for a connection for as
    /// long as it takes (it keeps trying a server that is down), so a connection not had
    /// within the connect timeout fails the operation: a webhook gets its 503 in seconds.
    /// Once `work` has its connection the deadline no longer applies, and after the deadline
    /// `work` never starts, so a transaction is never cut off halfway.
    private func leased<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let race = LeaseRace()
        let (client, deadline, failures) = (self.client, self.connectTimeout, self.failures)
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    while true {
                        let result: T? = try await client.withConnection { connection in
                            // One the server has ended and the pool has not yet let go of (a
                            // restart, a failover): another is taken, as for no connection.
                            guard !connection.isClosed else { return nil }
                            let started = race.state.withLock { state -> Bool in
                                guard !state.timedOut else { return false }
                                state.connected = true
                                return true
                            }
                            guard started else { throw CancellationError() }
                            return try await work(connection)
                        }
                        if let result { return result }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    let timedOut = race.state.withLock { state -> Bool in
                        guard !state.connected else { return false }
                        state.timedOut = true
                        return true
                    }
                    guard timedOut else { return nil }
                    let reason = failures.lastFailure.map { "; the last attempt: \($0)" } ?? ""
                    throw StoreError("store unavailable: no connection to PostgreSQL within \(deadline)\(reason)")
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch let error as PSQLError {
            throw StoreError("store unavailable: \(Self.describe(error))")
        }
    }

    public func ping() async throws {
        _ = try await transaction(write: false) { session in try await session.execute("SELECT 1").count }
    }

    public var heartbeatInterval: Duration? { lease / 3 }

    /// Refreshes this instance's row, and measures this machine's clock against the
    /// database server's (``clockOffset``).
    public func heartbeat() async throws {
        let before = localClock()
        let serverNow = try await beat(as: instanceID)
        let after = localClock()
        let local = before.millisecondsSince1970 + (after.millisecondsSince1970 - before.millisecondsSince1970) / 2
        let measured = Duration.milliseconds(serverNow - local)
        Gauge(label: "klaxon_store_clock_offset_seconds").record(Double(serverNow - local) / 1000)
        let warn = offset.withLock { state -> Bool in
            state.latest = measured
            guard measured > Self.clockOffsetTolerance || measured < .zero - Self.clockOffsetTolerance else { return false }
            if let warned = state.warned, ContinuousClock.now - warned < .seconds(600) { return false }
            state.warned = ContinuousClock.now
            return true
        }
        if warn {
            logger.warning(
                "this machine's clock is off from the PostgreSQL server's; dedupe, storm and rate-limit windows compare times written by every instance, so keep the instances' clocks in sync (NTP)",
                metadata: ["offset": "\(measured)", "store": "\(displayURL)"]
            )
        }
    }

    /// How far the database server's clock is ahead of this machine's (negative: behind),
    /// as the last heartbeat measured it; nil before the first.
    public var clockOffset: Duration? { offset.withLock { $0.latest } }

    /// Past this, ``heartbeat()`` logs a warning (at most every ten minutes).
    public static let clockOffsetTolerance = Duration.seconds(1)

    /// The heartbeat of instance `id`: writes its row anew if it has none, refreshes it
    /// unless it said goodbye (a heartbeat that reaches the server after ``close()``
    /// changes nothing), and keeps `heard_since` unless the database went more than two
    /// heartbeat intervals without hearing from it. Returns the server's clock.
    func beat(as id: String) async throws -> Int64 {
        let binds: [PostgresBind] = [
            .text(id), .text(ProcessInfo.processInfo.hostName), .int(Int64(ProcessInfo.processInfo.processIdentifier)),
            .int(2 * (lease / 3).milliseconds),
        ]
        return try await transaction(write: false, readOnly: false) { session in
            let rows = try await session.execute(
                """
                WITH beat AS (
                    INSERT INTO instances (id, host, pid, started_at, seen_at, heard_since)
                    SELECT $1, $2, $3, now.ms, now.ms, now.ms FROM (SELECT \(Self.serverMilliseconds) AS ms) AS now
                    ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at,
                        heard_since = CASE WHEN instances.seen_at >= excluded.seen_at - $4 THEN instances.heard_since ELSE excluded.seen_at END
                    WHERE NOT instances.stopped
                )
                SELECT \(Self.serverMilliseconds) AS now
                """,
                binds
            )
            guard let row = rows.first else { throw StoreError("the heartbeat returned no time") }
            return try row.int64("now")
        }
    }

    /// Says goodbye (so the others need not wait out the lease for steps this instance
    /// left running) and closes the connections. The row stays, flagged, for a day.
    public func close() async throws {
        let instanceID = self.instanceID
        do {
            _ = try await transaction(write: false, readOnly: false) { session in
                try await session.execute(
                    "UPDATE instances SET stopped = TRUE, seen_at = \(Self.serverMilliseconds) WHERE id = $1",
                    [.text(instanceID)]
                )
                try await session.execute("DELETE FROM instances WHERE stopped AND seen_at < \(Self.serverMilliseconds) - 86400000")
            }
        } catch {
            logger.warning("could not remove this instance from the store", metadata: ["error": "\(error)"])
        }
        run.cancel()
        await run.value
    }
}

/// Whichever comes first of a connection and the deadline (``PostgresIncidentStore``).
private final class LeaseRace: Sendable {
    let state = Mutex((connected: false, timedOut: false))
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
