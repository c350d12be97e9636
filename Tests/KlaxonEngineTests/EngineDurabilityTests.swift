import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonRules
import KlaxonTestSupport
import SQLiteNIO
import Synchronization
import Testing

@testable import KlaxonEngine

@Suite("Incident engine: durability, callbacks, schema")
struct EngineDurabilityTests {
    @Test(arguments: StoreKind.allCases) func pendingStepSurvivesRestartAndFiresOnce(on kind: StoreKind) async throws {
        let first = try await EngineHarness.make(on: kind)
        let opened = try await first.ingest(dbAlert())
        try await first.engine.runDueSteps()
        try await first.store.close()

        // A new process on the same file, 10 minutes later.
        let second = try await EngineHarness.make(on: kind, directory: first.directory, databaseURL: first.databaseURL)
        defer { Task { try? await second.close() } }
        second.clock.advance(by: .seconds(600))
        #expect(try await second.engine.recoverInterruptedWork() == (steps: 0, calls: 0))
        #expect(try await second.engine.runDueSteps() == 1)
        #expect(try await second.engine.runDueSteps() == 0)
        #expect(second.provider.calledNames == ["carol"])
        #expect(try await second.detail(opened.opened[0]).steps.map(\.state) == [.done, .done])
    }

    @Test(arguments: StoreKind.allCases) func interruptedStepCallsAgainOnlyWhomNobodyRecordedAsCalled(on kind: StoreKind) async throws {
        let first = try await EngineHarness.make(on: kind)
        let opened = try await first.ingest(dbAlert())
        // The process claimed step 1, recorded alice's call as accepted and bob's as
        // started, then died before the vendor's answer for bob was recorded.
        let stepID = try await first.claimFirstStepAndDieWithCallsStarted()
        try await first.store.close()

        let second = try await EngineHarness.make(on: kind, directory: first.directory, databaseURL: first.databaseURL)
        defer { Task { try? await second.close() } }
        #expect(try await second.engine.recoverInterruptedWork() == (steps: 1, calls: 1))
        #expect(try await second.engine.runDueSteps() == 1)
        #expect(second.provider.calledNames == ["bob"])
        let detail = try await second.detail(opened.opened[0])
        #expect(detail.calls.filter { $0.stepID == stepID }.map(\.state) == [.accepted, .interrupted, .accepted])
        #expect(detail.events.map(\.kind).contains("step_requeued"))
        try await second.expectNoDanglingReferences()
    }

    /// The interrupted call is the page itself, placed again: the rate limit must not count
    /// it against its own retry.
    @Test(arguments: StoreKind.allCases) func interruptedCallIsNotHeldBackByItsOwnRateLimit(on kind: StoreKind) async throws {
        let yaml =
            engineRules + """

                    rate_limit:
                      calls: 1
                      window: 1h
                """
        let first = try await EngineHarness.make(yaml, on: kind)
        let opened = try await first.ingest(dbAlert())
        let stepID = try await first.claimFirstStepAndDieWithCallsStarted()
        try await first.store.close()

        let second = try await EngineHarness.make(yaml, on: kind, directory: first.directory, databaseURL: first.databaseURL)
        defer { Task { try? await second.close() } }
        #expect(try await second.engine.recoverInterruptedWork() == (steps: 1, calls: 1))
        #expect(try await second.engine.runDueSteps() == 1)
        #expect(second.provider.calledNames == ["bob"])
        let detail = try await second.detail(opened.opened[0])
        #expect(detail.calls.filter { $0.stepID == stepID }.map(\.state) == [.accepted, .interrupted, .accepted])
        // The limit still counts that call for any other page to bob within the hour.
        _ = try await second.ingest(dbAlert("db-2"))
        #expect(try await second.engine.runDueSteps() == 1)
        #expect(second.provider.calledNames == ["bob"])
    }

