import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonRules
import Logging
import Synchronization

/// Turns alerts into incidents and incidents into calls, with every decision committed
/// to the store before anyone is told: a webhook's 2xx, a call to a vendor.
///
/// The engine keeps no state of its own beyond the current rule set: incidents, steps and
/// calls live in the store, so a restarted process carries on where the old one stopped.
public final class IncidentEngine: Sendable {
    public let store: any IncidentStore
    public let clock: EngineClock
    let logger: Logger
    let metrics = EngineMetrics()
    let wake: WakeSignal
    let groupCommit: GroupCommit
    let jitter: @Sendable () -> Double
    private let current: Mutex<EngineRules>
    /// The steps this process has claimed and not finished, and whether a claim failed in a
    /// way that may have committed (its steps then run for nobody until requeued).
    let claims = Mutex(ClaimState())

    public init(
        store: any IncidentStore,
        rules: EngineRules,
        clock: EngineClock = .system,
        logger: Logger = Logger(label: "klaxon.engine"),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.store = store
        self.clock = clock
        self.logger = logger
        self.jitter = jitter
        self.current = Mutex(rules)
        let wake = WakeSignal()
        self.wake = wake
        // The scheduler wakes once a step is committed, not once it is durable: the commit
        // that records a call as started comes later in the same WAL, and its disk sync,
        // which the vendor waits for, covers this one too.
        self.groupCommit = GroupCommit(store: store, clock: clock) { summary in
            if let due = summary.firstStepDue { wake.signal(dueBy: due) }
        }
    }

    /// The rule set new alerts and due steps use.
    public var rules: EngineRules { current.withLock { $0 } }

    /// Swaps the rule set; steps already placing calls finish with the old one.
    public func replaceRules(_ rules: EngineRules) {
        current.withLock { $0 = rules }
    }

    // MARK: Ingest

    /// Records a batch of alerts: all of it or, when it throws, none. Returns only after the
    /// commit, so the caller may then answer 2xx. Batches arriving together share one
    /// transaction (``GroupCommit``). `leftOut`: how many alerts the sender cut from this
    /// notification (Alertmanager's `truncatedAlerts`); such a batch resolves no incident.
    public func ingest(_ alerts: [Alert], leftOut: Int = 0) async throws -> IngestSummary {
        let rules = self.rules
        let plans = rules.planner.plan(alerts, renderVoices: false)
        let summary: IngestSummary
        do {
            let encoded = plans.map { plan in
                plan.dropped || plan.matches.isEmpty || plan.alert.status == .resolved ? nil : EncodedLabels(plan.alert)
            }
            let batch = GroupCommit.Batch(plans: plans, encoded: encoded, firingByKey: Self.firingByKey(plans), leftOut: leftOut, rules: rules)
            summary = try await groupCommit.commit(batch)
        } catch {
            metrics.storeError()
            throw error
        }
        metrics.alertsReceived(alerts)
        metrics.ingested(summary)
        for id in summary.opened {
            logger.info("incident opened", metadata: ["incident": "\(id)"])
        }
        if summary.unrouted > 0 { warnUnrouted(plans) }
        return summary
    }

    /// Alerts that match no route call nobody; a rule set without a catch-all route lets a
    /// mistyped label lose pages, so they are counted and each batch's firing ones logged.
    private func warnUnrouted(_ plans: [AlertPlan]) {
        let unrouted = plans.filter { !$0.dropped && $0.matches.isEmpty }
        metrics.unrouted(unrouted)
        let firing = unrouted.filter { $0.alert.status == .firing }
        guard let first = firing.first?.alert else { return }
        logger.warning(
            "firing alerts match no route: nobody is called for them",
            metadata: ["count": "\(firing.count)", "labels": "\(first.labels.description)", "source": "\(first.source)"]
        )
    }

