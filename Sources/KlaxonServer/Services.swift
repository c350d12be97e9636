import Foundation
import KlaxonEngine
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The escalation scheduler as a service: on graceful shutdown it stops claiming steps and
/// returns once the calls already in flight have finished and been recorded.
struct SchedulerService: Service {
    let engine: IncidentEngine
    /// Yields once the HTTP server listens. No step is claimed before: a start that cannot
    /// bind (the port taken) would place calls and cut them short, again on every restart
    /// of its supervisor, and each cut call is placed again by the next start.
    let listening: AsyncStream<Void>

    func run() async throws {
        let listens = await cancelWhenGracefulShutdown { () async -> Bool in
            for await _ in listening { return true }
            return false
        }
        guard listens else { return }
        let stopping = Atomic(false)
        await withGracefulShutdownHandler {
            await engine.runScheduler(isStopping: { stopping.load(ordering: .relaxed) })
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            engine.wakeScheduler()
        }
    }
}

/// Reloads the rules on SIGHUP, as `POST /-/reload` does.
struct HangupReloadService: Service {
    let reloader: RuleReloader
    let engine: IncidentEngine

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        // One that came while klaxon started (after it read the rules, before this listened)
        // asked for rules newer than those it started with.
        if EarlyHangup.take() { await reload() }
        await cancelWhenGracefulShutdown {
            for await _ in signals { await reload() }
        }
    }

    private func reload() async {
        if case .loaded = await reloader.reload(into: engine) { engine.wakeScheduler() }
    }
}

/// A SIGHUP that comes before the reloader listens for it.
public enum EarlyHangup {
    /// Called first by `klaxon serve`: until the reloader listens (the store's recovery can
    /// take seconds), a SIGHUP from a configuration tool would end the process by default,
    /// and ignored it would be lost; it is noted, and the reloader reloads once it listens.
    public static func noteUntilReloaderListens() {
        signal(SIGHUP) { _ in hangupBeforeListening.store(true, ordering: .relaxed) }
    }

    /// Whether one came, once.
    static func take() -> Bool {
        hangupBeforeListening.exchange(false, ordering: .relaxed)
    }
}

private let hangupBeforeListening = Atomic(false)
