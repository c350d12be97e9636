import Foundation
import KlaxonCore
import Testing

@testable import KlaxonEngine

@Suite("Group commit: many webhooks, shared transactions, each recorded once")
struct GroupCommitTests {
    @Test(.timeLimit(.minutes(1))) func concurrentWebhooksAreEachRecordedOnce() async throws {
        let harness = try await EngineHarness.make()
        defer { Task { try? await harness.close() } }
        let engine = harness.engine
        // 300 webhooks with new alerts and 50 repeats of one alert, all at once: they share
        // transactions, some applied while the one before is still being synced.
        let summaries = try await withThrowingTaskGroup(of: IngestSummary.self) { group in
            for index in 0..<300 { group.addTask { try await engine.ingest([dbAlert("db-\(index)")]) } }
            for _ in 0..<50 { group.addTask { try await engine.ingest([dbAlert("repeated")]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(summaries.reduce(0) { $0 + $1.opened.count } == 301)
        #expect(summaries.reduce(0) { $0 + $1.deduplicated } == 49)
        let open = try await engine.incidents(.open)
        #expect(open.count == 301)
        let repeated = try #require(open.first { $0.title == "MySQLDown" && $0.count == 50 })
        #expect(try await harness.detail(repeated.id).alerts.count == 1)
        try await harness.expectNoDanglingReferences()
    }

    /// A writer takes its group at once after an idle spell, and under a steady stream waits
    /// until 2 ms after the last group was taken, unless enough alerts wait already.
    @Test func groupsAreTakenAtMostEveryTwoMillisecondsUnderAStream() {
        let now = ContinuousClock.now
        #expect(GroupCommit.linger(alertsWaiting: 1, lastTaken: nil, now: now) == nil)
        #expect(GroupCommit.linger(alertsWaiting: 1, lastTaken: now - .milliseconds(5), now: now) == nil)
        #expect(GroupCommit.linger(alertsWaiting: 1, lastTaken: now - .milliseconds(2), now: now) == nil)
        #expect(GroupCommit.linger(alertsWaiting: 3, lastTaken: now - .microseconds(500), now: now) == .microseconds(1500))
        #expect(GroupCommit.linger(alertsWaiting: GroupCommit.pipelineThreshold - 1, lastTaken: now, now: now) == .milliseconds(2))
        #expect(GroupCommit.linger(alertsWaiting: GroupCommit.pipelineThreshold, lastTaken: now, now: now) == nil)
    }
}