    /// Applies one batch's plans inside `transaction`.
    static func apply(_ batch: GroupCommit.Batch, now: Date, to transaction: any IncidentTransaction) async throws -> IngestSummary {
        var summary = IngestSummary()
        var state = BatchState()
        state.firingLater = batch.firingByKey
        state.leftOut = batch.leftOut
        // By index: a loop over the plans would copy each, and with it every string and
        // table of its alert and matches.
        for index in batch.plans.indices {
            state.index = index
            if batch.plans[index].dropped {
                summary.dropped += 1
                continue
            }
            if batch.plans[index].matches.isEmpty { summary.unrouted += 1 }
            var found = false
            for matchIndex in batch.plans[index].matches.indices {
                if batch.plans[index].matches[matchIndex].dropped {
                    summary.dropped += 1
                    continue
                }
                let applied = try await apply(
                    batch.plans[index],
                    batch.plans[index].matches[matchIndex],
                    batch.encoded[index],
                    rules: batch.rules,
                    now: now,
                    to: transaction,
                    state: &state,
                    summary: &summary
                )
                found = found || applied
            }
            if batch.plans[index].alert.status == .resolved, !found {
                try await resolveUnderOtherSeverities(
                    batch.plans[index],
                    rules: batch.rules,
                    now: now,
                    in: transaction,
                    state: &state,
                    summary: &summary
                )
            }
        }
        try await state.flush(now: now, to: transaction)
        return summary
    }

    /// What the store keeps of `alert` under `key`.
    private static func record(of alert: Alert, key: String, severity: String, now: Date, state: inout BatchState) -> IncidentAlert {
        IncidentAlert(
            incidentID: 0,
            fingerprint: alert.fingerprint,
            key: key,
            status: alert.status,
            labels: alert.labels,
            annotations: alert.annotations,
            severity: severity,
            source: state.text(of: alert.source),
            startsAt: alert.startsAt,
            endsAt: alert.endsAt,
            firstSeen: now,
            lastSeen: now
        )
    }

    /// A recovery that found no open incident under the routes its own severity gives is
    /// looked for under the routes of every other severity (``AlertPlanner/dedupeKeysUnderOtherSeverities(of:severity:excluded:)``):
    /// Nagios' `… is OK` names no severity, and its problem's incident on a route that takes
    /// only `critical` would otherwise ring until someone acknowledged it. Only an open
    /// incident that holds this very alert (its fingerprint) is resolved.
    private static func resolveUnderOtherSeverities(
        _ plan: AlertPlan,
        rules: EngineRules,
        now: Date,
        in transaction: any IncidentTransaction,
        state: inout BatchState,
        summary: inout IngestSummary
    ) async throws {
        let keys = rules.planner.dedupeKeysUnderOtherSeverities(
            of: plan.alert,
            severity: plan.severity,
            excluded: Set(plan.matches.map(\.dedupeKey))
        )
        var found = false
        for key in keys {
            let record = Self.record(of: plan.alert, key: key, severity: plan.severity, now: now, state: &state)
            found = try await resolveAlert(record, now: now, in: transaction, state: &state, summary: &summary, elsewhere: true) || found
        }
        guard found else { return }
        // Counted as ignored or unrouted under its own severity; it was neither.
        if plan.matches.isEmpty {
            summary.unrouted -= 1
        } else {
            summary.ignored -= plan.matches.count { !$0.dropped }
        }
    }

    /// For a batch that resolves some alerts and fires others: by dedupe key, the index and
    /// fingerprint of each firing alert. Empty for other batches (nearly all), which have
    /// no use for it. Worked out by the webhook's own task, before its batch reaches the
    /// writer.
    static func firingByKey(_ plans: [AlertPlan]) -> [String: [(index: Int, fingerprint: String)]] {
        guard plans.count > 1, plans.contains(where: { $0.alert.status == .resolved }) else { return [:] }
        var firing: [String: [(index: Int, fingerprint: String)]] = [:]
        for index in plans.indices where plans[index].alert.status == .firing && !plans[index].dropped {
            for match in plans[index].matches where !match.dropped {
                firing[match.dedupeKey, default: []].append((index, plans[index].alert.fingerprint))
            }
        }
        return firing
    }

