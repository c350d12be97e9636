import Foundation
import KlaxonCore
import KlaxonTestSupport
import SQLiteNIO
import Testing

@testable import KlaxonEngine

private let windowRules = engineRules + "\n    dedupe: {by: [instance], window: 1h}\n"

@Suite("Dedupe: the reopen window and SQLite's in-memory key lookup")
struct ActiveIncidentKeysTests {
    /// Within the route's `dedupe.window` a resolved incident is reopened (and escalates
    /// again); after it, the same key opens a new incident.
    @Test(arguments: StoreKind.allCases) func aKeyFiringAgainWithinTheWindowReopensItsIncident(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(windowRules, on: kind)
        defer { Task { try? await harness.close() } }
        let first = try #require(try await harness.ingest(dbAlert("db-1")).opened.first)
        #expect(try await harness.ingest(dbAlert("db-1", status: .resolved)).resolved == [first])
        harness.clock.advance(by: .seconds(30 * 60))
        let reopened = try await harness.ingest(dbAlert("db-1"))
        #expect(reopened.opened == [first])
        let detail = try await harness.detail(first)
        #expect(detail.incident.state == .open && detail.incident.resolvedAt == nil)
        #expect(detail.events.map(\.kind).contains("reopened"))
        // Its first step, cancelled by the resolve, is due again.
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.requests.count == 1)
        // Reopened, it is found by its key again: a repeat is a repeat.
        #expect(try await harness.ingest(dbAlert("db-1")).deduplicated == 1)

