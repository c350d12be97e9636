import Foundation
import KlaxonCore
import KlaxonTestSupport
import Logging
import Testing

@testable import KlaxonEngine

/// What only the PostgreSQL store does: several instances on one database, its lock, a
/// server that goes away, its URLs. The engine's own behaviour is tested on both stores in
/// the other suites.
@Suite("PostgreSQL store: instances, the write lock, outages, URLs")
struct PostgresStoreTests {
    @Test func twoInstancesGivenTheSameAlertsOpenOneIncidentEachAndCallOnce() async throws {
        let (a, b) = try await Self.twoInstances()
        defer { Self.close(a, b) }

        // Alertmanager replicas post every alert to both instances at once.
        let alerts = (1...20).map { dbAlert("db-\($0)") }
        try await withThrowingTaskGroup(of: IngestSummary.self) { group in
            for alert in alerts {
                group.addTask { try await a.ingest(alert) }
                group.addTask { try await b.ingest(alert) }
            }
            var opened = 0
            var deduplicated = 0
            for try await summary in group {
                opened += summary.opened.count
                deduplicated += summary.deduplicated
            }
            #expect(opened == 20)
            #expect(deduplicated == 20)
        }
        // Both schedulers find the due first steps; each is claimed and called once.
        async let fromA = a.engine.runDueSteps()
        async let fromB = b.engine.runDueSteps()
        #expect(try await fromA + fromB == 20)
        let called = a.provider.requests + b.provider.requests
        #expect(called.count == 20)
        #expect(Set(called.map { $0.params.first ?? "" }) == Set((1...20).map { "db-\($0)" }))
        #expect(called.allSatisfy { $0.recipients.map(\.name) == ["alice", "bob"] })
    }

    @Test func aStepLeftRunningByAnInstanceThatStoppedIsTakenOverAfterTheLease() async throws {
        let a = try await EngineHarness.make(on: .postgres)
        let opened = try await a.ingest(dbAlert())
        // Instance a claims step 1, records alice's call as accepted and bob's as started,
        // and is then heard from no more (killed: no goodbye, no heartbeat).
        try await a.claimFirstStepAndDieWithCallsStarted()
        let b = try await EngineHarness.make(on: .postgres, databaseURL: a.databaseURL)
        defer { Self.close(a, b) }

        // Within the lease (30 s) the step is a's: b leaves it alone.
        #expect(try await b.engine.recoverInterruptedWork() == (steps: 0, calls: 0))
        #expect(try await b.engine.runDueSteps() == 0)

        // b's next heartbeat interval takes the step over.
        try await Self.takeForGone(a, by: b)
        #expect(try await b.engine.runDueSteps() == 1)
        #expect(b.provider.calledNames == ["bob"])
        #expect(a.provider.requests.isEmpty)
        let detail = try await b.detail(opened.opened[0])
        #expect(detail.calls.map(\.state) == [.accepted, .interrupted, .accepted])
        #expect(detail.events.map(\.kind).contains("step_requeued"))
    }

    @Test func aLiveInstanceKeepsItsRunningStepsPastTheLeaseByItsHeartbeat() async throws {
        let a = try await EngineHarness.make(on: .postgres)
        _ = try await a.ingest(dbAlert())
        _ = try await a.store.write { try await $0.claimDueSteps(now: a.start, limit: 10) }
        let b = try await EngineHarness.make(on: .postgres, databaseURL: a.databaseURL)
        defer { Self.close(a, b) }
        // a's claim is older than the lease, but a has just said it is alive.
        try await Self.lastHeard(from: a, secondsAgo: 31)
        try await a.store.heartbeat()
        try await Self.keepAlive(b)
        #expect(try await b.engine.runDueSteps() == 0)
        #expect(b.provider.requests.isEmpty)
    }