    /// One push of many reports (infin8linx sends a batch's records together) is one
    /// transaction, each report judged after the ones before it.
    @Test(arguments: StoreKind.allCases) func aPushOfReportsIsRecordedTogether(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        let reports = [
            CallStatusReport(vendorCallID: "v-alice", status: .noAnswer, vendorCode: "a"),
            CallStatusReport(vendorCallID: "v-nobody", status: .answered, vendorCode: "b"),
            CallStatusReport(vendorCallID: "v-bob", status: .answered, vendorCode: "c"),
            CallStatusReport(vendorCallID: "v-alice", status: .answered, vendorCode: "d"),
            CallStatusReport(vendorCallID: "v-bob", status: .answered, vendorCode: "c"),
        ]
        let id = opened.opened[0]
        #expect(
            try await harness.engine.recordStatuses(reports, provider: "sim") == [
                .recorded(incidentID: id, acked: false), .unknownCall, .recorded(incidentID: id, acked: true),
                .recorded(incidentID: id, acked: false), .duplicate,
            ]
        )
        let detail = try await harness.detail(id)
        #expect(detail.incident.ackedBy == "bob")
        #expect(detail.calls.map(\.status) == [.answered, .answered])
        #expect(try await harness.engine.recordStatuses([], provider: "sim").isEmpty)
    }

    /// A report found by klaxon's call id lands on the recipient's live row, not on the
    /// `failed` one a retried transaction leaves beside it under the same id.
    @Test func aReportByCallIDSkipsAFailedRowOfTheSameCall() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        var live = try #require(try await harness.detail(opened.opened[0]).calls.first)
        live.vendorCallID = nil
        try await harness.store.write { [live] transaction in
            var ghost = live
            ghost.state = .failed
            try await transaction.updateCall(ghost)
            var copy = live
            copy.id = 0
            _ = try await transaction.insertCall(copy)
        }
        let report = CallStatusReport(vendorCallID: nil, callID: live.callID, callee: live.recipient.phone, status: .busy, vendorCode: "x")
        #expect(try await harness.engine.recordStatus(report, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: false))
        let calls = try await harness.detail(opened.opened[0]).calls.filter { $0.recipient.name == live.recipient.name }
        #expect(calls.map(\.state) == [.failed, .accepted])
        #expect(calls.map(\.status) == [nil, .busy])
    }

    @Test(arguments: StoreKind.allCases) func answeredCallAcknowledgesWhenEscalationSaysSo(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        let noAnswer = CallStatusReport(vendorCallID: "v-alice", status: .noAnswer, vendorCode: "200005")
        #expect(try await harness.engine.recordStatus(noAnswer, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: false))
        let answered = CallStatusReport(vendorCallID: "v-bob", status: .answered, duration: .seconds(12), vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: true))
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .duplicate)
        #expect(try await harness.engine.recordStatus(answered, provider: "other") == .unknownCall)
        // A later report of less (the other leg of a call that failed over) does not undo it.
        let lateNoAnswer = CallStatusReport(vendorCallID: "v-bob", status: .noAnswer, vendorCode: "200005")
        #expect(try await harness.engine.recordStatus(lateNoAnswer, provider: "sim") == .duplicate)
        // By klaxon's call id and the number as the vendor writes it.
        let callID = try #require(harness.provider.requests.first?.callID)
        let byCallID = CallStatusReport(vendorCallID: nil, callID: callID, callee: "13700000001", status: .busy, vendorCode: "x")
        #expect(try await harness.engine.recordStatus(byCallID, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: false))
        // By klaxon's call id from another provider of the route: a call that timed out there
        // and failed over may still have rung, and its report counts.
        let fromTheFirstVendor = CallStatusReport(vendorCallID: nil, callID: callID, callee: "13700000001", status: .noAnswer, vendorCode: "y")
        #expect(try await harness.engine.recordStatus(fromTheFirstVendor, provider: "other") == .recorded(incidentID: opened.opened[0], acked: false))
        #expect(try await harness.engine.recordStatus(byCallID, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: false))

        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.incident.state == .acked)
        #expect(detail.incident.ackedBy == "bob")
        #expect(detail.calls.map(\.status) == [.busy, .answered])
        // The talk time is on the timeline.
        #expect(detail.events.contains { $0.kind == "call_status" && $0.detail == "call to bob: answered, talked 12 s (vendor code 200000)" })
        #expect(try await harness.advance(.seconds(3600)) == 0)
    }

    /// `stop_on` is read from the rules in force: when a reload renamed the incident's
    /// escalation, an answered call is recorded but stops nothing (rather than guess).
    @Test func aReportForAnEscalationGoneFromTheRulesDoesNotAcknowledge() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        try await harness.engine.runDueSteps()
        try harness.reload(engineRules.replacingOccurrences(of: "primary", with: "main"))
        let answered = CallStatusReport(vendorCallID: "v-bob", status: .answered, vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: false))
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.incident.state == .open)
        #expect(detail.calls.map(\.status).contains(.answered))
        #expect(try await harness.advance(.seconds(600)) == 1)
    }

    /// A claim whose COMMIT landed but whose answer was lost (a dropped connection) leaves its
    /// steps running for nobody: the next claim makes them pending again, and they run. A
    /// step claimed and still being run is left alone.
    @Test(arguments: StoreKind.allCases) func aClaimWhoseAnswerWasLostStillRuns(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        _ = try await harness.store.write { try await $0.claimDueSteps(now: harness.start, limit: 10) }
        harness.engine.claims.withLock { $0.mayHaveCommitted = true }
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        #expect(try await harness.detail(opened.opened[0]).events.map(\.kind).contains("step_requeued"))

        _ = try await harness.ingest(dbAlert("db-2"))
        let running = try await harness.engine.claimDueSteps()
        #expect(running.count == 1)
        harness.engine.claims.withLock { $0.mayHaveCommitted = true }
        #expect(try await harness.engine.claimDueSteps().isEmpty)
        for step in running { await harness.engine.execute(step) }
        #expect(harness.provider.calledNames.count == 4)
    }

    /// A step's first try at recording its calls as started committed, but its answer was
    /// lost, so it was tried again: the first try's calls, never placed, are not left
    /// started, where they would count against the rate limit.
    @Test(arguments: StoreKind.allCases) func aStepPreparedTwiceAfterALostCommitAnswerLeavesNoStartedCall(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        let step = try #require(try await harness.engine.claimDueSteps().first)
        try await Self.recordStartedCalls(of: step, callID: "aaaaaaaaaaaa", in: harness)
        await harness.engine.execute(step, callID: "aaaaaaaaaaaa")
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.calls.map(\.state) == [.failed, .failed, .accepted, .accepted])
        let alice = try #require(step.recipients.first { $0.name == "alice" })
        let counted = try await harness.store.read {
            try await $0.countCalls(route: "db", phone: alice.phone, startedSince: harness.start.addingTimeInterval(-60))
        }
        #expect(counted == 1)
    }

    /// The same, when the incident was acknowledged before the second try: the step is
    /// cancelled, and the first try's calls are not left started either.
    @Test(arguments: StoreKind.allCases) func aCancelledStepLeavesNoStartedCallOfALostCommitAnswer(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        let step = try #require(try await harness.engine.claimDueSteps().first)
        try await Self.recordStartedCalls(of: step, callID: "aaaaaaaaaaaa", in: harness)
        _ = try await harness.engine.ack(incidentID: opened.opened[0], by: "alice")
        await harness.engine.execute(step, callID: "aaaaaaaaaaaa")
        #expect(harness.provider.requests.isEmpty)
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.calls.map(\.state) == [.failed, .failed])
        #expect(detail.steps.first?.state == .cancelled)
    }

    /// The calls of `step` recorded as started by a try whose answer was lost.
    static func recordStartedCalls(of step: ScheduledStep, callID: String, in harness: EngineHarness) async throws {
        try await harness.store.write { transaction in
            for recipient in step.recipients {
                _ = try await transaction.insertCall(
                    CallRecord(
                        callID: callID,
                        incidentID: step.incidentID,
                        stepID: step.id,
                        step: step.step,
                        recipient: recipient,
                        provider: "sim",
                        startedAt: harness.start,
                        updatedAt: harness.start
                    )
                )
            }
        }
    }

    /// The scheduler requeues a lost claim's steps even when nothing else is due: they are
    /// running, not pending, so nothing would look due.
    @Test(.timeLimit(.minutes(1))) func theSchedulerRunsALostClaimWithNothingElseDue() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(dbAlert())
        _ = try await harness.store.write { try await $0.claimDueSteps(now: harness.start, limit: 10) }
        harness.engine.claims.withLock { $0.mayHaveCommitted = true }
        let stopping = Mutex(false)
        let scheduler = Task { await harness.engine.runScheduler(isStopping: { stopping.withLock { $0 } }) }
        while harness.provider.requests.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        stopping.withLock { $0 = true }
        harness.engine.wakeScheduler()
        await scheduler.value
    }

    @Test func olderSchemaIsUpgradedInPlace() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-schema-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.db").path
        let old = try await SQLiteIncidentStore.open(path: path, migrations: 1)
        #expect(try await old.schemaVersion() == 1)
        let id = try await old.write { transaction in
            try await transaction.insertIncident(
                Incident(
                    key: "db|x",
                    route: "db",
                    severity: "critical",
                    priority: 1,
                    title: "MySQLDown",
                    voice: nil,
                    providers: ["sim"],
                    escalation: nil,
                    openedAt: Date(timeIntervalSince1970: 100),
                    lastSeen: Date(timeIntervalSince1970: 100)
                ),
                stormGuarded: false
            )
        }
        try await old.close()

        let upgraded = try await SQLiteIncidentStore.open(path: path)
        defer { Task { try? await upgraded.close() } }
        #expect(try await upgraded.schemaVersion() == SQLiteSchema.version)
        let incident = try await upgraded.read { try await $0.incident(id: id) }
        #expect(incident?.title == "MySQLDown")
        #expect(incident?.openedAt == Date(timeIntervalSince1970: 100))
    }

    /// Schema 3 moves the storm incidents' alert keys to a table of their own; an upgraded
    /// file still finds the storm incident by the key of an alert it holds.
    @Test func upgradeKeepsTheStormIncidentsKeys() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-schema-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.db").path
        let old = try await SQLiteIncidentStore.open(path: path, migrations: 2)
        let at = Date(timeIntervalSince1970: 100)
        let id = try await old.write { transaction in
            let id = try await transaction.insertIncident(
                Incident(
                    key: "db|storm",
                    route: "db",
                    severity: "critical",
                    priority: 1,
                    title: "alert storm on route db",
                    voice: nil,
                    providers: ["sim"],
                    escalation: nil,
                    openedAt: at,
                    lastSeen: at,
                    storm: true
                ),
                stormGuarded: false
            )
            try await transaction.upsertAlert(
                IncidentAlert(
                    incidentID: id,
                    fingerprint: "f1",
                    key: "db|instance=db-7",
                    status: .firing,
                    labels: ["instance": "db-7"],
                    annotations: [:],
                    severity: "critical",
                    source: "alertmanager/alertmanager",
                    startsAt: nil,
                    endsAt: nil,
                    firstSeen: at,
                    lastSeen: at
                ),
                encoded: nil
            )
            return id
        }
        try await old.close()

        let upgraded = try await SQLiteIncidentStore.open(path: path)
        defer { Task { try? await upgraded.close() } }
        #expect(try await upgraded.schemaVersion() == SQLiteSchema.version)
        #expect(try await upgraded.read { try await $0.activeIncident(key: "db|instance=db-7") }?.id == id)
        #expect(try await upgraded.read { try await $0.activeIncident(key: "db|instance=db-8") } == nil)
    }

    /// Schema 4 copies the incidents, steps, calls and events tables into ones without
    /// AUTOINCREMENT: every row, id and index survives, and new ids follow the old ones.
    @Test func upgradeToIdsWithoutAutoincrementKeepsEveryRowAndIndex() async throws {
        let old = try await EngineHarness.make(migrations: 3)
        let first = try await old.ingest(dbAlert("db-1", groupKey: "a")).opened[0]
        #expect(try await old.engine.runDueSteps() == 1)
        let second = try await old.ingest(dbAlert("db-2", groupKey: "b")).opened[0]
        _ = try await old.ingest(dbAlert("db-3", groupKey: "a"))
        let before = [try await old.detail(first), try await old.detail(second)]
        #expect(before[0].calls.count == 2 && before[0].events.count >= 3 && before[1].steps.count == 2)
        let indexes = try Self.schema(old.path, "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        let tables = ["incidents", "steps", "calls", "events"]
        let columns = try tables.map { try Self.schema(old.path, "SELECT name FROM pragma_table_info('\($0)')") }
        try await old.store.close()

        let upgraded = try await EngineHarness.make(directory: old.directory, migrations: 4)
        defer { Task { try? await upgraded.store.close() } }
        #expect(try await upgraded.sqlite.schemaVersion() == 4)
        #expect([try await upgraded.detail(first), try await upgraded.detail(second)] == before)
        #expect(try Self.schema(upgraded.path, "SELECT name FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'").isEmpty)
        let upgradedIndexes = try Self.schema(
            upgraded.path,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        #expect(upgradedIndexes == indexes)
        #expect(try tables.map { try Self.schema(upgraded.path, "SELECT name FROM pragma_table_info('\($0)')") } == columns)
        #expect(indexes.contains("incidents_key") && indexes.contains("calls_vendor") && indexes.contains("events_incident"))
        #expect(try await upgraded.sqlite.danglingReferences().isEmpty)

        let third = try await upgraded.ingest(dbAlert("db-4", groupKey: "c")).opened[0]
        #expect(third == second + 1)
        // The second incident's first step, never run before the upgrade, and the third's.
        #expect(try await upgraded.engine.runDueSteps() == 2)
        let detail = try await upgraded.detail(third)
        #expect(detail.steps.map(\.id).min()! > before.flatMap { $0.steps.map(\.id) }.max()!)
        #expect(detail.calls.map(\.id).min()! > before.flatMap { $0.calls.map(\.id) }.max()!)
        #expect(try await upgraded.sqlite.danglingReferences().isEmpty)
    }

    /// Schema 5 indexes only the incidents of storm-guarded routes: the incidents from
    /// before it keep counting for the guard, and its lookups use that index.
    @Test func upgradeToTheGuardedRoutesIndexKeepsCountingOlderIncidents() async throws {
        let old = try await EngineHarness.make(migrations: 4)
        #expect(try await old.engine.ingest((1...2).map { dbAlert("db-\($0)") }).opened.count == 2)
        try await old.store.close()

        let stormRules =
            engineRules + """

                    storm:
                      threshold: 2
                      window: 5m
                """
        let upgraded = try await EngineHarness.make(stormRules, directory: old.directory)
        defer { Task { try? await upgraded.store.close() } }
        #expect(try await upgraded.sqlite.schemaVersion() == SQLiteSchema.version)
        // Two incidents from before, so the next one is one too many.
        let third = try await upgraded.ingest(dbAlert("db-3"))
        #expect(try await upgraded.store.read { try await $0.incident(id: third.opened[0]) }?.storm == true)
        let indexes = try Self.schema(upgraded.path, "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
        #expect(indexes.contains { $0.contains("incidents_storm_guarded") && $0.hasSuffix("WHERE storm_guarded = 1") })
        #expect(!indexes.contains { $0.contains("incidents_route_opened") })
        for statement in [SQLiteTransaction.countGuardedIncidentsStatement, SQLiteTransaction.activeStormIncidentStatement] {
            let plan = try Self.schema(upgraded.path, "EXPLAIN QUERY PLAN " + statement.replacingOccurrences(of: "?", with: "0"), column: 3)
            #expect(plan.contains { $0.contains("incidents_storm_guarded") }, "\(plan)")
        }
        try await upgraded.expectNoDanglingReferences()
    }

    private static func schema(_ path: String, _ sql: String, column: Int = 0) throws -> [String] {
        let handle = try SQLiteHandle(path: path, busyTimeout: .seconds(1))
        defer { handle.close() }
        return try handle.query(sql).map { $0.values[column].string ?? "" }
    }

    // Were reads to share the writer's gate, this would wait forever: the limit makes it fail.
    @Test(.timeLimit(.minutes(1))) func aReadUnderWayDoesNotHoldUpWrites() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let engine = harness.engine
        // The webhook commits while a listing's read transaction is still open.
        let summary = try await harness.store.read { transaction in
            _ = try await transaction.incidents(.all, limit: 10)
            return try await engine.ingest([dbAlert("db-1")])
        }
        #expect(summary.opened.count == 1)
        #expect(try await harness.engine.incidents(.open).count == 1)
    }

    @Test func checkpointsCopyTheWALBackInTheBackground() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let fileSize = { ((try? FileManager.default.attributesOfItem(atPath: harness.path))?[.size] as? Int) ?? 0 }
        let empty = fileSize()
        for index in 0..<300 { _ = try await harness.ingest(dbAlert("db-\(index)")) }
        // Commits go to the WAL; the checkpointer copies them into the database file.
        let deadline = ContinuousClock.now + .seconds(10)
        while fileSize() < empty + 200_000 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(fileSize() >= empty + 200_000, "database file \(fileSize()) bytes, \(empty) when empty")
        #expect(try await harness.engine.incidents(.open).count == 300)
    }

    @Test func danglingReferencesAreFound() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        try await harness.expectNoDanglingReferences()
        try await harness.store.write { transaction in
            try await transaction.appendEvent(TimelineEvent(incidentID: 4242, at: harness.start, kind: "opened", actor: "test", detail: "orphan"))
        }
        let dangling = try await harness.sqlite.danglingReferences()
        #expect(dangling.count == 1 && dangling[0].hasPrefix("events row "), "\(dangling)")
    }

    @Test func newerSchemaIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("future.db").path
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await connection.query("PRAGMA user_version = 99")
        try await connection.close()
        await #expect {
            try await SQLiteIncidentStore.open(path: path)
        } throws: { error in
            "\(error)".contains("schema version 99, newer than this klaxon knows")
        }
    }

    @Test func lockedDatabaseFailsTheBatchWholeAndKeepsServing() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let store = try await SQLiteIncidentStore.open(path: harness.path, busyTimeout: .milliseconds(100))
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        // Another process holds the write lock.
        let other = try await SQLiteConnection.open(storage: .file(path: harness.path))
        _ = try await other.query("PRAGMA busy_timeout = 100")
        _ = try await other.query("BEGIN IMMEDIATE")
        await #expect(throws: StoreError.self) { try await engine.ingest([dbAlert("db-1"), dbAlert("db-2")]) }
        // `/readyz` says so too while the lock is held, though nothing writes meanwhile.
        await #expect(throws: StoreError.self) { try await store.ping() }
        _ = try await other.query("ROLLBACK")
        try await other.close()
        try await store.ping()
        // Nothing of the failed batch was recorded; the same batch now goes through.
        #expect(try await engine.incidents(.all).isEmpty)
        #expect(try await engine.ingest([dbAlert("db-1"), dbAlert("db-2")]).opened.count == 2)
        try await store.close()
    }
}

