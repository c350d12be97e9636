import Foundation
import KlaxonCore
import KlaxonRules
import Synchronization

/// Many webhooks, one transaction: batches that arrive while a transaction is under way
/// wait and go into the next one together. A batch that comes more than `minimumInterval`
/// (2 ms) after the last group was taken is committed at once; under a steady stream,
/// groups are taken at most that often unless enough alerts wait
/// (``linger(alertsWaiting:lastTaken:now:)``).
///
/// Under load the next transaction starts as soon as the last one has committed, while the
/// store still makes that commit durable: applying one group overlaps the disk sync of the
/// one before, and the group's callers are answered once the sync is done. Under light
/// load the next group waits for that sync instead and so gathers more batches: each
/// commit writes a dozen pages to the WAL however few batches it holds, and many tiny
/// commits cost more CPU and disk than the wait.
///
/// Each batch still succeeds or fails whole: when the shared transaction fails, every
/// batch of it is retried in a transaction of its own, so one bad batch cannot fail the
/// others and none is half-applied.
final class GroupCommit: Sendable {
    struct Batch: Sendable {
        var plans: [AlertPlan]
        /// Each plan's alert encoded for the store, in the order of `plans`; nil for alerts
        /// that cannot add a row (resolved, dropped, unrouted).
        var encoded: [EncodedLabels?]
        /// ``IncidentEngine/firingByKey(_:)`` of `plans`.
        var firingByKey: [String: [(index: Int, fingerprint: String)]]
        /// How many alerts the sender left out of this notification (Alertmanager's
        /// `truncatedAlerts`): they may still fire, so the batch resolves no incident.
        var leftOut = 0
        var rules: EngineRules
    }

    private struct Waiting {
        var batch: Batch
        var continuation: CheckedContinuation<IngestSummary, any Error>
    }

    private struct State {
        var queue: [Waiting] = []
        /// A writer has been started and has not yet taken the queue.
        var writerWaiting = false
        /// Transactions taken and not yet durable.
        var inFlight = 0
        /// When the last group was taken.
        var lastTaken: ContinuousClock.Instant?

        func lingerBeforeTaking() -> Duration? {
            // Alerts, not batches: one webhook of a hundred alerts is a large commit already.
            var alerts = 0
            for waiting in queue {
                alerts += waiting.batch.plans.count
                if alerts >= GroupCommit.pipelineThreshold { return nil }
            }
            return GroupCommit.linger(alertsWaiting: alerts, lastTaken: lastTaken, now: .now)
        }

        /// Whether to start a writer now: none waits, and either nothing is in flight or
        /// enough batches wait to be worth a transaction of their own.
        mutating func shouldStartWriter() -> Bool {
            guard !writerWaiting, !queue.isEmpty, inFlight == 0 || queue.count >= GroupCommit.pipelineThreshold else { return false }
            writerWaiting = true
            return true
        }
    }

    /// The most batches one transaction takes.
    static let groupLimit = 256
    /// Batches waiting that start a transaction while the last one is still being synced.
    static let pipelineThreshold = 16
    /// The least time between taking one group and the next, unless `pipelineThreshold`
    /// alerts wait (below).
    static let minimumInterval = Duration.milliseconds(2)

    /// How long a writer waits before taking its group: until `minimumInterval` after the
    /// last group was taken, when fewer than `pipelineThreshold` alerts wait. Under a steady
    /// stream of webhooks they then share a commit with those of the next millisecond or two
    /// instead of committing in twos and threes: each commit writes a dozen pages to the WAL
    /// however few webhooks it holds.
    static func linger(alertsWaiting: Int, lastTaken: ContinuousClock.Instant?, now: ContinuousClock.Instant) -> Duration? {
        guard alertsWaiting < pipelineThreshold, let lastTaken else { return nil }
        let wait = lastTaken + minimumInterval - now
        return wait > .zero ? wait : nil
    }

    private let state = Mutex(State())
    private let store: any IncidentStore
    private let clock: EngineClock
    private let committed: @Sendable (IngestSummary) -> Void