    /// After an outage longer than the lease every instance looks dead to the first one
    /// back; it has not heard from the others for a lease, but nor from anybody. Each
    /// instance keeps its running steps, and the one that claimed a step calls for it. That
    /// holds whether the first one back says it is alive before its takeover work runs or
    /// after: then the database has not heard from it for as long as from the others.
    @Test(arguments: [true, false]) func anOutageLongerThanTheLeaseLeavesEachInstanceItsRunningSteps(heartbeatFirst: Bool) async throws {
        let (a, b) = try await Self.twoInstances()
        defer { Self.close(a, b) }
        _ = try await a.ingest(dbAlert())
        let step = try #require(try await a.engine.claimDueSteps().first)

        // b had been heard without a gap for 31 s; then the database was unreachable for
        // 40 s: it heard from neither. b is back first.
        try await Self.heardWithoutAGap(from: b, forSeconds: 31)
        try await Self.lastHeard(from: a, secondsAgo: 40)
        try await Self.lastHeard(from: b, secondsAgo: 40)
        if heartbeatFirst {
            try await Self.keepAlive(b)
        } else {
            try await b.engine.recoverInterruptedWork()
        }
        #expect(try await b.engine.runDueSteps() == 0)
        await a.engine.execute(step)
        #expect(a.provider.calledNames.sorted() == ["alice", "bob"])
        #expect(b.provider.requests.isEmpty)
        let detail = try await a.detail(step.incidentID)
        #expect(detail.steps.first?.state == .done)
        #expect(detail.calls.allSatisfy { $0.state == .accepted })
    }

    /// a was taken for dead (unheard for a lease while b was heard) after it had claimed a
    /// step but before it placed the calls: b claims the step, and a does not call for it.
    @Test func anInstanceThatLostItsStepDoesNotCallForIt() async throws {
        let (a, b) = try await Self.twoInstances()
        defer { Self.close(a, b) }
        _ = try await a.ingest(dbAlert())
        let step = try #require(try await a.engine.claimDueSteps().first)
        try await Self.takeForGone(a, by: b)
        let taken = try await b.engine.claimDueSteps()
        #expect(taken.map(\.id) == [step.id])

        await a.engine.execute(step)
        #expect(a.provider.requests.isEmpty)
        for step in taken { await b.engine.execute(step) }
        #expect(b.provider.calledNames.sorted() == ["alice", "bob"])
    }

    /// a is taken for dead while its vendor is placing the calls: its calls are interrupted
    /// and its step requeued and claimed by b. Its outcomes, when they come, are recorded
    /// (so b calls nobody a reached), but the step is left to b to close.
    @Test func anInstanceThatLostItsStepMidCallRecordsTheOutcomesAndLeavesTheStep() async throws {
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let gated = RecordingProvider(before: {
            enter.yield()
            for await _ in released { break }
        })
        let (a, b) = try await Self.twoInstances(providerOfA: gated)
        defer { Self.close(a, b) }
        let opened = try await a.ingest(dbAlert())
        let step = try #require(try await a.engine.claimDueSteps().first)
        let running = Task { await a.engine.execute(step) }
        for await _ in entered { break }

        try await Self.takeForGone(a, by: b)
        let taken = try await b.engine.claimDueSteps()
        #expect(taken.map(\.id) == [step.id])
        release.yield()
        await running.value
        #expect(try await b.store.read { try await $0.steps(incidentID: step.incidentID) }.first?.state == .running)

        // b runs the step for whoever a did not reach: nobody.
        for step in taken { await b.engine.execute(step) }
        #expect(b.provider.requests.isEmpty)
        let detail = try await b.detail(opened.opened[0])
        #expect(detail.calls.map(\.state) == [.accepted, .accepted])
        #expect(detail.steps.first?.state == .done)
    }

    /// a, cut off from the database for longer than the lease while running a step, had it
    /// requeued by b and then claimed it back before b did: the run a still has is the only
    /// one, and the people are called once.
    @Test func aStepClaimedBackWhileItsRunGoesOnIsNotRunTwice() async throws {
        let (a, b) = try await Self.twoInstances()
        defer { Self.close(a, b) }
        _ = try await a.ingest(dbAlert())
        let step = try #require(try await a.engine.claimDueSteps().first)
        try await Self.takeForGone(a, by: b)
        #expect(try await a.engine.claimDueSteps().isEmpty)
        await a.engine.execute(step)
        #expect(a.provider.calledNames.sorted() == ["alice", "bob"])
        #expect(try await b.engine.runDueSteps() == 0)
        #expect(b.provider.requests.isEmpty)
    }

