import Foundation
import KlaxonCore
import Synchronization

/// Wakes the scheduler early: a new incident's first step is due now, not at the next poll.
/// One waiter (the scheduler loop); a signal sent while nobody waits is kept for the next wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        /// When the waiting scheduler wakes anyway; nil while it is not waiting.
        var wakeAt: Date?
        var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Wakes the scheduler unless it already means to wake by `date`: a batch of new
    /// incidents whose first steps are an hour away costs the scheduler nothing.
    func signal(dueBy date: Date) {
        signal { wakeAt in wakeAt.map { date < $0 } ?? true }
    }

    func signal() {
        signal { _ in true }
    }

    private func signal(if needed: (Date?) -> Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.waiter == nil || needed(state.wakeAt) else { return nil }
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Whether the scheduler is waiting for a signal; tests wait for this before they post.
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    /// Returns after `delay` on `clock`, on a signal, or on cancellation, whichever comes first.
    func wait(upTo delay: Duration, clock: EngineClock) async {
        let signalled = state.withLock { state -> Bool in
            defer { state.pending = false }
            state.wakeAt = state.pending || delay <= .zero ? nil : clock.now().adding(delay)
            return state.pending
        }
        if signalled || delay <= .zero { return }
        defer { state.withLock { $0.wakeAt = nil } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(delay) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = (id, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume()
        }
    }
}