extension EngineDurabilityTests {
    /// Opening takes no write lock it must have: another process holding it does not stop
    /// the start, and the incidents it opened meanwhile are found by the first write after.
    @Test func aStoreOpensWhileAnotherProcessHoldsTheWriteLock() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let opened = try #require(try await harness.ingest(dbAlert("db-1")).opened.first)
        let other = try await SQLiteConnection.open(storage: .file(path: harness.path))
        _ = try await other.query("BEGIN IMMEDIATE")
        let opening: Result<SQLiteIncidentStore, any Error>
        do {
            opening = .success(try await SQLiteIncidentStore.open(path: harness.path, busyTimeout: .milliseconds(50)))
        } catch {
            opening = .failure(error)
        }
        _ = try await other.query("ROLLBACK")
        try await other.close()
        let store = try opening.get()
        defer { Task { try? await store.close() } }
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        let again = try await engine.ingest([dbAlert("db-1")])
        #expect(again.opened.isEmpty && again.updated == [opened])
    }

    @Test func aClaimedStepWaitsOutALockedStoreAndCallsOnce() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let store = try await SQLiteIncidentStore.open(path: harness.path, busyTimeout: .milliseconds(50))
        defer { Task { try? await store.close() } }
        let engine = IncidentEngine(
            store: store,
            rules: harness.engine.rules,
            clock: harness.clock.engineClock(start: harness.start),
            jitter: { 0 }
        )
        _ = try await engine.ingest([dbAlert()])
        let step = try #require(try await store.write { try await $0.claimDueSteps(now: harness.start, limit: 1) }.first)

        // Another process holds the write lock while the step is prepared.
        let other = try await SQLiteConnection.open(storage: .file(path: harness.path))
        _ = try await other.query("BEGIN IMMEDIATE")
        let running = Task { await engine.execute(step) }
        await harness.clock.waitForSleepers()
        #expect(harness.provider.requests.isEmpty)
        _ = try await other.query("ROLLBACK")
        try await other.close()
        harness.clock.advance(by: .seconds(1))
        await running.value

        #expect(harness.provider.calledNames == ["alice", "bob"])
        let steps = try await store.read { try await $0.steps(incidentID: step.incidentID) }
        #expect(steps.first?.state == .done)
    }

    /// A step due a second before quiet hours, held up by a locked store into them, is judged
    /// when its calls would go out: deferred, not called at 22:00:30 as if it were 21:59:59.
    @Test func aStepHeldUpByALockedStoreIsJudgedWhenTheStoreIsBack() async throws {
        // 21:59:59 in Shanghai.
        let start = try #require(ISO8601DateFormatter().date(from: "2026-06-02T13:59:59Z"))
        let harness = try await EngineHarness.make(nightQuietHoursRules, start: start)
        defer { Task { try? await harness.close() } }
        let store = try await SQLiteIncidentStore.open(path: harness.path, busyTimeout: .milliseconds(50))
        defer { Task { try? await store.close() } }
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: start), jitter: { 0 })
        _ = try await engine.ingest([dbAlert()])
        let step = try #require(try await store.write { try await $0.claimDueSteps(now: start, limit: 1) }.first)

        let other = try await SQLiteConnection.open(storage: .file(path: harness.path))
        _ = try await other.query("BEGIN IMMEDIATE")
        let running = Task { await engine.execute(step) }
        await harness.clock.waitForSleepers()
        harness.clock.advance(by: .seconds(30))
        await harness.clock.waitForSleepers()
        _ = try await other.query("ROLLBACK")
        try await other.close()
        harness.clock.advance(by: .seconds(1))
        await running.value

        #expect(harness.provider.requests.isEmpty)
        let events = try await store.read { try await $0.events(incidentID: step.incidentID) }
        #expect(events.last?.kind == "step_deferred")
    }

    /// A vendor's "answered" report can come while the step's other calls still retry: the
    /// accepted call is recorded at once, so the report finds it and stops the escalation,
    /// recording the step's end keeps what the report said, and the call still waiting for
    /// its retry is not placed: someone has answered.
    @Test(.timeLimit(.minutes(1))) func anAnsweredReportDuringTheStepsRetriesIsRecordedAndKept() async throws {
        let bobAttempts = Mutex(0)
        let provider = RecordingProvider { recipient in
            guard recipient.name == "bob" else { return .accepted(vendorCallID: "v-" + recipient.name) }
            let attempt = bobAttempts.withLock { count in
                count += 1
                return count
            }
            return attempt == 1 ? .retryable(VendorError(code: "busy", message: "line busy")) : .accepted(vendorCallID: "v-bob")
        }
        let harness = try await EngineHarness.make(provider: provider)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        let step = try #require(try await harness.store.write { try await $0.claimDueSteps(now: harness.start, limit: 1) }.first)
        let running = Task { await harness.engine.execute(step) }
        // Alice's call is accepted; bob's waits for its retry.
        await harness.clock.waitForSleepers()
        let answered = CallStatusReport(vendorCallID: "v-alice", status: .answered, duration: .seconds(5), vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: true))
        harness.clock.advance(by: .seconds(60))
        await running.value

        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.incident.state == .acked)
        let alice = try #require(detail.calls.first { $0.recipient.name == "alice" })
        #expect(alice.state == .accepted)
        #expect(alice.status == .answered)
        #expect(alice.attempts == 1)
        #expect(bobAttempts.withLock { $0 } == 1)
        #expect(detail.calls.first { $0.recipient.name == "bob" }?.state == .failed)
        #expect(detail.events.filter { $0.kind == "call_placed" }.count == 1)
        let stopped = try #require(detail.events.first { $0.kind == "step_stopped" })
        #expect(stopped.detail == "step 1: the incident was acknowledged by alice while its calls were placed; not called again: bob")
        #expect(try await harness.advance(.seconds(3600)) == 0)
    }
}