    /// What one batch has read and changed so far: a group of 100 alerts updates its
    /// incident once and writes one "joined" event, not one of each per alert.
    struct BatchState {
        /// The plan being applied, and the batch's ``GroupCommit/Batch/firingByKey``.
        var index = 0
        var firingLater: [String: [(index: Int, fingerprint: String)]] = [:]
        /// ``GroupCommit/Batch/leftOut``, and the incidents it has kept open.
        var leftOut = 0
        var keptOpen: Set<Int64> = []
        /// Incidents whose last firing alert resolved earlier in this batch, kept open for a
        /// new member that fires later in it (``memberFiresLater(key:incidentID:in:)``).
        var awaitingMember: Set<Int64> = []

        /// Fingerprints of the recoveries this batch has applied so far.
        var recovered: Set<String> = []

        /// Whether a later alert of this batch fires on `key` that is no member of the
        /// incident yet, or a member whose recovery came in an earlier notification: the
        /// group still fires, so the incident is not over. Alertmanager lists a group's
        /// alerts by their labels, not their status, so a notification may say a member
        /// resolved before it says another fires. A member this batch said resolved and then
        /// fires again is a new outage, as across notifications.
        func memberFiresLater(key: String, incidentID: Int64, in transaction: any IncidentTransaction) async throws -> Bool {
            for later in firingLater[key] ?? [] where later.index > index && !recovered.contains(later.fingerprint) {
                if try await transaction.alert(incidentID: incidentID, fingerprint: later.fingerprint)?.status != .firing { return true }
            }
            return false
        }

        /// The alert with `fingerprint` as stored on the incident; none for an incident this
        /// batch opened that it has not written the alert to.
        func storedAlert(_ fingerprint: String, of incidentID: Int64, in transaction: any IncidentTransaction) async throws -> IncidentAlert? {
            if let written = opened[incidentID], !written.contains(fingerprint) { return nil }
            return try await transaction.alert(incidentID: incidentID, fingerprint: fingerprint)
        }

        /// Incidents read or changed in this batch, newest version.
        var incidents: [Int64: Incident] = [:]
        /// Dedupe key → open or acked incident, as far as this batch knows.
        var keys: [String: Int64] = [:]
        var dirty: Set<Int64> = []
        /// Alerts that joined each incident, for its timeline.
        var joined: [Int64: [(labels: LabelSet, source: String)]] = [:]
        /// Incidents this batch opened, with the fingerprints of the alerts it has written to
        /// them: any other alert of such an incident is new, no need to look for it.
        var opened: [Int64: Set<String>] = [:]

        /// The last alert source and its text: the alerts of a webhook share theirs.
        var lastSource: (source: AlertSource, text: String)?

        mutating func text(of source: AlertSource) -> String {
            if let lastSource, lastSource.source == source { return lastSource.text }
            let text = source.description
            lastSource = (source, text)
            return text
        }

        /// The open or acked incident holding `key`.
        mutating func activeIncident(key: String, in transaction: any IncidentTransaction) async throws -> Incident? {
            if let id = keys[key] { return incidents[id] }
            guard let found = try await transaction.activeIncident(key: key) else { return nil }
            let incident = incidents[found.id] ?? found
            guard incident.state != .resolved else { return nil }
            remember(incident, key: key)
            return incident
        }

        mutating func remember(_ incident: Incident, key: String?) {
            incidents[incident.id] = incident
            if let key { keys[key] = incident.id }
        }

        /// Forgets every key of an incident that resolved in this batch.
        mutating func forgetKeys(of id: Int64) {
            keys = keys.filter { $0.value != id }
        }

        mutating func flush(now: Date, to transaction: any IncidentTransaction) async throws {
            for id in dirty.sorted() {
                if let incident = incidents[id] { try await transaction.updateIncident(incident) }
            }
            for (id, alerts) in joined.sorted(by: { $0.key < $1.key }) {
                let shown = alerts.prefix(3).map(\.labels.description).joined(separator: ", ")
                let detail =
                    alerts.count == 1
                    ? "alert \(shown) joined" : "\(alerts.count) alerts joined: \(shown)\(alerts.count > 3 ? " and \(alerts.count - 3) more" : "")"
                try await transaction.appendEvent(
                    TimelineEvent(incidentID: id, at: now, kind: "alert_joined", actor: alerts[0].source, detail: detail)
                )
                // A storm lasts while new alerts join it; its members' repeats, recoveries
                // and flapping do not prolong it: a host bouncing for hours would keep an
                // acknowledged storm taking in new outages silently.
                if incidents[id]?.storm == true { try await transaction.updateStormJoinedAt(now, incidentID: id) }
            }
            dirty = []
            joined = [:]
        }
    }

