import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonRules
import Logging
import Synchronization

extension IncidentEngine {
    /// How many due steps one pass of the scheduler claims.
    static let claimLimit = 100
    /// A step that runs at least this late (klaxon was not running, or its store out of
    /// reach) moves its incident's later steps by as much: the chain keeps its spacing.
    static let lateStepThreshold = Duration.seconds(60)

    /// Claims every due step and places its calls; returns when all of them are done.
    /// The scheduler does the same without waiting; tests call this after moving the clock.
    @discardableResult
    public func runDueSteps() async throws -> Int {
        var total = 0
        while true {
            let steps = try await claimDueSteps()
            if steps.isEmpty { return total }
            total += steps.count
            await withTaskGroup(of: Void.self) { group in
                for step in steps { group.addTask { await self.execute(step) } }
            }
        }
    }

    func claimDueSteps() async throws -> [ScheduledStep] {
        let now = clock.now()
        do {
            try await requeueLostClaims()
            // No wait for the disk: each claimed step's next write (its calls recorded as
            // started, or the step closed) waits for a sync that covers this commit too, and
            // nothing leaves the process before that. A claim lost with the machine only
            // leaves its steps pending, to be claimed again.
            let claimed = try await store.write({ try await Self.claim(now: now, in: $0) }, whenDurable: { _ in })
            // A step a task here is still running (its store was out of reach long enough for
            // another instance to requeue it, and this one claimed it back) keeps that task.
            return claims.withLock { state in
                let steps = claimed.filter { !state.inFlight.contains($0.id) }
                state.inFlight.formUnion(steps.map(\.id))
                return steps
            }
        } catch {
            // The claim's COMMIT may have landed with its answer lost (a dropped connection):
            // its steps would stay running for nobody.
            claims.withLock { $0.mayHaveCommitted = true }
            metrics.storeError()
            throw error
        }
    }

    /// Claims the due steps, the earliest of each incident. One that runs a minute or more
    /// late (klaxon was down, its store out of reach, or it is run again after a crash)
    /// moves its incident's later steps by as much, in the same transaction, so they are
    /// not claimed right after it: the chain resumes with its spacing instead of ringing
    /// every overdue level, and the same people, at once. Its own due time becomes now, from
    /// which a hold that defers it counts.
    static func claim(now: Date, in transaction: any IncidentTransaction) async throws -> [ScheduledStep] {
        var steps = try await transaction.claimDueSteps(now: now, limit: claimLimit)
        for index in steps.indices where try await moveLaterSteps(of: steps[index], dueAt: steps[index].dueAt, now: now, in: transaction) {
            steps[index].claimedLate = .milliseconds(now.millisecondsSince1970 - steps[index].dueAt.millisecondsSince1970)
            steps[index].dueAt = now
        }
        return steps
    }

    /// When `step` (running, due at `dueAt`) starts a minute or more late, moves its
    /// incident's later steps by as much, and its own due time to now; true when it did.
    static func moveLaterSteps(of step: ScheduledStep, dueAt: Date, now: Date, in transaction: any IncidentTransaction) async throws -> Bool {
        let lateness = Duration.milliseconds(now.millisecondsSince1970 - dueAt.millisecondsSince1970)
        guard lateness >= lateStepThreshold else { return false }
        let moved = try await transaction.delayPendingSteps(incidentID: step.incidentID, from: dueAt, except: step.id, by: lateness)
        try await transaction.updateStep(id: step.id, state: .running, dueAt: now)
        if moved > 0 {
            try await transaction.appendEvent(
                TimelineEvent(
                    incidentID: step.incidentID,
                    at: now,
                    kind: "steps_delayed",
                    actor: "scheduler",
                    detail: "step \(step.step) starts \(lateness) late; its \(moved) later step(s) move with it, keeping their spacing"
                )
            )
        }
        return true
    }