/// Places a request's calls one after another and tells each acceptance as it comes, as
/// the Huawei and Bitel clients do; bob's call waits at a gate.
final class OneByOneProvider: VoiceProvider {
    let name = "sim"
    let type: ProviderType = .simulator
    let bobEntered = AsyncStream<Void>.makeStream()
    let bobReleased = AsyncStream<Void>.makeStream()

    func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        await placeCalls(request, accepted: { _ in })
    }

    func placeCalls(_ request: CallRequest, accepted: @Sendable (RecipientResult) async -> Void) async -> [RecipientResult] {
        var results: [RecipientResult] = []
        for recipient in request.recipients {
            if recipient.name == "bob" {
                bobEntered.continuation.yield()
                for await _ in bobReleased.stream { break }
            }
            let result = RecipientResult(recipient: recipient, result: .accepted(vendorCallID: "v-" + recipient.name))
            await accepted(result)
            results.append(result)
        }
        return results
    }
}

extension EngineDurabilityTests {
    /// Alice's call is accepted while bob's request is still out; alice answers and her
    /// vendor's report comes before bob's request returns: it finds her call and
    /// acknowledges the incident.
    @Test(.timeLimit(.minutes(1))) func anAnsweredReportBeforeTheRequestsOtherCallsReturnIsKept() async throws {
        let provider = OneByOneProvider()
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        harness.engine.replaceRules(EngineRules(repository: harness.engine.rules.repository, providers: ["sim": provider]))
        let opened = try await harness.ingest(dbAlert())
        let step = try #require(try await harness.engine.claimDueSteps().first)
        let running = Task { await harness.engine.execute(step) }
        for await _ in provider.bobEntered.stream { break }
        let answered = CallStatusReport(vendorCallID: "v-alice", status: .answered, duration: .seconds(5), vendorCode: "200000")
        #expect(try await harness.engine.recordStatus(answered, provider: "sim") == .recorded(incidentID: opened.opened[0], acked: true))
        provider.bobReleased.continuation.yield()
        await running.value
        #expect(try await harness.detail(opened.opened[0]).incident.state == .acked)
    }