    /// Applies one alert to one of its routes; false when it is a recovery that found no
    /// open incident holding it.
    private static func apply(
        _ plan: AlertPlan,
        _ match: RouteMatch,
        _ encoded: EncodedLabels?,
        rules: EngineRules,
        now: Date,
        to transaction: any IncidentTransaction,
        state: inout BatchState,
        summary: inout IngestSummary
    ) async throws -> Bool {
        let key = match.dedupeKey
        let record = Self.record(of: plan.alert, key: key, severity: plan.severity, now: now, state: &state)
        if record.status == .resolved {
            return try await resolveAlert(record, now: now, in: transaction, state: &state, summary: &summary)
        }
        if var incident = try await state.activeIncident(key: key, in: transaction) {
            let existing = try await state.storedAlert(record.fingerprint, of: incident.id, in: transaction)
            // Every alert of an open or acked incident resolved, kept open only because a
            // notification was cut (`kept_open`): firing again is a new outage, as after a
            // resolve, and rings a new chain; its escalation may have ended long ago.
            if existing?.status != .firing, state.opened[incident.id] == nil, !state.awaitingMember.contains(incident.id),
                try await transaction.countFiringAlerts(incidentID: incident.id) == 0
            {
                _ = try await transaction.cancelPendingSteps(incidentID: incident.id)
                try await reopen(
                    &incident,
                    with: record,
                    encoded,
                    existing: existing,
                    match: match,
                    why: "fired again after every alert had resolved (the incident was kept open by a cut notification)",
                    now: now,
                    in: transaction,
                    state: &state,
                    summary: &summary
                )
                return true
            }
            // A repeat of a member already firing never escalates: after a reload that
            // raised the route's priority it would page every open incident again.
            if match.priority < incident.priority, existing?.status != .firing {
                try await escalate(&incident, to: match, severity: plan.severity, by: record, now: now, in: transaction, summary: &summary)
            }
            try await join(record, encoded, existing: existing, to: &incident, now: now, in: transaction, state: &state)
            state.remember(incident, key: key)
            summary.deduplicated += 1
            summary.updated.insert(incident.id)
            return true
        }
        let settings = rules.ingestSettings[match.route]
        // The storm guard comes first, also for an alert that would reopen a resolved
        // incident: in a storm, flapping alerts join it rather than each ring its own chain.
        var storm: StormGuard?
        if let guarded = settings?.storm {
            let since = now.adding(.zero - guarded.window)
            if let found = try await transaction.activeStormIncident(route: match.route, joinedSince: since) {
                var incident = state.incidents[found.id] ?? found
                let existing = try await state.storedAlert(record.fingerprint, of: incident.id, in: transaction)
                if match.priority < incident.priority, existing?.status != .firing {
                    try await escalate(&incident, to: match, severity: plan.severity, by: record, now: now, in: transaction, summary: &summary)
                }
                try await join(record, encoded, existing: existing, to: &incident, now: now, in: transaction, state: &state)
                state.remember(incident, key: key)
                summary.joinedStorm += 1
                summary.updated.insert(incident.id)
                return true
            }
            if try await transaction.countIncidents(route: match.route, openedSince: since) + 1 > guarded.threshold {
                storm = guarded
            }
        }
        if storm == nil, let window = settings?.dedupeWindow,
            var incident = try await transaction.resolvedIncident(key: key, resolvedSince: now.adding(.zero - window))
        {
            incident = state.incidents[incident.id] ?? incident
            let existing = try await state.storedAlert(record.fingerprint, of: incident.id, in: transaction)
            try await reopen(
                &incident,
                with: record,
                encoded,
                existing: existing,
                match: match,
                why: "fired again within the route's dedupe window",
                now: now,
                in: transaction,
                state: &state,
                summary: &summary
            )
            return true
        }
        let incident = try await open(
            record,
            encoded,
            match: match,
            severity: plan.severity,
            storm: storm,
            stormGuarded: settings?.storm != nil,
            now: now,
            in: transaction,
            summary: &summary
        )
        state.remember(incident, key: key)
        state.opened[incident.id] = [record.fingerprint]
        summary.opened.append(incident.id)
        return true
    }