    /// After a claim that may have committed unseen, its steps are made pending again: the
    /// running steps of this process that no task is running.
    func requeueLostClaims() async throws {
        let inFlight: Set<Int64>? = claims.withLock { $0.mayHaveCommitted ? $0.inFlight : nil }
        guard let inFlight else { return }
        let now = clock.now()
        let requeued = try await store.write { transaction -> [ScheduledStep] in
            let steps = try await transaction.requeueOwnRunningSteps(except: inFlight)
            for step in steps {
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: step.incidentID,
                        at: now,
                        kind: "step_requeued",
                        actor: "scheduler",
                        detail: "step \(step.step) was claimed by a claim whose answer was lost; it runs now"
                    )
                )
            }
            return steps
        }
        claims.withLock { $0.mayHaveCommitted = false }
        if !requeued.isEmpty {
            logger.warning("requeued steps of a claim whose answer was lost", metadata: ["steps": "\(requeued.map(\.id))"])
        }
    }

    /// The scheduler: claims due steps and places their calls, each step in its own task
    /// so a slow vendor holds up only its own calls. Sleeps until the next step is due or a
    /// new incident wakes it. Returns when `isStopping` says so (graceful shutdown), after
    /// every call in flight has finished.
    public func runScheduler(idle: Duration = .seconds(30), isStopping: @escaping @Sendable () -> Bool = { false }) async {
        // In real time, not the engine's clock: liveness is judged by the database's clock.
        // The heartbeat keeps a fixed rate of its own, apart from the recovery, and a failed
        // one is retried within a second: a gap of two intervals makes the database's
        // judgement of the other instances start over (``PostgresIncidentStore``).
        let heartbeats = store.heartbeatInterval.map { interval in
            Task {
                var next = ContinuousClock.now + interval
                while !Task.isCancelled {
                    try? await Task.sleep(until: next)
                    if Task.isCancelled { break }
                    do {
                        try await store.heartbeat()
                        next += interval
                    } catch {
                        logger.error("cannot reach the shared store to keep this instance alive; retrying", metadata: ["error": "\(error)"])
                        next = .now + min(.seconds(1), interval)
                    }
                }
            }
        }
        let recoveries = store.heartbeatInterval.map { interval in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    do {
                        try await recoverInterruptedWork()
                    } catch {
                        logger.error("cannot take over the work of stopped instances; retrying", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
        defer {
            heartbeats?.cancel()
            recoveries?.cancel()
        }
        await withDiscardingTaskGroup { group in
            // The open-incident gauge is counted here, not on every commit: counting is a
            // scan of the open incidents.
            var counted = ContinuousClock.now - .seconds(60)
            while !isStopping(), !Task.isCancelled {
                if ContinuousClock.now - counted >= .seconds(5) {
                    counted = ContinuousClock.now
                    await refreshOpenIncidents()
                }
                var delay = idle
                do {
                    // Before the read: the steps of a lost claim are not pending, so nothing
                    // would look due.
                    try await requeueLostClaims()
                    // A read first: claiming is a write transaction and a disk sync, worth it
                    // only when something is due.
                    let now = clock.now()
                    if let next = try await store.read({ try await $0.nextDueDate(now: now) }) {
                        if next <= now {
                            let steps = try await claimDueSteps()
                            for step in steps {
                                group.addTask {
                                    await self.execute(step)
                                    // The incident's next step may have waited for this one.
                                    self.wake.signal()
                                }
                            }
                            delay = .zero
                        } else {
                            let milliseconds = next.millisecondsSince1970 - now.millisecondsSince1970
                            delay = min(idle, .milliseconds(milliseconds))
                        }
                    }
                    delay = min(delay, .seconds(5))
                } catch {
                    logger.error("scheduler cannot reach the store; retrying", metadata: ["error": "\(error)"])
                    delay = .seconds(1)
                }
                if isStopping() { break }
                await wake.wait(upTo: delay, clock: clock)
            }
        }
    }

    /// Wakes the scheduler now (a graceful shutdown, a reload).
    public func wakeScheduler() {
        wake.signal()
    }

    /// Run once at start, before the scheduler: steps a stopped process left running go
    /// back to pending, and calls it recorded as started without an answer become
    /// `interrupted`. Their recipients are called again unless a vendor's acceptance was
    /// recorded: a possible duplicate call beats a lost page. On a store several instances
    /// share, the stopped processes are the instances it no longer hears from, and
    /// the scheduler runs this again every heartbeat interval.
    @discardableResult
    public func recoverInterruptedWork() async throws -> (steps: Int, calls: Int) {
        let now = clock.now()
        let result = try await store.write { transaction in
            let calls = try await transaction.interruptStartedCalls(at: now)
            for call in calls {
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: call.incidentID,
                        at: now,
                        kind: "call_interrupted",
                        actor: "scheduler",
                        detail: "klaxon stopped before the vendor's answer to the call to \(call.recipient.name) was recorded",
                        callID: call.callID
                    )
                )
            }
            let steps = try await transaction.requeueRunningSteps()
            for step in steps {
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: step.incidentID,
                        at: now,
                        kind: "step_requeued",
                        actor: "scheduler",
                        detail: "step \(step.step) was placing calls when klaxon stopped; it runs again for everyone not recorded as called"
                    )
                )
            }
            return (steps: steps.count, calls: calls.count)
        }
        if result.steps > 0 || result.calls > 0 {
            logger.warning("resuming work of a stopped process", metadata: ["steps": "\(result.steps)", "calls": "\(result.calls)"])
        }
        await refreshOpenIncidents()
        return result
    }

    /// What a claimed step turned out to need.
    private enum StepPlan: Sendable {
        case finished
        /// Another instance took the step over (this one was taken for dead).
        case taken
        case call(incident: Incident, calls: [CallRecord], heldBack: [CallRecipient], alert: IncidentAlert?, firing: Int)
    }

    /// Places one claimed step's calls. The calls are committed as `started` before any
    /// vendor is contacted; the vendors' answers are committed after.
    /// `callID` names this run's calls, whichever try of its transaction commits; tests
    /// pass one to play an earlier try.
    func execute(_ step: ScheduledStep, callID: String = CallID.make()) async {
        defer { claims.withLock { _ = $0.inFlight.remove(step.id) } }
        let rules = self.rules
        let prepared = await writeRetrying("prepare escalation step", step: step) { [clock] transaction in
            // Read in each try: after a store outage, quiet hours and rate limits are judged
            // at the time the calls go out.
            try await Self.prepare(step, callID: callID, rules: rules, now: clock.now(), in: transaction)
        }
        guard let plan = prepared else { return }
        if case .taken = plan { logTakenOver(step) }
        guard case .call(let incident, let calls, let heldBack, let alert, let firing) = plan else { return }
        metrics.stepFired(route: incident.route)
        if !heldBack.isEmpty {
            for _ in heldBack { metrics.call(provider: "none", outcome: "held_back") }
            logger.warning(
                calls.isEmpty
                    ? "rate limit held back every call of an escalation step: nobody is called for it"
                    : "rate limit held back calls of an escalation step",
                metadata: ["incident": "\(incident.id)", "step": "\(step.step)", "held_back": "\(heldBack.map(\.name))"]
            )
        }
        // Nobody to call (all reached or held back): prepare closed the step.
        guard !calls.isEmpty else { return }
        var outcomes: [String: CallDispatcher<EngineClock.Adapter>.Outcome] = [:]
        var failure: String?
        // Set when the incident stopped being open (acknowledged, resolved), or a reopen or a
        // more urgent alert gave it a new chain, while the step was placing its calls: nobody
        // is called again for it. With what happened, for the timeline.
        let stoppedBy = Mutex<(incident: Incident, how: String)?>(nil)
        // The calls recorded as accepted while the step goes on, each once.
        let recordedEarly = Mutex<Set<Int64>>([])
        var legs = Self.legs(
            for: incident,
            providers: incident.providers,
            voice: incident.voice,
            recipients: calls.map(\.recipient),
            callID: calls[0].callID,
            alert: alert,
            firing: firing,
            rules: rules
        )
        // The incident's providers or voice are gone from the rules (a reload renamed them):
        // the route's in force ring instead of nobody.
        if legs.isEmpty, let route = rules.routes[incident.route]?.effective {
            let level = rules.repository.severities.level(named: incident.severity)
            let providers = route.providers ?? level?.providers ?? []
            let voice = route.voice ?? level?.voice
            legs = Self.legs(
                for: incident,
                providers: providers,
                voice: voice,
                recipients: calls.map(\.recipient),
                callID: calls[0].callID,
                alert: alert,
                firing: firing,
                rules: rules
            )
            if !legs.isEmpty {
                logger.warning(
                    "the incident's providers cannot place its call under the rules in force; calling through its route's",
                    metadata: ["incident": "\(incident.id)", "providers": "\(incident.providers)", "instead": "\(providers)"]
                )
            }
        }
        if legs.isEmpty {
            failure = "no provider of \(incident.providers) can play voice \(incident.voice ?? "(none)")"
            logger.error(
                "nobody can be called: no provider in the rules can place this incident's call",
                metadata: ["incident": "\(incident.id)", "step": "\(step.step)", "providers": "\(incident.providers)"]
            )
        } else {
            let dispatcher = CallDispatcher(clock: clock.asClock, jitter: jitter)
            let metrics = self.metrics
            let started = ContinuousClock.now
            for outcome in await dispatcher.dispatch(
                legs,
                report: { [store, clock] event in
                    let provider: String
                    let results: [RecipientResult]
                    switch event {
                    case .attempted(let name, _, let all):
                        let elapsed = ContinuousClock.now - started
                        metrics.vendorLatency(provider: name, nanoseconds: Int64(elapsed.timeInterval * 1e9))
                        (provider, results) = (name, all)
                    case .accepted(let name, _, let one):
                        (provider, results) = (name, [one])
                    case .attempting, .waiting:
                        return
                    }
                    // Accepted calls are recorded now, as each is accepted where the provider
                    // tells it, not after the step's other calls have been answered, retried
                    // and failed over: a vendor's "answered" report matches by the vendor's
                    // id, and one that came first would find no call. Best effort: what
                    // fails here is recorded with the rest below.
                    let accepted = results.compactMap { result -> (CallRecord, CallResult)? in
                        guard result.result.isAccepted, let call = calls.first(where: { $0.recipient.phone == result.recipient.phone }),
                            recordedEarly.withLock({ $0.insert(call.id).inserted })
                        else { return nil }
                        return (call, result.result)
                    }
                    guard !accepted.isEmpty else { return }
                    let at = clock.now()
                    _ = try? await store.write { transaction in
                        let stored = try await Self.storedCalls(of: step, in: transaction)
                        for (call, result) in accepted {
                            try await Self.record(result, by: provider, of: stored[call.id] ?? call, failure: nil, at: at, in: transaction)
                        }
                    }
                },
                shouldContinue: { [store] in
                    // A store that cannot answer does not stop a page.
                    let read = try? await store.read { transaction in
                        (
                            try await transaction.incident(id: incident.id),
                            try await transaction.steps(incidentID: incident.id).contains { $0.id > step.id && $0.step <= step.step }
                        )
                    }
                    guard let (found, replaced) = read, let current = found else { return true }
                    let how: String
                    switch current.state {
                    case .acked: how = "acknowledged by \(current.ackedBy ?? "?")"
                    case .resolved: how = "resolved by \(current.resolvedBy ?? "?")"
                    case .open:
                        // The new chain rings now; this one's retries and failovers would hold
                        // its first step up, and ring the old chain's people again.
                        guard replaced else { return true }
                        how = "given a new chain (reopened, or a more urgent alert joined)"
                    }
                    stoppedBy.withLock { $0 = (current, how) }
                    return false
                }
            ) {
                outcomes[outcome.recipient.phone] = outcome
            }
        }
        // Shutdown ran out of time: what the vendors made of the calls cut short is unknown,
        // so they stay `started` and the step claimed, for the next start to place again
        // (a possible duplicate beats a lost page), not recorded as failed and closed.
        if Task.isCancelled {
            logger.warning(
                "shutdown cut an escalation step short; the next start places its unanswered calls again",
                metadata: ["incident": "\(incident.id)", "step": "\(step.step)"]
            )
            return
        }
        let finished = clock.now()
        let stopped = stoppedBy.withLock { $0 }
        // Nobody reached: every provider failed (a vendor outage, a network blip) or none can
        // place the call. The step is tried again a few times rather than closed on a page
        // that never went out.
        let reachedNobody = stopped == nil && !calls.contains { outcomes[$0.recipient.phone]?.result.isAccepted == true }
        let recorded: (claim: StepClaim, retryAt: Date?)? = await writeRetrying("record the calls of an escalation step", step: step) {
            [outcomes, failure] transaction in
            // Finished: an earlier try of this transaction committed, its answer lost.
            let claim = try await transaction.claim(stepID: step.id)
            guard claim != .finished else { return (claim, nil) }
            let stored = try await Self.storedCalls(of: step, in: transaction)
            for call in calls {
                let outcome = outcomes[call.recipient.phone]
                try await Self.record(
                    outcome?.result,
                    by: outcome?.provider,
                    of: stored[call.id] ?? call,
                    failure: failure,
                    at: finished,
                    in: transaction
                )
            }
            if let (stopped, how) = stopped {
                let unreached = calls.filter { outcomes[$0.recipient.phone]?.result.isAccepted != true }.map(\.recipient.name)
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: stopped.id,
                        at: finished,
                        kind: "step_stopped",
                        actor: "scheduler",
                        detail:
                            "step \(step.step): the incident was \(how) while its calls were placed; not called again: \(unreached.joined(separator: ", "))"
                    )
                )
            }
            // The outcomes are facts and are kept; the step is closed only by its holder.
            guard claim == .held else { return (claim, nil) }
            let tries = Set(stored.values.map(\.callID)).union(calls.map(\.callID)).count
            // Not once the incident is no longer open, nor for a chain a reopen or a more urgent
            // alert has replaced (its pending steps were cancelled): a newer chain's steps were
            // written after this one's and number from 1 again.
            if reachedNobody, let delay = Self.stepRetryDelay(afterTry: tries),
                let current = try await transaction.incident(id: incident.id), current.state == .open,
                try await !transaction.steps(incidentID: incident.id).contains(where: { $0.id > step.id && $0.step <= step.step })
            {
                let retryAt = finished.adding(delay)
                try await transaction.updateStep(id: step.id, state: .pending, dueAt: retryAt)
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: incident.id,
                        at: finished,
                        kind: "step_retry",
                        actor: "scheduler",
                        detail: "no call of step \(step.step) got through; trying again at \(retryAt) "
                            + "(try \(tries + 1) of \(Self.stepRetryDelays.count + 1))"
                    )
                )
                return (claim, retryAt)
            }
            try await transaction.updateStep(id: step.id, state: .done, dueAt: nil)
            return (claim, nil)
        }
        guard let recorded else { return }
        if recorded.claim == .lost { logTakenOver(step) }
        if reachedNobody && recorded.claim == .held {
            logger.error(
                "nobody was reached for an escalation step: every call failed",
                metadata: [
                    "incident": "\(incident.id)", "step": "\(step.step)", "calls": "\(calls.count)",
                    "next_try": "\(recorded.retryAt.map { "\($0)" } ?? "none: the step is closed")",
                ]
            )
            if let retryAt = recorded.retryAt { wake.signal(dueBy: retryAt) }
        }
        for call in calls {
            let outcome = outcomes[call.recipient.phone]
            metrics.call(provider: outcome?.provider ?? "none", outcome: outcome?.result.isAccepted == true ? "accepted" : "failed")
            logger.info(
                "call \(outcome?.result.isAccepted == true ? "placed" : "failed")",
                metadata: [
                    "incident": "\(incident.id)", "step": "\(step.step)", "to": "\(call.recipient.maskedPhone)",
                    "provider": "\(outcome?.provider ?? "none")", "call": "\(call.callID)",
                ]
            )
        }
    }

    /// How long after its `try`th run that reached nobody a step runs again; nil after the
    /// last.
    static func stepRetryDelay(afterTry try_: Int) -> Duration? {
        stepRetryDelays.indices.contains(try_ - 1) ? stepRetryDelays[try_ - 1] : nil
    }

    static let stepRetryDelays: [Duration] = [.seconds(60), .seconds(120), .seconds(240), .seconds(480), .seconds(900)]

    private func logTakenOver(_ step: ScheduledStep) {
        logger.warning(
            "another instance took this escalation step over while this one was unheard; it runs the step",
            metadata: ["incident": "\(step.incidentID)", "step": "\(step.step)"]
        )
    }

    /// The step's calls as stored now, by id: a status report may have been recorded on one
    /// since it started. Read once a transaction (an infin8linx step may call thousands).
    private static func storedCalls(of step: ScheduledStep, in transaction: any IncidentTransaction) async throws -> [Int64: CallRecord] {
        Dictionary(try await transaction.calls(stepID: step.id).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Records how one call of a step ended, on `stored`, the call as stored now. A call
    /// already recorded as accepted is left alone, so recording twice changes nothing.
    private static func record(
        _ result: CallResult?,
        by provider: String?,
        of stored: CallRecord,
        failure: String?,
        at now: Date,
        in transaction: any IncidentTransaction
    ) async throws {
        var call = stored
        guard call.state != .accepted else { return }
        call.updatedAt = now
        call.provider = provider ?? call.provider
        call.attempts += 1
        let detail: String
        switch result {
        case .accepted(let vendorCallID)?:
            call.state = .accepted
            call.vendorCallID = vendorCallID
            detail = "call to \(call.recipient.name) (\(call.recipient.maskedPhone)) accepted by \(call.provider ?? "?")"
        case .retryable(let error)?, .permanent(let error)?:
            call.state = .failed
            call.error = error.description
            detail = "call to \(call.recipient.name) (\(call.recipient.maskedPhone)) failed: \(error)"
        case nil:
            call.state = .failed
            call.error = failure ?? "not placed"
            detail = "call to \(call.recipient.name) (\(call.recipient.maskedPhone)) failed: \(call.error ?? "")"
        }
        try await transaction.updateCall(call)
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: call.incidentID,
                at: now,
                kind: call.state == .accepted ? "call_placed" : "call_failed",
                actor: "scheduler",
                detail: detail,
                callID: call.callID
            )
        )
    }

    /// Runs `body` in a write transaction until it commits. A claimed step is this task's
    /// alone: giving up on a store that is briefly unavailable (locked, disk full) would
    /// leave it claimed and never run, a lost page. Nil only when the task is cancelled
    /// (shutdown); the step then stays claimed and the next start runs it again.
    private func writeRetrying<T: Sendable>(
        _ what: String,
        step: ScheduledStep,
        _ body: @Sendable @escaping (any IncidentTransaction) async throws -> T
    ) async -> T? {
        while true {
            do {
                return try await store.write(body)
            } catch {
                metrics.storeError()
                logger.error("cannot \(what); retrying in 1 s", metadata: ["step": "\(step.id)", "error": "\(error)"])
            }
            do {
                try await clock.sleep(.seconds(1))
            } catch {
                return nil
            }
        }
    }

    /// Decides, inside the transaction that claimed nothing else, what a due step does:
    /// nothing (the incident is no longer open), wait (quiet hours), or call whom.
    private static func prepare(
        _ step: ScheduledStep,
        callID: String,
        rules: EngineRules,
        now: Date,
        in transaction: any IncidentTransaction
    ) async throws -> StepPlan {
        switch try await transaction.claim(stepID: step.id) {
        case .held: break
        case .finished: return .finished
        case .lost: return .taken
        }
        var earlier = try await transaction.calls(stepID: step.id)
        // This run's calls already `started` were recorded by an earlier try of this
        // transaction whose COMMIT landed with its answer lost: no vendor was contacted for
        // them. Left started, they would count against the rate limit.
        for index in earlier.indices where earlier[index].callID == callID && earlier[index].state == .started {
            earlier[index].state = .failed
            earlier[index].error = "not placed: recorded by a try whose commit's answer was lost, then placed anew"
            earlier[index].updatedAt = now
            try await transaction.updateCall(earlier[index])
        }
        // Nor for a chain a reopen or a more urgent alert replaced after the claim (the
        // replacement cancels only pending steps): a newer chain's steps were written after
        // this one's and number from 1 again.
        guard let incident = try await transaction.incident(id: step.incidentID), incident.state == .open,
            try await !transaction.steps(incidentID: step.incidentID).contains(where: { $0.id > step.id && $0.step <= step.step })
        else {
            try await transaction.updateStep(id: step.id, state: .cancelled, dueAt: nil)
            return .finished
        }
        let settings = rules.routes[incident.route]?.effective
        // Quiet hours hold steps while inside them; active hours while outside them.
        let windows: [(window: TimeWindow, name: String, callsOutside: Bool)] =
            [settings?.quietHours.map { ($0, "quiet hours", false) }, settings?.activeHours.map { ($0, "active hours", true) }]
            .compactMap { $0 }
        for (window, name, callsOutside) in windows where window.contains(now) != callsOutside {
            if window.action == .defer_, let end = callsOutside ? window.nextEntry(from: now) : window.nextExit(from: now) {
                // The escalation pauses while held: each step keeps its distance from when the
                // hold began (or the chain began, if later), so the chain does not ring
                // everyone at once when the hold ends.
                let heldSince = max(Self.holdStart(windows, at: now), try await escalationStart(of: incident, in: transaction))
                // The hold lasts until no window holds: quiet hours may end outside active
                // hours. Deferring to the first end alone would have the step deferred again
                // there, measured from a due time the first hold had moved.
                var free = end
                for _ in 0..<8 {
                    guard let holder = windows.first(where: { $0.window.contains(free) != $0.callsOutside }),
                        let next = holder.callsOutside ? holder.window.nextEntry(from: free) : holder.window.nextExit(from: free),
                        next > free
                    else { break }
                    free = next
                }
                // From when it was due: one claimed late (klaxon was down from before the hold
                // began) would otherwise ring as long after the hold as it was late.
                let due = step.dueAt.adding(.zero - step.claimedLate)
                let resume = free.addingTimeInterval(max(0, due.timeIntervalSince(heldSince)))
                try await transaction.updateStep(id: step.id, state: .pending, dueAt: resume)
                // The later steps pause with it; left where they were, one due just after the
                // hold would ring together with this one.
                let delay = Duration.milliseconds(resume.millisecondsSince1970 - step.dueAt.millisecondsSince1970)
                let moved = try await transaction.delayPendingSteps(incidentID: incident.id, from: step.dueAt, except: step.id, by: delay)
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: incident.id,
                        at: now,
                        kind: "step_deferred",
                        actor: "scheduler",
                        detail: "step \(step.step) deferred by \(callsOutside ? "being outside " : "")\(name) (\(window.timezone)) until \(resume)"
                            + (moved > 0 ? "; the \(moved) later step(s) move with it" : "")
                    )
                )
            } else {
                try await transaction.updateStep(id: step.id, state: .skipped, dueAt: nil)
                try await transaction.appendEvent(
                    TimelineEvent(
                        incidentID: incident.id,
                        at: now,
                        kind: "step_skipped",
                        actor: "scheduler",
                        detail: "step \(step.step) skipped: \(callsOutside ? "outside " : "")\(name) (\(window.timezone))"
                    )
                )
            }
            return .finished
        }
        // Its calls start a minute or more after it was due (the store was out of reach
        // after the claim): the later steps move, as for a late claim. The due time is read
        // from the row, so a try whose commit landed unseen is not counted twice.
        if let dueAt = try await transaction.steps(incidentID: incident.id).first(where: { $0.id == step.id })?.dueAt {
            _ = try await moveLaterSteps(of: step, dueAt: dueAt, now: now, in: transaction)
        }
        let accepted = earlier.filter { $0.state == .accepted }.map(\.recipient)
        let (reachedNames, reachedPhones) = (Set(accepted.map(\.name)), Set(accepted.map(\.phone)))
        let recipients = recipientsInForce(of: step, in: rules.repository)
        var calls: [CallRecord] = []
        var heldBack: [CallRecipient] = []
        for recipient in recipients where !reachedNames.contains(recipient.name) && !reachedPhones.contains(recipient.phone) {
            var call = CallRecord(
                callID: callID,
                incidentID: incident.id,
                stepID: step.id,
                step: step.step,
                recipient: recipient,
                provider: incident.providers.first,
                startedAt: now,
                updatedAt: now
            )
            if let limit = settings?.rateLimit {
                let since = now.adding(.zero - limit.window)
                let placed = try await transaction.countCalls(route: incident.route, phone: recipient.phone, startedSince: since)
                // This step's own call, cut short by a crash, is the page being placed again,
                // not another call: counting it would hold back the only call it gets.
                let ownRetries = earlier.count {
                    $0.recipient.phone == recipient.phone && ($0.state == .interrupted || $0.state == .started) && $0.startedAt >= since
                }
                if placed - ownRetries >= limit.calls {
                    call.state = .heldBack
                    call.error = "rate limit: \(limit.calls) calls per \(limit.window) on route \(incident.route)"
                    call.id = try await transaction.insertCall(call)
                    try await transaction.appendEvent(
                        TimelineEvent(
                            incidentID: incident.id,
                            at: now,
                            kind: "call_held_back",
                            actor: "scheduler",
                            detail: "call to \(recipient.name) (\(recipient.maskedPhone)) held back: \(call.error ?? "")",
                            callID: callID
                        )
                    )
                    heldBack.append(recipient)
                    continue
                }
            }
            call.id = try await transaction.insertCall(call)
            calls.append(call)
        }
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: incident.id,
                at: now,
                kind: "step_fired",
                actor: "scheduler",
                detail: "step \(step.step): calling \(calls.map(\.recipient.name).joined(separator: ", "))",
                callID: calls.isEmpty ? nil : callID
            )
        )
        if calls.isEmpty {
            try await transaction.updateStep(id: step.id, state: .done, dueAt: nil)
        }
        let alerts = try await transaction.alerts(incidentID: incident.id)
        let firing = alerts.filter { $0.status == .firing }
        return .call(incident: incident, calls: calls, heldBack: heldBack, alert: firing.first ?? alerts.first, firing: max(1, firing.count))
    }

    /// When the hold that `date` is in began: when one of `windows` started to hold, with no
    /// instant free of all of them since. Quiet hours that begin while active hours already
    /// hold continue that hold; measured from their own start, a later step could be
    /// placed before an earlier one.
    static func holdStart(_ windows: [(window: TimeWindow, name: String, callsOutside: Bool)], at date: Date) -> Date {
        func holds(_ time: Date) -> [TimeWindow] {
            windows.filter { $0.window.contains(time) != $0.callsOutside }.map(\.window)
        }
        var start = date
        var probe = date
        for _ in 0..<16 {
            let holders = holds(probe)
            guard !holders.isEmpty else { break }
            let earliest = holders.map { $0.stretchStart(containing: probe) ?? probe.addingTimeInterval(-8 * 86_400) }.min() ?? probe
            start = min(start, earliest)
            probe = earliest.addingTimeInterval(-1)
        }
        return start
    }

    /// Whom the step calls under the rules in force: its `notify:` with each group's members
    /// now (the on-call after a handover), each person once and on their number now (a
    /// number changed by a reload may be someone else's by now). A person removed from the
    /// rules is called on the number the step has; a group gone from them (or left with
    /// nobody the rules know) calls everyone else the step was written with: a stale page
    /// beats a lost one. Steps written before klaxon kept `notify` call the people they have.
    static func recipientsInForce(of step: ScheduledStep, in repository: RuleRepository) -> [CallRecipient] {
        var result: [CallRecipient] = []
        var called = Set<String>()
        // Each number once too: two names on one phone (a shared pager, or a person renamed
        // by a reload while the step kept the old name) would ring it twice at once.
        var phones = Set<String>()
        func call(_ name: String, stored: CallRecipient? = nil) {
            guard called.insert(name).inserted else { return }
            let recipient: CallRecipient
            if let person = repository.recipients[name] {
                recipient = CallRecipient(name: name, phone: person.phone)
            } else if let stored = stored ?? step.recipients.first(where: { $0.name == name }) {
                recipient = stored
            } else {
                return
            }
            if phones.insert(recipient.phone).inserted { result.append(recipient) }
        }
        guard !step.notify.isEmpty else {
            for stored in step.recipients { call(stored.name, stored: stored) }
            return result
        }
        var groupGone = false
        for entry in step.notify {
            guard entry.hasPrefix("group:") else {
                call(entry)
                continue
            }
            let members = repository.groups[String(entry.dropFirst(6))]?.members.filter { repository.recipients[$0] != nil } ?? []
            if members.isEmpty { groupGone = true }
            for name in members { call(name) }
        }
        if groupGone {
            for stored in step.recipients { call(stored.name, stored: stored) }
        }
        return result
    }

    /// When the incident's current chain of steps began: when it opened, or when it last
    /// reopened or a more urgent alert escalated it.
    static func escalationStart(of incident: Incident, in transaction: any IncidentTransaction) async throws -> Date {
        let events = try await transaction.events(incidentID: incident.id)
        return events.last { $0.kind == "reopened" || $0.kind == "escalated" }?.at ?? incident.openedAt
    }

    /// One leg per provider of the incident that can play its voice, in failover order.
    private static func legs(
        for incident: Incident,
        providers: [String],
        voice: String?,
        recipients: [CallRecipient],
        callID: String,
        alert: IncidentAlert?,
        firing: Int,
        rules: EngineRules
    ) -> [CallDispatcher<EngineClock.Adapter>.Leg] {
        let repository = rules.repository
        let alert = alert?.alert ?? Alert(status: .firing, labels: ["alertname": incident.title])
        let context = ParamRenderer.context(for: alert, severity: incident.severity, count: firing, route: incident.route)
        let voice = voice.flatMap { repository.voices[$0] }
        var legs: [CallDispatcher<EngineClock.Adapter>.Leg] = []
        for name in providers {
            guard let config = repository.provider(named: name), let client = rules.providers[name] else { continue }
            var rendered: RenderedVoice
            if let voice, let result = ParamRenderer.render(voice, for: config, context: context) {
                rendered = result
            } else if config.type == .webhook || config.type == .simulator {
                rendered = RenderedVoice(prompt: .text(incident.title), params: [], text: incident.title, warnings: [])
            } else {
                continue
            }
            if incident.storm {
                let summary = "\(firing) alerts firing for route \(incident.route)"
                rendered.text = summary
                if case .text = rendered.prompt { rendered.prompt = .text(summary) }
            }
            let callbackURL = repository.callbackURL(for: config)
            let body = repository.webhookBodies[name].map { template -> @Sendable ([CallRecipient]) -> String? in
                { [alert, severity = incident.severity, route = incident.route] recipients in
                    let context = ParamRenderer.context(for: alert, severity: severity, count: firing, route: route)
                    return ParamRenderer.webhookBody(template, context: context, recipients: recipients)
                }
            }
            let request = CallRequest(
                callID: callID,
                recipients: recipients,
                prompt: rendered.prompt,
                params: rendered.params,
                text: rendered.text,
                priority: incident.priority,
                callbackURL: callbackURL,
                body: body?(recipients)
            )
            legs.append(.init(provider: client, request: request, retry: RetryPolicy(config.retry), body: body))
        }
        return legs
    }
}

/// What the scheduler has claimed; see ``IncidentEngine/claims``.
struct ClaimState: Sendable {
    var inFlight: Set<Int64> = []
    var mayHaveCommitted = false
}
