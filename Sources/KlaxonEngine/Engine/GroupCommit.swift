import Foundation
import KlaxonCore
import KlaxonRules
import Synchronization

/// Many webhooks, one transaction: batches that arrive while a commit is under way wait
/// and go into the next transaction together, so one disk sync serves them all. A batch
/// alone is committed at once; nothing waits for company.
///
/// Each batch still succeeds or fails whole: when the shared transaction fails, every
/// batch of it is retried in a transaction of its own, so one bad batch cannot fail the
/// others and none is half-applied.
final class GroupCommit: Sendable {
    struct Batch: Sendable {
        var plans: [AlertPlan]
        var rules: EngineRules
    }

    private struct Waiting {
        var batch: Batch
        var continuation: CheckedContinuation<IngestSummary, any Error>
    }

    private struct State {
        var queue: [Waiting] = []
        var writing = false
    }

    /// The most batches one transaction takes.
    static let groupLimit = 256

    private let state = Mutex(State())
    private let store: any IncidentStore
    private let clock: EngineClock

    init(store: any IncidentStore, clock: EngineClock) {
        self.store = store
        self.clock = clock
    }

    /// Returns once `batch` is committed.
    func commit(_ batch: Batch) async throws -> IngestSummary {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.queue.append(Waiting(batch: batch, continuation: continuation))
                if state.writing { return false }
                state.writing = true
                return true
            }
            if startWriter {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let group = state.withLock { state -> [Waiting] in
                if state.queue.count <= Self.groupLimit {
                    if state.queue.isEmpty { state.writing = false }
                    defer { state.queue = [] }
                    return state.queue
                }
                let taken = Array(state.queue.prefix(Self.groupLimit))
                state.queue.removeFirst(taken.count)
                return taken
            }
            if group.isEmpty { return }
            let now = clock.now()
            do {
                let summaries = try await store.write { transaction in
                    var summaries: [IngestSummary] = []
                    for index in group.indices {
                        summaries.append(try await IncidentEngine.apply(group[index].batch, now: now, to: transaction))
                    }
                    return summaries
                }
                for (waiting, summary) in zip(group, summaries) { waiting.continuation.resume(returning: summary) }
            } catch  where group.count > 1 {
                for waiting in group {
                    do {
                        let summary = try await store.write { transaction in
                            try await IncidentEngine.apply(waiting.batch, now: now, to: transaction)
                        }
                        waiting.continuation.resume(returning: summary)
                    } catch {
                        waiting.continuation.resume(throwing: error)
                    }
                }
            } catch {
                for waiting in group { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