    /// The steps requeued and the calls interrupted are decided once: a heartbeat that
    /// lands between the two statements does not leave a requeued step's calls started, nor
    /// interrupt the calls of a step it keeps.
    @Test func recoveryDecidesWhichInstancesAreGoneOnceATransaction() async throws {
        let a = try await EngineHarness.make(on: .postgres)
        _ = try await a.ingest(dbAlert())
        try await a.claimFirstStepAndDieWithCallsStarted()
        let b = try await EngineHarness.make(on: .postgres, databaseURL: a.databaseURL)
        defer { Self.close(a, b) }
        try await Self.lastHeard(from: a, secondsAgo: 31)
        try await Self.heardWithoutAGap(from: b, forSeconds: 31)
        let url = try #require(a.databaseURL)
        let aID = try #require(a.store as? PostgresIncidentStore).instanceID
        let (calls, steps) = try await b.store.write { transaction in
            let calls = try await transaction.interruptStartedCalls(at: b.start)
            // a's heartbeat commits in between.
            _ = try await TestPostgres.execute("UPDATE instances SET seen_at = seen_at + 31000 WHERE id = '\(aID)'", in: url)
            let steps = try await transaction.requeueRunningSteps()
            return (calls.count, steps.count)
        }
        #expect(calls == 1)
        #expect(steps == 1)
    }

    /// A heartbeat of a's that reaches the server after a's goodbye does not bring a back:
    /// b takes a's running step over at once instead of waiting out the lease.
    @Test func aHeartbeatAfterTheGoodbyeDoesNotBringTheInstanceBack() async throws {
        let a = try await EngineHarness.make(on: .postgres)
        _ = try await a.ingest(dbAlert())
        try await a.claimFirstStepAndDieWithCallsStarted()
        let b = try await EngineHarness.make(on: .postgres, databaseURL: a.databaseURL)
        defer { Task { try? await b.close() } }
        let aID = try #require(a.store as? PostgresIncidentStore).instanceID
        try await a.close()
        _ = try await #require(b.store as? PostgresIncidentStore).beat(as: aID)

        try await Self.keepAlive(b)
        #expect(try await b.engine.runDueSteps() == 1)
        #expect(b.provider.calledNames == ["bob"])
    }

    /// Each heartbeat measures this machine's clock against the server's.
    @Test func theHeartbeatMeasuresTheClockOffsetFromTheServer() async throws {
        let url = try await TestPostgres.makeDatabase()
        let behind = try await Self.openStore(url, localClock: { Date().addingTimeInterval(-300) })
        let inStep = try await Self.openStore(url)
        defer {
            Task {
                try? await behind.close()
                try? await inStep.close()
            }
        }
        let offset = try #require(behind.clockOffset)
        #expect(offset > .seconds(299) && offset < .seconds(301), "\(offset)")
        let small = try #require(inStep.clockOffset)
        #expect(small > .seconds(-1) && small < .seconds(1), "\(small)")
    }

    /// Two instances on one new database.
    static func twoInstances(providerOfA: RecordingProvider = RecordingProvider()) async throws -> (EngineHarness, EngineHarness) {
        let a = try await EngineHarness.make(on: .postgres, provider: providerOfA)
        return (a, try await EngineHarness.make(on: .postgres, databaseURL: a.databaseURL))
    }

    static func close(_ instances: EngineHarness...) {
        Task { for instance in instances { try? await instance.close() } }
    }

    /// b takes a for gone: the database last heard from a 31 s ago and from b without a gap
    /// all that time, and b's heartbeat interval passes.
    static func takeForGone(_ a: EngineHarness, by b: EngineHarness) async throws {
        try await lastHeard(from: a, secondsAgo: 31)
        try await heardWithoutAGap(from: b, forSeconds: 31)
        try await keepAlive(b)
    }

    /// What the scheduler does every heartbeat interval: says the instance is alive, then
    /// takes over the work of the instances it judges gone.
    static func keepAlive(_ instance: EngineHarness) async throws {
        try await instance.store.heartbeat()
        try await instance.engine.recoverInterruptedWork()
    }

