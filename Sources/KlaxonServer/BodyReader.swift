import Hummingbird
import NIOCore
import Synchronization

/// Reads request bodies against a deadline, in the handler's own task. One sweeper task,
/// awake only while reads are under way, closes for reading the connections whose body has
/// passed its deadline, which ends the read; the handler then answers 408 and the server
/// closes the connection. A task or a timer per request cost more than the rest of a small
/// webhook's handling.
final class BodyReader: Sendable {
    static let shared = BodyReader()

    /// How often the sweeper looks; a read may overrun its deadline by this much.
    static let granularity = Duration.milliseconds(50)

    private struct Pending {
        var deadline: ContinuousClock.Instant
        var channel: any Channel
        var expired = false
    }

    private struct State {
        var pending: [UInt64: Pending] = [:]
        var nextID: UInt64 = 0
        var sweeping = false
    }

    private let state = Mutex(State())

    /// The body, or nil when it has not all arrived on `channel` within `timeout`. Throws
    /// what collecting throws (`NIOTooManyBytesError` past `limit`).
    func read(_ request: Request, channel: any Channel, limit: Int, timeout: Duration) async throws -> ByteBuffer? {
        let deadline = ContinuousClock.now + timeout
        let (id, startSweeper) = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.pending[id] = Pending(deadline: deadline, channel: channel)
            defer { state.sweeping = true }
            return (id, !state.sweeping)
        }
        if startSweeper { Task { await self.sweep() } }
        let result: Result<ByteBuffer, any Error>
        do {
            result = .success(try await request.body.collect(upTo: limit))
        } catch {
            result = .failure(error)
        }
        // A read cut short by the sweeper may end without an error, with part of the body.
        let expired = state.withLock { $0.pending.removeValue(forKey: id)?.expired ?? false }
        if expired { return nil }
        return try result.get()
    }

    private func sweep() async {
        while true {
            try? await Task.sleep(for: Self.granularity)
            let now = ContinuousClock.now
            let done = state.withLock { state -> Bool in
                for (id, pending) in state.pending where !pending.expired && pending.deadline <= now {
                    state.pending[id]?.expired = true
                    Self.closeForReading(pending.channel)
                }
                if state.pending.isEmpty { state.sweeping = false }
                return state.pending.isEmpty
            }
            if done { return }
        }
    }

    /// Ends the connection's input, or the whole connection where the input cannot be
    /// closed alone: a read that never ends would hold its handler for good.
    private static func closeForReading(_ channel: any Channel) {
        let closed = channel.eventLoop.makePromise(of: Void.self)
        closed.futureResult.whenFailure { _ in channel.close(promise: nil) }
        channel.close(mode: .input, promise: closed)
    }
}
