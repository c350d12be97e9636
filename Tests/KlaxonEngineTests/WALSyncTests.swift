import Foundation
import KlaxonCore
import KlaxonTestSupport
import Synchronization
import Testing

@testable import KlaxonEngine

@Suite("WAL sync: one disk sync for many commits")
struct WALSyncTests {
    @Test(.timeLimit(.minutes(1))) func aCommitDuringASyncWaitsForTheNextOne() async throws {
        let calls = Mutex(0)
        let release = DispatchSemaphore(value: 0)
        let walSync = WALSync(sync: {
            // The first sync holds on until the test lets it go.
            if count(calls) == 1 { release.wait() }
        })
        defer { walSync.shutdown() }
        let first = Task { try await walSync.sync() }
        while calls.withLock({ $0 }) < 1 { try await Task.sleep(for: .milliseconds(1)) }
        // These commits came after the sync under way began: it cannot cover them.
        let second = Task { try await walSync.sync() }
        let third = Task { try await walSync.sync() }
        while walSync.waitingForNextSync < 2 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(calls.withLock { $0 } == 1)
        release.signal()
        try await first.value
        try await second.value
        try await third.value
        #expect(calls.withLock { $0 } == 2, "one more sync for both later commits")
    }

    /// After a failed `fdatasync` the kernel may have dropped the pages it could not write,
    /// so a later sync that succeeds proves nothing: every later sync fails too.
    @Test func aFailedSyncFailsEveryLaterOneWithoutSyncingAgain() async throws {
        let calls = Mutex(0)
        let walSync = WALSync(sync: {
            if count(calls) == 1 { throw StoreError("EIO") }
        })
        defer { walSync.shutdown() }
        #expect(walSync.failure == nil)
        await #expect(throws: StoreError.self) { try await walSync.sync() }
        await #expect(throws: StoreError.self) { try await walSync.sync() }
        #expect(calls.withLock { $0 } == 1)
        #expect(walSync.failure?.message.contains("EIO") == true)
    }

    @Test func theSyncThreadCarriesItsNameForTopAndPerf() async throws {
        let name = Mutex("")
        let walSync = WALSync(sync: {
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            name.withLock { $0 = comm.trimmingCharacters(in: .newlines) }
        })
        defer { walSync.shutdown() }
        try await walSync.sync()
        #expect(name.withLock { $0 } == "klaxon-wal-sync")
    }

    @Test(.timeLimit(.minutes(1))) func afterShutdownTheFileIsClosedAndSyncsFail() async throws {
        let closed = Mutex(0)
        let walSync = WALSync(sync: {}, close: { closed.withLock { $0 += 1 } })
        try await walSync.sync()
        walSync.shutdown()
        await #expect(throws: StoreError.self) { try await walSync.sync() }
        while closed.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(closed.withLock { $0 } == 1)
    }