    private static func open(
        _ alert: IncidentAlert,
        _ encoded: EncodedLabels?,
        match: RouteMatch,
        severity: String,
        storm: StormGuard?,
        stormGuarded: Bool,
        now: Date,
        in transaction: any IncidentTransaction,
        summary: inout IngestSummary
    ) async throws -> Incident {
        let title = alert.labels["alertname"] ?? alert.annotations["summary"] ?? match.dedupeKey
        var incident = Incident(
            key: storm == nil ? match.dedupeKey : match.route + "|storm",
            route: match.route,
            severity: severity,
            priority: match.priority,
            title: storm == nil ? title : "alert storm on route \(match.route)",
            voice: match.voice,
            providers: match.providers,
            escalation: match.escalation,
            openedAt: now,
            lastSeen: now,
            storm: storm != nil
        )
        let detail =
            if let storm {
                "more than \(storm.threshold) incidents within \(storm.window) on route \(match.route): new alerts of the route join this incident, one call for all"
            } else {
                "opened by \(alert.labels.description) on route \(match.route), \(match.steps.count) escalation steps"
            }
        let steps = scheduledSteps(match.steps, for: 0, from: now)
        incident.id = try await transaction.openIncident(
            incident,
            stormGuarded: stormGuarded,
            alert: alert,
            encoded: encoded,
            steps: steps,
            event: TimelineEvent(incidentID: 0, at: now, kind: "opened", actor: alert.source, detail: detail)
        )
        if storm != nil { try await transaction.addStormKey(alert.key, incidentID: incident.id) }
        summary.scheduled(dueBy: steps.map(\.dueAt).min())
        return incident
    }

    /// Writes the incident's steps and returns when the first is due.
    private static func schedule(
        _ steps: [PlannedStep],
        for incidentID: Int64,
        from start: Date,
        in transaction: any IncidentTransaction
    ) async throws -> Date? {
        let scheduled = scheduledSteps(steps, for: incidentID, from: start)
        try await transaction.insertSteps(scheduled)
        return scheduled.map(\.dueAt).min()
    }

    private static func scheduledSteps(_ steps: [PlannedStep], for incidentID: Int64, from start: Date) -> [ScheduledStep] {
        steps.map { step in
            ScheduledStep(
                incidentID: incidentID,
                step: step.step,
                dueAt: start.adding(step.after),
                recipients: step.recipients.map { CallRecipient(name: $0.name, phone: $0.phone) },
                notify: step.notify
            )
        }
    }

    /// Adds or refreshes the alert on the incident; the incident itself is written once at
    /// the end of the batch (``BatchState/flush(now:to:)``). `existing`: the alert as stored
    /// on the incident (``BatchState/storedAlert(_:of:in:)``).
    private static func join(
        _ alert: IncidentAlert,
        _ encoded: EncodedLabels?,
        existing: IncidentAlert?,
        to incident: inout Incident,
        now: Date,
        in transaction: any IncidentTransaction,
        state: inout BatchState
    ) async throws {
        state.opened[incident.id]?.insert(alert.fingerprint)
        var alert = alert
        alert.incidentID = incident.id
        alert.firstSeen = existing?.firstSeen ?? now
        try await transaction.upsertAlert(alert, encoded: encoded)
        // Later alerts with this key find the storm incident through it.
        if incident.storm { try await transaction.addStormKey(alert.key, incidentID: incident.id) }
        incident.count += 1
        incident.lastSeen = now
        state.dirty.insert(incident.id)
        if existing == nil {
            state.joined[incident.id, default: []].append((alert.labels, alert.source))
        } else if existing?.status == .resolved {
            try await transaction.appendEvent(
                TimelineEvent(
                    incidentID: incident.id,
                    at: now,
                    kind: "alert_firing",
                    actor: alert.source,
                    detail: "alert \(alert.labels.description) fires again"
                )
            )
        }
    }