    /// An acknowledgement through the API while a call waits to fail over to the next
    /// provider: the next provider is not tried.
    @Test(.timeLimit(.minutes(1))) func anAckStopsTheFailoverOfAStepUnderWay() async throws {
        let second = RecordingProvider(name: "second")
        let gate = AsyncStream<Void>.makeStream()
        let entered = AsyncStream<Void>.makeStream()
        let gated = RecordingProvider(
            name: "first",
            answer: { _ in .permanent(VendorError(code: "down", message: "vendor down")) },
            before: {
                entered.continuation.yield()
                for await _ in gate.stream { break }
            }
        )
        let yaml = engineRules.replacingOccurrences(
            of: "  sim:\n    type: simulator",
            with: "  first:\n    type: simulator\n  second:\n    type: simulator"
        )
        .replacingOccurrences(of: "providers: [sim]", with: "providers: [first, second]")
        let harness = try await EngineHarness.make(yaml, provider: gated, otherProviders: [second])
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        let step = try #require(try await harness.engine.claimDueSteps().first)
        let running = Task { await harness.engine.execute(step) }
        for await _ in entered.stream { break }
        _ = try await harness.engine.ack(incidentID: opened.opened[0], by: "carol")
        gate.continuation.yield()
        await running.value
        #expect(second.requests.isEmpty)
        let detail = try await harness.detail(opened.opened[0])
        #expect(
            detail.events.contains {
                $0.kind == "step_stopped" && $0.detail.hasSuffix("acknowledged by carol while its calls were placed; not called again: alice, bob")
            }
        )
    }
}