        #expect(try await harness.ingest(dbAlert("db-1", status: .resolved)).resolved == [first])
        harness.clock.advance(by: .seconds(61 * 60))
        let later = try #require(try await harness.ingest(dbAlert("db-1")).opened.first)
        #expect(later != first)
        #expect(try await harness.detail(first).incident.state == .resolved)
        try await harness.expectNoDanglingReferences()
    }

    /// Incidents open side by side are each found by their own key, webhook after webhook.
    @Test(arguments: StoreKind.allCases) func incidentsOpenSideBySideAreEachFoundByTheirKey(on kind: StoreKind) async throws {
        let harness = try await EngineHarness.make(on: kind)
        defer { Task { try? await harness.close() } }
        var opened: [String: Int64] = [:]
        for instance in ["db-1", "db-2", "db-3"] {
            let id = try #require(try await harness.ingest(dbAlert(instance)).opened.first)
            opened[instance] = id
        }
        for instance in ["db-2", "db-3", "db-1", "db-3"] {
            let again = try await harness.ingest(dbAlert(instance))
            #expect(again.opened.isEmpty && again.updated == [opened[instance]!], "\(instance)")
        }
        #expect(try await harness.ingest(dbAlert("db-2", status: .resolved)).resolved == [opened["db-2"]!])
        for instance in ["db-3", "db-1"] {
            #expect(try await harness.ingest(dbAlert(instance)).updated == [opened[instance]!], "\(instance)")
        }
        let fresh = try #require(try await harness.ingest(dbAlert("db-2")).opened.first)
        #expect(!opened.values.contains(fresh))
    }

    /// Another process's commit is seen: a second store on the same file opens an incident,
    /// and this store's next webhook with the same alert joins it instead of calling again.
    @Test func anIncidentAnotherConnectionOpenedIsFound() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        #expect(try await harness.ingest(dbAlert("db-0")).opened.count == 1)

        let other = try await EngineHarness.make(directory: harness.directory)
        let opened = try #require(try await other.ingest(dbAlert("db-1")).opened.first)
        try await other.store.close()

        let again = try await harness.ingest(dbAlert("db-1"))
        #expect(again.opened.isEmpty && again.deduplicated == 1 && again.updated == [opened])

        // And one it resolved is not joined: the key opens a new incident.
        let reopenedElsewhere = try await EngineHarness.make(directory: harness.directory)
        #expect(try await reopenedElsewhere.ingest(dbAlert("db-1", status: .resolved)).resolved == [opened])
        try await reopenedElsewhere.store.close()
        let fresh = try await harness.ingest(dbAlert("db-1"))
        #expect(fresh.opened.count == 1 && fresh.opened != [opened])
    }

    /// A restarted process finds the incidents the last one left open.
    @Test func aRestartFindsTheIncidentsLeftOpen() async throws {
        let harness = try await EngineHarness.make()
        let opened = try await harness.engine.ingest((1...3).map { dbAlert("db-\($0)") }).opened
        #expect(harness.sqlite.activeKeys.unresolvedCount == 3)
        try await harness.store.close()

        let restarted = try await EngineHarness.make(directory: harness.directory)
        defer { Task { try? await restarted.close() } }
        #expect(restarted.sqlite.activeKeys.unresolvedCount == 3)
        let again = try await restarted.engine.ingest((1...3).map { dbAlert("db-\($0)") })
        #expect(again.opened.isEmpty && again.deduplicated == 3 && again.updated == Set(opened))
    }

    /// A restarted process finds the storm incident that holds an alert's key.
    @Test func aRestartFindsTheStormIncidentsAlerts() async throws {
        let stormRules = engineRules + "\n    storm: {threshold: 2, window: 5m}\n"
        let harness = try await EngineHarness.make(stormRules)
        let summary = try await harness.engine.ingest((1...5).map { dbAlert("db-\($0)") })
        #expect(summary.opened.count == 3 && summary.joinedStorm == 2)
        try await harness.store.close()

        let restarted = try await EngineHarness.make(stormRules, directory: harness.directory)
        defer { Task { try? await restarted.close() } }
        let again = try await restarted.ingest(dbAlert("db-5"))
        #expect(again.opened.isEmpty && again.deduplicated == 1 && again.updated == [summary.opened[2]])
    }

    /// A resolved incident leaves the lookup, so it holds the open incidents, not all of them.
    @Test func resolvedIncidentsLeaveTheLookup() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        _ = try await harness.engine.ingest((1...3).map { dbAlert("db-\($0)") })
        _ = try await harness.ingest(dbAlert("db-2", status: .resolved))
        #expect(harness.sqlite.activeKeys.unresolvedCount == 2)
    }

    /// A transaction that fails leaves the lookup as it was.
    @Test func aFailedTransactionChangesNothing() async throws {
        struct Failure: Error {}
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        _ = try await harness.ingest(dbAlert("db-1"))
        await #expect(throws: Failure.self) {
            try await harness.store.write { transaction in
                _ = try await transaction.insertIncident(
                    Incident(
                        key: "db|gone",
                        route: "db",
                        severity: "critical",
                        priority: 1,
                        title: "Gone",
                        voice: nil,
                        providers: ["sim"],
                        escalation: nil,
                        openedAt: harness.start,
                        lastSeen: harness.start
                    ),
                    stormGuarded: false
                )
                throw Failure()
            }
        }
        #expect(harness.sqlite.activeKeys.unresolvedCount == 1)
    }

    /// After a COMMIT (or a ROLLBACK) that failed without saying whether it took effect, the
    /// lookup keeps what it had and adds what the transaction added: too much is checked away,
    /// too little would be a doubled page.
    @Test func aTransactionThatMayHaveCommittedLeavesItsAdditions() {
        let keys = ActiveIncidentKeys()
        let hash = keys.hash("db|a")
        let stormHash = keys.hash("db|b")
        keys.apply([.unresolved(keyHash: hash, id: 1)])
        keys.applyMayHaveCommitted([.resolved(keyHash: hash, id: 1), .unresolved(keyHash: hash, id: 2), .stormKey(keyHash: stormHash, id: 3)])
        #expect(keys.unresolvedCandidates(keyHash: hash) == [2, 1])
        #expect(keys.stormCandidates(keyHash: stormHash) == [3])
        keys.apply([.resolved(keyHash: hash, id: 1)])
        #expect(keys.unresolvedCandidates(keyHash: hash) == [2])
    }

    /// It is filled again whenever the file's `data_version` is not the one of its last
    /// fill, and a fill that failed does not count as one.
    @Test func aFillCountsOnlyOnceItHasSucceeded() {
        struct Failure: Error {}
        let keys = ActiveIncidentKeys()
        #expect(keys.needsFilling(dataVersion: 5))
        #expect(throws: Failure.self) {
            try keys.fill(dataVersion: 5, unresolved: { _ in throw Failure() }, stormKeys: { _ in })
        }
        #expect(keys.needsFilling(dataVersion: 5))
        keys.fill(
            dataVersion: 5,
            unresolved: { add in "db|a".utf8.withContiguousStorageIfAvailable { add(UnsafeRawBufferPointer($0), 1) } },
            stormKeys: { _ in }
        )
        #expect(!keys.needsFilling(dataVersion: 5))
        #expect(keys.needsFilling(dataVersion: 6))
        #expect(keys.unresolvedCandidates(keyHash: keys.hash("db|a")) == [1])
    }

    /// Schema 6 drops the index on every incident's key for one on resolved incidents only,
    /// which the reopen window's lookup uses; incidents open before the upgrade are found.
    @Test func upgradeToTheResolvedKeyIndexFindsOlderIncidents() async throws {
        let old = try await EngineHarness.make(migrations: 5)
        let opened = try #require(try await old.ingest(dbAlert("db-1")).opened.first)
        try await old.store.close()

        let upgraded = try await EngineHarness.make(directory: old.directory, migrations: 6)
        defer { Task { try? await upgraded.close() } }
        #expect(try await upgraded.sqlite.schemaVersion() == 6)
        #expect(try await upgraded.ingest(dbAlert("db-1")).updated == [opened])
        let handle = try SQLiteHandle(path: upgraded.path, busyTimeout: .seconds(1))
        defer { handle.close() }
        let indexes = try handle.query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
            .map { ($0.values[0].string ?? "", $0.values[1].string ?? "") }
        #expect(!indexes.contains { $0.0 == "incidents_key" })
        #expect(indexes.contains { $0.0 == "incidents_resolved_key" && $0.1.hasSuffix("WHERE resolved_at IS NOT NULL") })
        let plan = try handle.query("EXPLAIN QUERY PLAN " + SQLiteTransaction.resolvedIncidentByKey.replacingOccurrences(of: "?", with: "0"))
            .map { $0.values[3].string ?? "" }
        #expect(plan.contains { $0.contains("incidents_resolved_key") }, "\(plan)")
    }
}