    /// A more urgent alert (a lower priority number) joined: the incident takes its route's
    /// escalation, voice, providers, priority and severity, and that chain starts now in place
    /// of the steps still pending, as a new incident of that alert would ring. An incident
    /// already acknowledged stays so (ack stops escalation); the timeline says what joined.
    private static func escalate(
        _ incident: inout Incident,
        to match: RouteMatch,
        severity: String,
        by alert: IncidentAlert,
        now: Date,
        in transaction: any IncidentTransaction,
        summary: inout IngestSummary
    ) async throws {
        let from = "priority \(incident.priority) (\(incident.severity))"
        incident.priority = match.priority
        incident.severity = severity
        guard incident.state == .open else {
            try await transaction.appendEvent(
                TimelineEvent(
                    incidentID: incident.id,
                    at: now,
                    kind: "priority_raised",
                    actor: alert.source,
                    detail: "a more urgent alert joined (\(from) to priority \(match.priority), \(severity)); "
                        + "not called: acknowledged by \(incident.ackedBy ?? "?")"
                )
            )
            return
        }
        incident.voice = match.voice
        incident.providers = match.providers
        incident.escalation = match.escalation
        let cancelled = try await transaction.cancelPendingSteps(incidentID: incident.id)
        summary.scheduled(dueBy: try await schedule(match.steps, for: incident.id, from: now, in: transaction))
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: incident.id,
                at: now,
                kind: "escalated",
                actor: alert.source,
                detail:
                    "a more urgent alert joined (\(from) to priority \(match.priority), \(severity)): escalation \(match.escalation ?? "(none)") starts now, "
                    + "in place of \(cancelled) pending steps"
            )
        )
    }

    /// Opens `incident` again with a new chain from the rules in force, `why` on its
    /// timeline; the batch then finds it by the alert's key and counts it as opened.
    private static func reopen(
        _ incident: inout Incident,
        with alert: IncidentAlert,
        _ encoded: EncodedLabels?,
        existing: IncidentAlert?,
        match: RouteMatch,
        why: String,
        now: Date,
        in transaction: any IncidentTransaction,
        state: inout BatchState,
        summary: inout IngestSummary
    ) async throws {
        incident.state = .open
        incident.ackedAt = nil
        incident.ackedBy = nil
        incident.resolvedAt = nil
        incident.resolvedBy = nil
        // The new chain is the rules in force now: its steps, and the voice, providers and
        // escalation (whose `stop_on` its reports are read against) that go with them.
        incident.voice = match.voice
        incident.providers = match.providers
        incident.escalation = match.escalation
        incident.priority = match.priority
        try await join(alert, encoded, existing: existing, to: &incident, now: now, in: transaction, state: &state)
        summary.scheduled(dueBy: try await schedule(match.steps, for: incident.id, from: now, in: transaction))
        try await transaction.appendEvent(
            TimelineEvent(incidentID: incident.id, at: now, kind: "reopened", actor: alert.source, detail: why)
        )
        state.remember(incident, key: alert.key)
        summary.opened.append(incident.id)
    }

    /// Records a recovery on the open incident under its key that holds it; false when there
    /// is none. `elsewhere`: the key is another severity's (``resolveUnderOtherSeverities``),
    /// and not finding it there is no news.
    private static func resolveAlert(
        _ alert: IncidentAlert,
        now: Date,
        in transaction: any IncidentTransaction,
        state: inout BatchState,
        summary: inout IngestSummary,
        elsewhere: Bool = false
    ) async throws -> Bool {
        guard var incident = try await state.activeIncident(key: alert.key, in: transaction),
            var existing = try await transaction.alert(incidentID: incident.id, fingerprint: alert.fingerprint)
        else {
            if !elsewhere {
                try await resolveAlertOfResolvedIncident(alert, now: now, in: transaction)
                summary.ignored += 1
            }
            return false
        }
        // The alert may have joined the storm after its own incident was resolved by hand
        // while it fired: that copy recovers too, or a reopen of that incident would be held
        // open by it.
        if incident.storm { try await resolveAlertOfResolvedIncident(alert, now: now, in: transaction) }
        incident.lastSeen = now
        let allResolved: Bool
        let repeated = existing.status == .resolved
        if repeated {
            // A repeat of a recovery already recorded changes nothing, unless a cut
            // notification kept the incident open with no alert firing: a whole one closes it.
            allResolved = try await state.leftOut == 0 ? transaction.countFiringAlerts(incidentID: incident.id) == 0 : false
        } else {
            // Pending joins first, so the timeline reads in order.
            try await state.flush(now: now, to: transaction)
            try await markResolved(&existing, by: alert, now: now, note: "", in: transaction)
            allResolved = try await transaction.countFiringAlerts(incidentID: incident.id) == 0
        }
        state.recovered.insert(alert.fingerprint)
        let memberFiresLater = try await allResolved ? state.memberFiresLater(key: alert.key, incidentID: incident.id, in: transaction) : false
        // This recovery ended the last firing alert, and another goes on: the outage goes on,
        // with its chain. After a repeated recovery nothing fired already (a cut notification
        // kept the incident open): the alert firing later is a new outage, and rings anew.
        if memberFiresLater && !repeated { state.awaitingMember.insert(incident.id) }
        let closes = allResolved && !memberFiresLater
        // Alertmanager cuts a notification (`max_alerts`) before it works out its status, so
        // the alerts it left out may still be firing.
        if closes && state.leftOut > 0 && state.keptOpen.insert(incident.id).inserted {
            try await transaction.appendEvent(
                TimelineEvent(
                    incidentID: incident.id,
                    at: now,
                    kind: "kept_open",
                    actor: alert.source,
                    detail:
                        "every alert shown resolved, but the notification left out \(state.leftOut) alerts (max_alerts) that may still fire; "
                        + "a notification that lists them all, or a resolve by hand, closes it"
                )
            )
        }
        guard closes && state.leftOut == 0 else {
            state.remember(incident, key: nil)
            state.dirty.insert(incident.id)
            summary.updated.insert(incident.id)
            return true
        }
        incident.state = .resolved
        incident.resolvedAt = now
        incident.resolvedBy = alert.source
        let cancelled = try await transaction.cancelPendingSteps(incidentID: incident.id)
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: incident.id,
                at: now,
                kind: "resolved",
                actor: alert.source,
                detail: "every alert resolved; \(cancelled) pending steps cancelled"
            )
        )
        summary.resolved.append(incident.id)
        // Written now: a firing alert later in the batch must open a new incident.
        try await transaction.updateIncident(incident)
        state.remember(incident, key: nil)
        state.forgetKeys(of: incident.id)
        return true
    }

    /// A recovery for an incident resolved by hand (its alerts were left firing) is kept on
    /// it: if the incident reopens, the alert that recovered must not keep it open.
    private static func resolveAlertOfResolvedIncident(
        _ alert: IncidentAlert,
        now: Date,
        in transaction: any IncidentTransaction
    ) async throws {
        guard let incident = try await transaction.resolvedIncident(key: alert.key, resolvedSince: .distantPast),
            var existing = try await transaction.alert(incidentID: incident.id, fingerprint: alert.fingerprint),
            existing.status != .resolved
        else { return }
        try await markResolved(&existing, by: alert, now: now, note: " (the incident was resolved already)", in: transaction)
    }

    /// Records `existing`, an incident's alert, as resolved by `alert`, its recovery.
    private static func markResolved(
        _ existing: inout IncidentAlert,
        by alert: IncidentAlert,
        now: Date,
        note: String,
        in transaction: any IncidentTransaction
    ) async throws {
        existing.status = .resolved
        existing.endsAt = alert.endsAt ?? now
        existing.lastSeen = now
        try await transaction.upsertAlert(existing, encoded: nil)
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: existing.incidentID,
                at: now,
                kind: "alert_resolved",
                actor: alert.source,
                detail: "alert \(alert.labels.description) resolved\(note)"
            )
        )
    }

    // MARK: Ack and resolve

    /// Stops the incident's escalation. Acking an acked incident changes nothing.
    public func ack(incidentID: Int64, by actor: String) async throws -> Incident {
        try await changeState(incidentID: incidentID, to: .acked, by: actor)
    }

    /// Resolves the incident by hand and stops its escalation; the same key firing again
    /// opens a new incident.
    public func resolve(incidentID: Int64, by actor: String) async throws -> Incident {
        try await changeState(incidentID: incidentID, to: .resolved, by: actor)
    }

    private func changeState(incidentID: Int64, to state: IncidentState, by actor: String) async throws -> Incident {
        let now = clock.now()
        let incident = try await store.write { transaction in
            guard var incident = try await transaction.incident(id: incidentID) else {
                throw EngineError.notFound("no incident \(incidentID)")
            }
            if incident.state == state { return incident }
            if incident.state == .resolved {
                throw EngineError.conflict("incident \(incidentID) is already resolved")
            }
            incident.state = state
            if state == .acked {
                incident.ackedAt = now
                incident.ackedBy = actor
            } else {
                incident.resolvedAt = now
                incident.resolvedBy = actor
            }
            try await transaction.updateIncident(incident)
            let cancelled = try await transaction.cancelPendingSteps(incidentID: incidentID)
            try await transaction.appendEvent(
                TimelineEvent(
                    incidentID: incidentID,
                    at: now,
                    kind: state == .acked ? "acked" : "resolved",
                    actor: actor,
                    detail: "\(state == .acked ? "acknowledged" : "resolved") by \(actor); \(cancelled) pending steps cancelled"
                )
            )
            return incident
        }
        await refreshOpenIncidents()
        logger.info("incident \(state == .acked ? "acknowledged" : "resolved")", metadata: ["incident": "\(incidentID)", "by": "\(actor)"])
        return incident
    }

    func refreshOpenIncidents() async {
        if let open = try? await store.read({ try await $0.countIncidents(.open) }) {
            metrics.open(open)
        }
    }

    // MARK: Reading

    /// An incident with its alerts, steps, calls and timeline.
    public func detail(incidentID: Int64) async throws -> IncidentDetail? {
        try await store.read { transaction in
            guard let incident = try await transaction.incident(id: incidentID) else { return nil }
            return IncidentDetail(
                incident: incident,
                alerts: try await transaction.alerts(incidentID: incidentID),
                steps: try await transaction.steps(incidentID: incidentID),
                calls: try await transaction.calls(incidentID: incidentID),
                events: try await transaction.events(incidentID: incidentID)
            )
        }
    }

    public func incidents(_ filter: IncidentFilter, limit: Int = 500) async throws -> [Incident] {
        try await store.read { try await $0.incidents(filter, limit: limit) }
    }

    public func activeIncidentsByRoute() async throws -> [String: RouteIncidents] {
        try await store.read { try await $0.activeIncidentsByRoute() }
    }

    public func recentCalls(limit: Int = 500) async throws -> [CallRecord] {
        try await store.read { try await $0.recentCalls(limit: limit) }
    }
}