@Suite("Time windows")
struct TimeWindowTests {
    let formatter = ISO8601DateFormatter()

    func window(_ times: String, days: String = "", action: String = "defer") throws -> TimeWindow {
        let yaml =
            engineRules + """

                    quiet_hours:
                      timezone: Asia/Shanghai
                      times: ["\(times)"]
                \(days.isEmpty ? "" : "      days: [\(days)]\n")      action: \(action)
                """
        let loaded = RuleLoader(environment: [:], mode: .serve).load(yaml: yaml, name: "test.yaml")
        #expect(loaded.errors.isEmpty, "\(loaded.errors.map(\.description))")
        return try #require(loaded.repository?.routes.first?.effective.quietHours)
    }

    @Test func wrapsMidnightAndFindsItsEnd() throws {
        let night = try window("22:00-08:00")
        // 23:30 and 07:59 Shanghai are inside; 08:00 and 12:00 are not.
        #expect(night.contains(formatter.date(from: "2026-06-01T15:30:00Z")!))
        #expect(night.contains(formatter.date(from: "2026-06-01T23:59:00Z")!))
        #expect(!night.contains(formatter.date(from: "2026-06-02T00:00:00Z")!))
        #expect(!night.contains(formatter.date(from: "2026-06-02T04:00:00Z")!))
        #expect(night.nextExit(from: formatter.date(from: "2026-06-01T15:30:00Z")!) == formatter.date(from: "2026-06-02T00:00:00Z"))
        #expect(night.nextEntry(from: formatter.date(from: "2026-06-02T04:00:00Z")!) == formatter.date(from: "2026-06-02T14:00:00Z"))
    }