    /// A commit whose disk sync fails is answered with an error, and its batches are not
    /// applied again (their effects are visible already): the sender's retry deduplicates.
    @Test(.timeLimit(.minutes(1))) func aFailedSyncFailsItsWebhooksWithoutApplyingThemTwice() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let failing = Mutex(false)
        let store = try await SQLiteIncidentStore.open(
            path: harness.path,
            walSync: { _ in WALSync(sync: { if failing.withLock({ $0 }) { throw StoreError("EIO") } }) }
        )
        defer { Task { try? await store.close() } }
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        failing.withLock { $0 = true }
        let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        _ = try await engine.ingest([dbAlert("db-\(index)")])
                        return false
                    } catch is DurabilityError {
                        return true
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 20)
        // Recorded once each, none applied a second time by a retry of its group.
        #expect(try await engine.incidents(.open).map(\.count) == Array(repeating: 1, count: 20))
        // A sync that works again proves nothing: nothing more is recorded, and the store
        // is not ready, until a restart.
        failing.withLock { $0 = false }
        await #expect(throws: StoreError.self) { _ = try await engine.ingest([dbAlert("db-20")]) }
        await #expect(throws: StoreError.self) { try await store.ping() }
        #expect(try await engine.incidents(.open).count == 20)
        let restarted = try await SQLiteIncidentStore.open(path: harness.path)
        defer { Task { try? await restarted.close() } }
        let engineAfterRestart = IncidentEngine(store: restarted, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        for index in 0..<20 {
            #expect(try await engineAfterRestart.ingest([dbAlert("db-\(index)")]).deduplicated == 1)
        }
        #expect(try await engineAfterRestart.incidents(.open).map(\.count) == Array(repeating: 2, count: 20))
        try await harness.expectNoDanglingReferences()
    }

    /// COMMIT leaves the disk sync to WALSync (`synchronous=FULL`, deferred), so a webhook
    /// must not be answered before the WAL sync that follows it: the ingest returns only
    /// once that sync is done.
    @Test(.timeLimit(.minutes(1))) func aWebhookIsAnsweredOnlyAfterItsCommitIsSynced() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        #expect(try await harness.sqlite.writerSynchronousMode() == 2)
        let holding = Mutex(false)
        let syncs = Mutex(0)
        let release = DispatchSemaphore(value: 0)
        let store = try await SQLiteIncidentStore.open(
            path: harness.path,
            walSync: { _ in
                WALSync(sync: {
                    _ = count(syncs)
                    if holding.withLock({ $0 }) { release.wait() }
                })
            }
        )
        defer { Task { try? await store.close() } }
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        holding.withLock { $0 = true }
        let before = syncs.withLock { $0 }
        let ingest = Task { try await engine.ingest([dbAlert("db-1")]) }
        while syncs.withLock({ $0 }) == before { try await Task.sleep(for: .milliseconds(1)) }
        // Committed and visible, but its sync has not finished: no answer yet.
        #expect(try await engine.incidents(.open).count == 1)
        let answered = Mutex(false)
        let watcher = Task {
            _ = try? await ingest.value
            answered.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(answered.withLock { $0 } == false)
        holding.withLock { $0 = false }
        release.signal()
        #expect(try await ingest.value.opened.count == 1)
        await watcher.value
    }

    /// The scheduler starts on a new step once the webhook's transaction commits, before
    /// that commit is on disk; but no vendor hears of the step until a sync has made every
    /// commit before the call durable: the webhook's, the claim's and the call's own record.
    @Test(.timeLimit(.minutes(1))) func aStepsCallWaitsForTheDiskBeforeTheVendor() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let holding = Mutex(false)
        let release = DispatchSemaphore(value: 0)
        let store = try await SQLiteIncidentStore.open(
            path: harness.path,
            walSync: { _ in WALSync(sync: { if holding.withLock({ $0 }) { release.wait() } }) }
        )
        defer { Task { try? await store.close() } }
        let engine = IncidentEngine(store: store, rules: harness.engine.rules, clock: harness.clock.engineClock(start: harness.start))
        holding.withLock { $0 = true }
        let stopping = Mutex(false)
        let scheduler = Task { await engine.runScheduler(isStopping: { stopping.withLock { $0 } }) }
        // Nothing is due and the clock stands still: only the ingest's signal can wake it.
        while !engine.wake.isWaiting { try await Task.sleep(for: .milliseconds(1)) }
        let ingest = Task { try await engine.ingest([dbAlert("db-1")]) }
        // Step 1 is due at once: its calls get recorded as started while every sync waits.
        while try await engine.recentCalls().count < 2 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(try await engine.recentCalls().allSatisfy { $0.state == .started })
        try await Task.sleep(for: .milliseconds(100))
        #expect(harness.provider.requests.isEmpty, "a vendor was called before the disk had the call's record")
        holding.withLock { $0 = false }
        release.signal()
        #expect(try await ingest.value.opened.count == 1)
        while harness.provider.requests.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        stopping.withLock { $0 = true }
        engine.wakeScheduler()
        await scheduler.value
    }
}

/// Adds one and returns the new count.
private func count(_ counter: borrowing Mutex<Int>) -> Int {
    counter.withLock { count in
        count += 1
        return count
    }
}