    /// Moves the time the database last heard from `instance` back, by its own clock.
    static func lastHeard(from instance: EngineHarness, secondsAgo: Int) async throws {
        let id = try #require(instance.store as? PostgresIncidentStore).instanceID
        let url = try #require(instance.databaseURL)
        try await TestPostgres.execute("UPDATE instances SET seen_at = seen_at - \(secondsAgo * 1000) WHERE id = '\(id)'", in: url)
    }

    /// Makes the database have heard from `instance` without a gap for the last `seconds`.
    static func heardWithoutAGap(from instance: EngineHarness, forSeconds seconds: Int) async throws {
        let id = try #require(instance.store as? PostgresIncidentStore).instanceID
        let url = try #require(instance.databaseURL)
        try await TestPostgres.execute("UPDATE instances SET heard_since = seen_at - \(seconds * 1000) WHERE id = '\(id)'", in: url)
    }

    /// Starts a write on `store` that takes the write lock and keeps it until `release` is
    /// called, then runs `body` in the same transaction; returns once the lock is held.
    static func holdingTheWriteLock<T: Sendable>(
        _ store: PostgresIncidentStore,
        then body: @escaping @Sendable (any IncidentTransaction) async throws -> T
    ) async -> (held: Task<T, any Error>, release: @Sendable () -> Void) {
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let held = Task {
            // A write that fails before it holds the lock ends the wait for it too.
            defer { enter.finish() }
            return try await store.write { transaction in
                enter.yield()
                for await _ in released { break }
                return try await body(transaction)
            }
        }
        for await _ in entered { break }
        return (held, { release.yield() })
    }