/// What one batch of alerts did.
public struct IngestSummary: Sendable, Hashable {
    public var opened: [Int64] = []
    public var updated: Set<Int64> = []
    public var resolved: [Int64] = []
    /// Repeats and new alerts of an incident that was already open: no call.
    public var deduplicated = 0
    /// New incidents folded into a route's storm incident: no call of their own.
    public var joinedStorm = 0
    /// Resolved alerts with no open incident.
    public var ignored = 0
    /// Alerts a `drop: true` route or severity level took.
    public var dropped = 0
    /// Alerts no route matched.
    public var unrouted = 0
    /// When the earliest step this batch scheduled is due.
    public var firstStepDue: Date?

    mutating func scheduled(dueBy date: Date?) {
        guard let date else { return }
        firstStepDue = min(firstStepDue ?? date, date)
    }
}

/// An incident and everything that happened to it.
public struct IncidentDetail: Sendable, Hashable {
    public var incident: Incident
    public var alerts: [IncidentAlert]
    public var steps: [ScheduledStep]
    public var calls: [CallRecord]
    public var events: [TimelineEvent]
}

/// A request the engine refuses, answered 404 or 409.
public enum EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)

    public var description: String {
        switch self {
        case .notFound(let message), .conflict(let message): message
        }
    }
}