    @Test func weekdaysCountTheDayARangeStarts() throws {
        // Friday night's range runs into Saturday morning; Saturday night is not quiet.
        let fridays = try window("22:00-08:00", days: "fri")
        #expect(fridays.contains(formatter.date(from: "2026-06-05T15:00:00Z")!))  // Fri 23:00
        #expect(fridays.contains(formatter.date(from: "2026-06-05T22:00:00Z")!))  // Sat 06:00
        #expect(!fridays.contains(formatter.date(from: "2026-06-06T15:00:00Z")!))  // Sat 23:00
    }

    /// `days:` without `times:` is those whole days.
    @Test func daysAloneAreWholeDays() throws {
        let yaml =
            engineRules + """

                    quiet_hours:
                      timezone: Asia/Shanghai
                      days: [sat, sun]
                """
        let loaded = RuleLoader(environment: [:], mode: .serve).load(yaml: yaml, name: "test.yaml")
        #expect(loaded.errors.isEmpty, "\(loaded.errors.map(\.description))")
        let weekend = try #require(loaded.repository?.routes.first?.effective.quietHours)
        #expect(!weekend.contains(formatter.date(from: "2026-06-05T15:59:00Z")!))  // Fri 23:59
        #expect(weekend.contains(formatter.date(from: "2026-06-05T16:00:00Z")!))  // Sat 00:00
        #expect(weekend.contains(formatter.date(from: "2026-06-07T15:59:00Z")!))  // Sun 23:59
        #expect(!weekend.contains(formatter.date(from: "2026-06-07T16:00:00Z")!))  // Mon 00:00
        #expect(weekend.nextExit(from: formatter.date(from: "2026-06-06T04:00:00Z")!) == formatter.date(from: "2026-06-07T16:00:00Z"))
    }
}

/// A store shared with other instances, as the scheduler sees it: SQLite underneath, a
/// heartbeat every 3 s that fails on its first try.
final class FlakyHeartbeatStore: IncidentStore {
    let base: SQLiteIncidentStore
    let beats = Mutex<[ContinuousClock.Instant]>([])

    init(_ base: SQLiteIncidentStore) {
        self.base = base
    }

    func write<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T { try await base.write(body) }
    func read<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T { try await base.read(body) }
    func ping() async throws { try await base.ping() }
    func close() async throws { try await base.close() }
    /// Long enough that a retry after a second and one after a whole interval stay apart on
    /// a loaded machine (a 1 s sleep has taken 2.6 s under the whole suite).
    var heartbeatInterval: Duration? { .seconds(8) }

    func heartbeat() async throws {
        let first = beats.withLock { beats in
            beats.append(.now)
            return beats.count == 1
        }
        if first { throw StoreError("the database is away") }
    }
}

extension EngineDurabilityTests {
    /// A failed heartbeat is tried again within a second, not a whole interval later: a gap
    /// of two intervals makes a shared store's judgement of the other instances start over.
    @Test(.timeLimit(.minutes(1))) func aFailedHeartbeatIsTriedAgainWithinASecond() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let store = FlakyHeartbeatStore(harness.sqlite)
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        let stopping = Mutex(false)
        let scheduler = Task { await engine.runScheduler(isStopping: { stopping.withLock { $0 } }) }
        while store.beats.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(50)) }
        stopping.withLock { $0 = true }
        engine.wakeScheduler()
        await scheduler.value
        let beats = store.beats.withLock { $0 }
        #expect(beats[1] - beats[0] < .seconds(5), "\(beats[1] - beats[0])")
    }
}