    /// A store for a test that times no wait but the lock's: every other wait is the
    /// loaded machine's (``loadedMachineTimeout``).
    static func openStore(
        _ url: String,
        lockTimeout: Duration = .seconds(5),
        migrations: Int = PostgresSchema.version,
        localClock: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> PostgresIncidentStore {
        try await PostgresIncidentStore.open(
            url: url,
            lockTimeout: lockTimeout,
            idleTransactionTimeout: loadedMachineTimeout,
            answerTimeout: loadedMachineTimeout,
            connectTimeout: loadedMachineTimeout,
            migrations: migrations,
            localClock: localClock
        )
    }

    @Test func aWriteWaitsForAnotherInstancesWriteUpToTheLockTimeout() async throws {
        let url = try await TestPostgres.makeDatabase()
        let holder = try await Self.openStore(url)
        let waiter = try await Self.openStore(url, lockTimeout: .milliseconds(200))
        defer {
            Task {
                try? await holder.close()
                try? await waiter.close()
            }
        }
        let (held, release) = await Self.holdingTheWriteLock(holder) { _ in }
        let error = await #expect(throws: StoreError.self) { try await waiter.write { try await $0.countIncidents(.all) } }
        #expect(error?.message.contains("lock timeout") == true, "\(String(describing: error))")
        release()
        try await held.value
        #expect(try await waiter.write { try await $0.countIncidents(.all) } == 0)
    }

    /// A holder of the write lock that goes quiet mid-transaction (a frozen VM, a cut
    /// network) is ended by the server after the idle timeout: the others' writes go on.
    @Test func aHolderThatGoesQuietLosesTheWriteLockAfterTheIdleTimeout() async throws {
        let url = try await TestPostgres.makeDatabase()
        // The waiter makes the schema first: the holder's short timeout would end the
        // migrations' own transactions on a loaded machine.
        let waiter = try await Self.openStore(url, lockTimeout: .seconds(8))
        let holder = try await PostgresIncidentStore.open(
            url: url,
            idleTransactionTimeout: .milliseconds(500),
            connectTimeout: loadedMachineTimeout
        )
        defer {
            Task {
                try? await holder.close()
                try? await waiter.close()
            }
        }
        let (held, release) = await Self.holdingTheWriteLock(holder) { try await $0.countIncidents(.all) }
        let waited = ContinuousClock.now
        #expect(try await waiter.write { try await $0.countIncidents(.all) } == 0)
        #expect(ContinuousClock.now - waited < .seconds(8))
        release()
        await #expect(throws: (any Error).self) { try await held.value }
    }

    /// PostgreSQL that stops answering mid-transaction (a frozen host, a failover that
    /// leaves the connection open; here its backend process is stopped): the write fails
    /// as a store outage after the answer timeout, not when TCP gives up some fifteen
    /// minutes later, and the store goes on with a new connection.
    @Test(.timeLimit(.minutes(1))) func aServerThatStopsAnsweringFailsTheWriteAfterTheAnswerTimeout() async throws {
        let url = try await TestPostgres.makeDatabase()
        let store = try await PostgresIncidentStore.open(url: url, answerTimeout: .seconds(1), connectTimeout: loadedMachineTimeout)
        defer { Task { try? await store.close() } }
        let (held, release) = await Self.holdingTheWriteLock(store) { try await $0.countIncidents(.all) }
        let holder = try await TestPostgres.execute(
            "SELECT pid FROM pg_locks JOIN pg_database ON database = pg_database.oid WHERE datname = current_database() AND locktype = 'advisory' AND granted",
            in: url
        )
        let backend = try #require(pid_t(holder.trimmingCharacters(in: .whitespacesAndNewlines)), "\(holder)")
        #expect(kill(backend, SIGSTOP) == 0)
        defer { kill(backend, SIGCONT) }
        release()
        let error = await #expect(throws: StoreError.self) { try await held.value }
        #expect(error?.message.contains("did not answer within 1") == true, "\(String(describing: error))")
        kill(backend, SIGCONT)
        #expect(try await store.write { try await $0.countIncidents(.all) } == 0)
    }

    /// A database whose default isolation is REPEATABLE READ: a write that waited for the
    /// lock still sees what the holder it waited for committed (one incident for one key).
    @Test func aWriteSeesWhatTheLockHolderCommittedUnderARepeatableReadDefault() async throws {
        let url = try await TestPostgres.makeDatabase()
        try await TestPostgres.execute(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = %L', current_database(), 'repeatable read'); END $$",
            in: url
        )
        let holder = try await Self.openStore(url)
        let waiter = try await Self.openStore(url, lockTimeout: .seconds(30))
        defer {
            Task {
                try? await holder.close()
                try? await waiter.close()
            }
        }
        let (held, release) = await Self.holdingTheWriteLock(holder) { transaction in
            let now = Date()
            let incident = Incident(
                key: "db|1",
                route: "db",
                severity: "critical",
                priority: 1,
                title: "MySQLDown",
                voice: nil,
                providers: [],
                escalation: nil,
                openedAt: now,
                lastSeen: now
            )
            return try await transaction.insertIncident(incident, stormGuarded: false)
        }
        let counted = Task { try await waiter.write { try await $0.countIncidents(.all) } }
        // The waiter's write has begun and waits for the lock.
        var waiting = ""
        for _ in 0..<200 where !waiting.contains("1") {
            try await Task.sleep(for: .milliseconds(20))
            waiting = try await TestPostgres.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                in: url
            )
        }
        #expect(waiting.contains("1"), "\(waiting)")
        release()
        _ = try await held.value
        #expect(try await counted.value == 1)
    }

    /// A NUL in a label (JSON's `\u0000`) is stored as U+FFFD: PostgreSQL's text refuses
    /// NUL, and every retry of the webhook would fail. A repeat finds the same incident.
    @Test func aLabelWithANULOpensOneIncident() async throws {
        let harness = try await EngineHarness.make(on: .postgres)
        defer { Task { try? await harness.close() } }
        let alert = dbAlert(alertname: "MySQL\u{0}Down", groupKey: "{}:{alertname=\"MySQL\u{0}Down\"}")
        let first = try await harness.ingest(alert)
        #expect(first.opened.count == 1)
        let again = try await harness.ingest(alert)
        #expect(again.opened.isEmpty)
        #expect(try await harness.detail(first.opened[0]).incident.title == "MySQL\u{FFFD}Down")
    }

    @Test func theSchemaIsMadeOnceAndANewerOneIsRefused() async throws {
        let url = try await TestPostgres.makeDatabase()
        let first = try await Self.openStore(url)
        #expect(try await first.schemaVersion() == PostgresSchema.version)
        try await first.close()
        let again = try await Self.openStore(url)
        #expect(try await again.schemaVersion() == PostgresSchema.version)
        try await again.close()

        try await TestPostgres.execute("UPDATE klaxon_schema SET version = 99", in: url)
        let error = await #expect(throws: StoreError.self) { try await PostgresIncidentStore.open(url: url) }
        #expect(error?.message.contains("schema version 99, newer than this klaxon knows") == true, "\(String(describing: error))")
    }