    /// `committed` sees each batch's summary once its transaction has committed, before
    /// the commit is durable and the batch's caller is answered.
    init(store: any IncidentStore, clock: EngineClock, committed: @escaping @Sendable (IngestSummary) -> Void = { _ in }) {
        self.store = store
        self.clock = clock
        self.committed = committed
    }

    /// Returns once `batch` is committed.
    func commit(_ batch: Batch) async throws -> IngestSummary {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.queue.append(Waiting(batch: batch, continuation: continuation))
                return state.shouldStartWriter()
            }
            if startWriter {
                Task { await self.write() }
            }
        }
    }

    /// One transaction: waits for the store, takes what has queued up by then, applies it,
    /// and commits. The group's callers are answered from the thread that makes the commit
    /// durable, without a hop back through this task.
    private func write() async {
        if let wait = state.withLock({ $0.lingerBeforeTaking() }) {
            try? await Task.sleep(for: wait)
        }
        // The group, its time and its summaries, taken once the store is ours: a writer may
        // wait for the last COMMIT, or up to the busy timeout for another process's lock.
        let taken = TakenGroup()
        do {
            try await store.write(
                { transaction in
                    let group = takeGroup()
                    let now = clock.now()
                    taken.state.withLock { $0 = (group, now, []) }
                    var summaries: [IngestSummary] = []
                    for index in group.indices {
                        summaries.append(try await IncidentEngine.apply(group[index].batch, now: now, to: transaction))
                    }
                    taken.state.withLock { $0.summaries = summaries }
                    startNextWriter()
                },
                whenDurable: { result in
                    let (group, _, summaries) = taken.state.withLock { $0 }
                    switch result {
                    case .success:
                        for (waiting, summary) in zip(group, summaries) { waiting.continuation.resume(returning: summary) }
                    case .failure(let error):
                        for waiting in group { waiting.continuation.resume(throwing: error) }
                    }
                    self.finished()
                }
            )
            for summary in taken.state.withLock({ $0.summaries }) { committed(summary) }
        } catch {
            defer { finished() }
            // Nothing taken: the transaction never began (the store is locked or gone), and
            // the whole queue fails with it rather than retrying batch by batch.
            let (taken, now, _) = taken.state.withLock { $0 }
            let began = !taken.isEmpty
            let group = began ? taken : takeGroup()
            startNextWriter()
            // A DurabilityError comes after the commit: the batches are applied already.
            if began && group.count > 1 && !(error is DurabilityError) {
                for waiting in group {
                    do {
                        let summary = try await store.write { transaction in
                            try await IncidentEngine.apply(waiting.batch, now: now, to: transaction)
                        }
                        committed(summary)
                        waiting.continuation.resume(returning: summary)
                    } catch {
                        waiting.continuation.resume(throwing: error)
                    }
                }
            } else {
                for waiting in group { waiting.continuation.resume(throwing: error) }
            }
        }
    }

    private final class TakenGroup: Sendable {
        let state = Mutex<(group: [Waiting], now: Date, summaries: [IngestSummary])>(([], .distantPast, []))
    }

    private func takeGroup() -> [Waiting] {
        state.withLock { state in
            state.writerWaiting = false
            state.inFlight += 1
            state.lastTaken = .now
            if state.queue.count <= Self.groupLimit {
                defer { state.queue = [] }
                return state.queue
            }
            let taken = Array(state.queue.prefix(Self.groupLimit))
            state.queue.removeFirst(taken.count)
            return taken
        }
    }

    /// Starts a writer for batches that queued while this one was applying, if enough did.
    private func startNextWriter() {
        if state.withLock({ $0.shouldStartWriter() }) { Task { await self.write() } }
    }

    /// This transaction is durable (or failed): the batches that queued meanwhile go next.
    private func finished() {
        let start = state.withLock { state in
            state.inFlight -= 1
            return state.shouldStartWriter()
        }
        if start { Task { await self.write() } }
    }
}