/// Whom a pending step calls under the rules in force (``IncidentEngine/recipientsInForce(of:in:)``).
@Suite struct RecipientsInForceTests {
    static func repository(_ groups: String, bobPhone: String = "+8613700000002") throws -> RuleRepository {
        let yaml = """
            recipients:
              alice: {phone: "+8613700000001"}
              bob: {phone: "\(bobPhone)"}
              carol: {phone: "+8613700000003"}
            groups:
            \(groups)
            """
        let loaded = RuleLoader(environment: [:], mode: .check).load(yaml: yaml, name: "test.yaml")
        return try #require(loaded.repository, "\(loaded.errors)")
    }

    static func names(_ step: ScheduledStep, _ repository: RuleRepository) -> [String] {
        IncidentEngine.recipientsInForce(of: step, in: repository).map(\.name)
    }

    static func step(_ notify: [String], written: [String]) -> ScheduledStep {
        let phones = ["alice": "+8613700000001", "bob": "+8613700000002", "carol": "+8613700000003", "dave": "+8613700000004"]
        return ScheduledStep(
            incidentID: 1,
            step: 1,
            dueAt: Date(timeIntervalSince1970: 0),
            recipients: written.map { CallRecipient(name: $0, phone: phones[$0] ?? "") },
            notify: notify
        )
    }

    /// alice is named and in the group: a handover of the group still calls her.
    @Test func aPersonNamedDirectlyIsCalledWhateverTheGroup() throws {
        let step = Self.step(["group:dba", "alice"], written: ["alice", "bob"])
        #expect(Self.names(step, try Self.repository("  dba: [bob]")) == ["bob", "alice"])
    }

    /// Every group the step names is expanded, also one whose members an earlier group reached.
    @Test func everyGroupIsExpanded() throws {
        let step = Self.step(["group:a", "group:b"], written: ["alice", "bob"])
        #expect(Self.names(step, try Self.repository("  a: [alice, bob]\n  b: [carol]")) == ["alice", "bob", "carol"])
    }

    /// A group gone: everyone the step was written with, a person gone from the rules on
    /// the number the step has.
    @Test func aGroupGoneCallsWhomTheStepWasWrittenWith() throws {
        let step = Self.step(["group:gone", "carol"], written: ["alice", "dave", "carol"])
        let called = IncidentEngine.recipientsInForce(of: step, in: try Self.repository("  other: [bob]"))
        #expect(called.map(\.name) == ["carol", "alice", "dave"])
        #expect(called.map(\.phone) == ["+8613700000003", "+8613700000001", "+8613700000004"])
    }

    /// A number is called once a step: a person renamed by a reload (alice to alice.w, the
    /// same phone), still named in the step and now in its group, rings one phone once.
    @Test func aNumberIsCalledOncePerStep() throws {
        let step = Self.step(["alice", "group:dba"], written: ["alice", "bob"])
        let yaml = """
            recipients:
              alice.w: {phone: "+8613700000001"}
              bob: {phone: "+8613700000002"}
            groups:
              dba: [alice.w, bob]
            """
        let repository = try #require(RuleLoader(environment: [:], mode: .check).load(yaml: yaml, name: "test.yaml").repository)
        let called = IncidentEngine.recipientsInForce(of: step, in: repository)
        #expect(called.map(\.name) == ["alice", "bob"])
        #expect(called.map(\.phone) == ["+8613700000001", "+8613700000002"])
    }

    /// A step written before klaxon kept `notify`: its people, on the numbers in force.
    @Test func aStepWithoutNotifyCallsItsPeople() throws {
        let step = Self.step([], written: ["bob", "alice"])
        let called = IncidentEngine.recipientsInForce(of: step, in: try Self.repository("  dba: [carol]", bobPhone: "+8613700000022"))
        #expect(called.map(\.name) == ["bob", "alice"])
        #expect(called.first?.phone == "+8613700000022")
    }

    /// The notify entries are stored as lists of one after the pairs, which readers that
    /// know only the pairs skip; both read back.
    @Test func theNotifyListIsStoredBesideThePairs() throws {
        let step = Self.step(["group:dba", "alice"], written: ["alice", "bob"])
        let text = JSONColumn.encode(step.recipients, notify: step.notify)
        #expect(text == #"[["alice","+8613700000001"],["bob","+8613700000002"],["group:dba"],["alice"]]"#)
        #expect(JSONColumn.encode([], notify: ["group:dba"]) == #"[["group:dba"]]"#)
        let pairsOnly = try JSONDecoder().decode([[String]].self, from: Data(text.utf8)).compactMap { $0.count == 2 ? $0[0] : nil }
        #expect(pairsOnly == ["alice", "bob"])
    }
}

extension EngineDurabilityTests {
    /// A step claimed on time whose calls could start only 20 minutes later (its store out
    /// of reach in between): step 2 moves by as much instead of ringing carol right after.
    @Test(arguments: StoreKind.allCases) func aStepStartingLateAfterItsClaimMovesTheLaterSteps(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        let step = try #require(try await harness.engine.claimDueSteps().first)
        harness.clock.advance(by: .seconds(20 * 60))
        await harness.engine.execute(step)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        let detail = try await harness.detail(opened.opened[0])
        #expect(detail.steps.filter { $0.state == .pending }.map(\.dueAt) == [harness.start.addingTimeInterval(30 * 60)])
        #expect(detail.events.contains { $0.kind == "steps_delayed" && $0.detail.contains("starts 1200.0 seconds late") })
        #expect(try await harness.engine.runDueSteps() == 0)
        #expect(try await harness.advance(.seconds(599)) == 0)
        #expect(try await harness.advance(.seconds(1)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob", "carol"])
    }
}