    /// Schema 4 dates a storm from its last new alert; a storm from before it is dated from
    /// when it was last seen, as it was then (times are milliseconds since 1970).
    @Test func upgradeDatesAnOlderStormFromWhenItWasLastSeen() async throws {
        let url = try await TestPostgres.makeDatabase()
        let old = try await Self.openStore(url, migrations: 3)
        try await old.close()
        _ = try await TestPostgres.execute(
            """
            INSERT INTO incidents (key, route, state, severity, priority, title, providers, opened_at, last_seen, count, storm, storm_guarded)
            VALUES ('db|storm', 'db', 'open', 'critical', 1, 'alert storm on route db', '[]', 1000, 5000, 3, TRUE, TRUE)
            """,
            in: url
        )
        let upgraded = try await Self.openStore(url)
        defer { Task { try? await upgraded.close() } }
        #expect(try await upgraded.schemaVersion() == PostgresSchema.version)
        let found = try await upgraded.read { try await $0.activeStormIncident(route: "db", joinedSince: Date(timeIntervalSince1970: 4)) }
        #expect(found?.storm == true)
        #expect(try await upgraded.read { try await $0.activeStormIncident(route: "db", joinedSince: Date(timeIntervalSince1970: 6)) } == nil)
    }

    /// Schema 2 indexes only the incidents of storm-guarded routes; the incidents from
    /// before it keep counting for the guard, and new unguarded ones do not.
    @Test func upgradeToTheGuardedRoutesIndexKeepsCountingOlderIncidents() async throws {
        let url = try await TestPostgres.makeDatabase()
        let old = try await Self.openStore(url, migrations: 1)
        try await old.close()
        // Written as klaxon's schema 1 wrote them.
        _ = try await TestPostgres.execute(
            """
            INSERT INTO incidents (key, route, state, severity, priority, title, providers, opened_at, last_seen, count)
            SELECT 'db|' || n, 'db', 'open', 'critical', 1, 'MySQLDown', '[]', 1000, 1000, 1 FROM generate_series(1, 3) AS n
            """,
            in: url
        )
        let upgraded = try await Self.openStore(url)
        defer { Task { try? await upgraded.close() } }
        #expect(try await upgraded.schemaVersion() == PostgresSchema.version)
        let since = Date(timeIntervalSince1970: 0)
        #expect(try await upgraded.read { try await $0.countIncidents(route: "db", openedSince: since) } == 3)
        let incident = Incident(
            key: "db|4",
            route: "db",
            severity: "critical",
            priority: 1,
            title: "MySQLDown",
            voice: nil,
            providers: [],
            escalation: nil,
            openedAt: Date(timeIntervalSince1970: 2),
            lastSeen: Date(timeIntervalSince1970: 2)
        )
        _ = try await upgraded.write { try await $0.insertIncident(incident, stormGuarded: false) }
        _ = try await upgraded.write { try await $0.insertIncident(incident, stormGuarded: true) }
        #expect(try await upgraded.read { try await $0.countIncidents(route: "db", openedSince: since) } == 4)
    }

    @Test(arguments: [
        ("mysql://u@h/db", "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"),
        ("postgres://h/db", "the URL names no user"),
        ("postgres://u:secret@h/db?sslmode=maybe", "sslmode must be disable, prefer, require or verify-full, got \"maybe\""),
    ])
    func badURLsAreRefusedWithTheirPasswordHidden(url: String, message: String) async throws {
        let error = await #expect(throws: StoreError.self) { try await PostgresIncidentStore.open(url: url) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.message.contains("secret") == false)
    }

    /// A server that offers TLS with a self-signed certificate: `prefer` and `require` use it
    /// without checking the certificate, as libpq does; `verify-full` refuses it.
    @Test func overTLSPreferAndRequireEncryptAndVerifyFullChecksTheCertificate() async throws {
        let cluster = try await TestPostgresCluster.start(tls: true)
        let url = try await cluster.makeDatabase()
        for mode in ["prefer", "require"] {
            let store = try await Self.openStore(url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=\(mode)"))
            try await store.ping()
            // psql itself comes over the Unix socket, without TLS.
            let encrypted = try await cluster.execute(
                "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND datname = current_database()",
                in: url
            )
            #expect(Int(encrypted.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 1, "sslmode=\(mode): \(encrypted)")
            try await store.close()
        }
        let verified = url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=verify-full")
        let error = await #expect(throws: StoreError.self) { try await PostgresIncidentStore.open(url: verified, connectTimeout: .seconds(2)) }
        #expect(error?.message.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(String(describing: error))")
    }

    /// The test cluster offers no TLS: `prefer` goes on without it, `require` refuses.
    @Test func sslmodePreferGoesOnWithoutTLSAndRequireRefuses() async throws {
        let url = try await TestPostgres.makeDatabase()
        let plain = url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=prefer")
        let store = try await Self.openStore(plain)
        try await store.ping()
        try await store.close()
        let required = url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
        let error = await #expect(throws: StoreError.self) { try await PostgresIncidentStore.open(url: required, connectTimeout: .seconds(2)) }
        #expect(error?.message.contains("sslUnsupported") == true, "\(String(describing: error))")
    }

    /// The server goes away (a crash, a failover, a cut network) and comes back: the
    /// webhooks meanwhile fail whole within the connect timeout (their senders retry on the
    /// 503), what was committed before is kept, and the store works again without a restart.
    @Test func aServerThatGoesAwayFailsWritesQuicklyAndTheStoreRecoversWhenItIsBack() async throws {
        let cluster = try await TestPostgresCluster.start(durable: true)
        // 20 s: 10 s once missed the first connection while the rest of the suite loaded the
        // two cores; each write during the outage waits this long before it fails.
        let harness = try await EngineHarness.make(on: .postgres, databaseURL: try await cluster.makeDatabase(), connectTimeout: .seconds(20))
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(dbAlert("db-1"))

        await cluster.stopServer()
        // A webhook and /readyz's ping, side by side: each fails after the connect timeout.
        let ping = Task { try await harness.store.ping() }
        let error = await #expect(throws: StoreError.self) { try await harness.ingest(dbAlert("db-2")) }
        #expect(error?.message.contains("no connection to PostgreSQL within") == true, "\(String(describing: error))")
        await #expect(throws: StoreError.self) { try await ping.value }

        try await cluster.startServer()
        var summary: IngestSummary?
        for _ in 0..<50 where summary == nil {
            summary = try? await harness.ingest(dbAlert("db-2"))
            if summary == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(summary?.opened.count == 1)
        try await harness.store.ping()
        #expect(try await harness.engine.runDueSteps() == 2)
        #expect(Set(harness.provider.requests.map { $0.params.first ?? "" }) == ["db-1", "db-2"])
    }

    /// The pool says it connected at debug level: under klaxon's usual info level that
    /// line must still clear the last failure, or a failure long past would be given as the
    /// reason for every later wait for a connection.
    @Test func aConnectionMadeClearsTheLastFailureAtInfoLevel() {
        struct Quiet: LogHandler {
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .info
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {}
        }
        let failures = PostgresConnectionFailures()
        let pool = failures.recording(Logger(label: "klaxon.store") { _ in Quiet() })
        pool.info("Connection creation failed", metadata: ["psql_error": "Connection refused"])
        #expect(failures.lastFailure == "Connection refused")
        pool.debug("Connection established", metadata: ["psql_connection_id": "2"])
        #expect(failures.lastFailure == nil)
    }

    @Test func anUnreachableServerFailsOpeningWithoutThePassword() async throws {
        let error = await #expect(throws: StoreError.self) {
            try await PostgresIncidentStore.open(
                url: "postgres://klaxon:secret@127.0.0.1:1/klaxon?sslmode=disable",
                connectTimeout: .seconds(2)
            )
        }
        let message = error?.message ?? ""
        #expect(message.contains("no connection to PostgreSQL within"), "\(message)")
        #expect(message.contains("Connection refused"), "\(message)")
        #expect(message.contains("postgres://klaxon:***@127.0.0.1:1/klaxon"), "\(message)")
        #expect(!message.contains("secret"))
    }
}
