import Foundation
import KlaxonCore

/// The engine's durable state: incidents, their alerts, escalation steps, calls and the
/// timeline. The engine keeps nothing a restart would lose; everything goes through here.
///
/// Every change happens inside ``write(_:)``: all of it commits or none of it does.
public protocol IncidentStore: Sendable {
    /// Runs `body` in one transaction that commits when it returns and rolls back when it
    /// throws. Returns once the commit is durable.
    func write<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T
    /// ``write(_:)`` that returns once the transaction has committed, maybe before it is
    /// durable, and calls `whenDurable` once it is, or with a ``DurabilityError``, from any
    /// thread. `whenDurable` is not called when this throws.
    func write<T: Sendable>(
        _ body: @Sendable (any IncidentTransaction) async throws -> T,
        whenDurable: @escaping @Sendable (Result<Void, DurabilityError>) -> Void
    ) async throws -> T
    /// Runs `body` against a consistent snapshot; it must not change anything.
    func read<T: Sendable>(_ body: @Sendable (any IncidentTransaction) async throws -> T) async throws -> T
    /// Answers whether the store can be reached, for `/readyz`.
    func ping() async throws
    func close() async throws
    /// How often a store that several processes share must hear from this one (through
    /// ``heartbeat()``), so that the others can tell when it is gone; nil when the store is
    /// this process's alone.
    var heartbeatInterval: Duration? { get }
    /// Tells a shared store that this process is alive.
    func heartbeat() async throws
}

extension IncidentStore {
    public var heartbeatInterval: Duration? { nil }
    public func heartbeat() async throws {}

    /// For stores whose commit is durable when ``write(_:)`` returns.
    public func write<T: Sendable>(
        _ body: @Sendable (any IncidentTransaction) async throws -> T,
        whenDurable: @escaping @Sendable (Result<Void, DurabilityError>) -> Void
    ) async throws -> T {
        let result = try await write(body)
        whenDurable(.success(()))
        return result
    }
}

/// An alert's labels and annotations as the JSON text the store keeps them in. A webhook's
/// own task encodes them before its batch reaches the writer, the one step that runs a
/// batch at a time.
public struct EncodedLabels: Sendable {
    let labels: String
    let annotations: String

    public init(_ alert: Alert) {
        labels = alert.labels.json
        annotations = alert.annotations.json
    }
}

/// Where a process's claim on a step it is running stands.
public enum StepClaim: Sendable, Equatable {
    /// The step is running under this process's claim.
    case held
    /// Still this process's, but no longer running: this run closed or deferred it already
    /// (a retried write whose first try committed with its answer lost).
    case finished
    /// Another instance took it over, or gave it back for any instance to claim: this one
    /// was taken for gone. It must neither call for the step nor close it.
    case lost
}

/// Which incidents a listing returns.
public enum IncidentFilter: String, Sendable, CaseIterable {
    case open
    case acked
    case resolved
    case all
    /// Open or acked.
    case active
}

/// A route's unresolved incidents: how many, and the lowest ids (at most ten).
public struct RouteIncidents: Sendable, Equatable {
    public var count: Int
    public var ids: [Int64]

    public init(count: Int, ids: [Int64]) {
        self.count = count
        self.ids = ids
    }
}

/// The operations of one store transaction. Queries return values; nothing is cached.
public protocol IncidentTransaction: Sendable {
    // Incidents
    /// `stormGuarded`: the incident's route has a storm guard, which counts it
    /// (``countIncidents(route:openedSince:)``).
    func insertIncident(_ incident: Incident, stormGuarded: Bool) async throws -> Int64
    func updateIncident(_ incident: Incident) async throws
    func incident(id: Int64) async throws -> Incident?
    /// The open or acked incident with this dedupe key, or the storm incident holding an
    /// alert with it (``addStormKey(_:incidentID:)``).
    func activeIncident(key: String) async throws -> Incident?
    /// Records that the storm incident holds an alert with this dedupe key.
    func addStormKey(_ key: String, incidentID: Int64) async throws
    /// The latest incident with this key resolved at or after `since`.
    func resolvedIncident(key: String, resolvedSince since: Date) async throws -> Incident?
    /// The route's open or acked storm incident that opened or took in a new alert at or
    /// after `since` (``updateStormJoinedAt(_:incidentID:)``).
    func activeStormIncident(route: String, joinedSince since: Date) async throws -> Incident?
    /// Records when the storm incident last took in a new alert: the storm lasts from then.
    func updateStormJoinedAt(_ date: Date, incidentID: Int64) async throws
    /// Incidents of the route opened at or after `since` while it had a storm guard, storm
    /// incidents excluded.
    func countIncidents(route: String, openedSince since: Date) async throws -> Int
    func incidents(_ filter: IncidentFilter, limit: Int) async throws -> [Incident]
    func countIncidents(_ filter: IncidentFilter) async throws -> Int
    /// The open and acked incidents by route: what a reload must not strand, without
    /// reading every one of them.
    func activeIncidentsByRoute() async throws -> [String: RouteIncidents]

    // Alerts
    /// Inserts or updates the alert; `encoded`, when given, is its labels and annotations
    /// already in the store's form.
    func upsertAlert(_ alert: IncidentAlert, encoded: EncodedLabels?) async throws
    func alerts(incidentID: Int64) async throws -> [IncidentAlert]
    func alert(incidentID: Int64, fingerprint: String) async throws -> IncidentAlert?
    func countFiringAlerts(incidentID: Int64) async throws -> Int

    // Steps
    func insertSteps(_ steps: [ScheduledStep]) async throws
    func steps(incidentID: Int64) async throws -> [ScheduledStep]
    /// Marks up to `limit` pending steps due at or before `now` as running and returns them:
    /// of each incident only its earliest pending step, and none while one of its steps is
    /// running (``StoreRows/firstStepOfItsIncident(runningSince:)``).
    func claimDueSteps(now: Date, limit: Int) async throws -> [ScheduledStep]
    /// Moves the incident's pending steps due at or after `from`, but `stepID`, later by
    /// `delay`; returns how many.
    func delayPendingSteps(incidentID: Int64, from: Date, except stepID: Int64, by delay: Duration) async throws -> Int
    func updateStep(id: Int64, state: StepState, dueAt: Date?) async throws
    /// Cancels the incident's pending steps; returns how many.
    func cancelPendingSteps(incidentID: Int64) async throws -> Int
    /// When the next step a claim at that time would take is due (not one a running or
    /// earlier pending step of its incident holds up).
    func nextDueDate(now: Date) async throws -> Date?
    /// Where this process's claim on the step stands (``StepClaim``).
    func claim(stepID: Int64) async throws -> StepClaim
    /// Steps left running by a process that stopped; they become pending again.
    func requeueRunningSteps() async throws -> [ScheduledStep]
    /// This process's running steps but `inFlight`: claimed by a claim whose answer was
    /// lost (its COMMIT may have landed), so no task runs them. They become pending again.
    func requeueOwnRunningSteps(except inFlight: Set<Int64>) async throws -> [ScheduledStep]

    // Calls
    func insertCall(_ call: CallRecord) async throws -> Int64
    func updateCall(_ call: CallRecord) async throws
    func calls(incidentID: Int64) async throws -> [CallRecord]
    func calls(stepID: Int64) async throws -> [CallRecord]
    func recentCalls(limit: Int) async throws -> [CallRecord]
    func call(provider: String, vendorCallID: String) async throws -> CallRecord?
    func calls(callID: String) async throws -> [CallRecord]
    /// Calls to the number for incidents of the route started at or after `since` that rang
    /// or may have rung (started, accepted, interrupted).
    func countCalls(route: String, phone: String, startedSince since: Date) async throws -> Int
    /// Calls recorded as started whose outcome was never recorded; they become interrupted.
    func interruptStartedCalls(at: Date) async throws -> [CallRecord]

    // Timeline
    func appendEvent(_ event: TimelineEvent) async throws
    func events(incidentID: Int64) async throws -> [TimelineEvent]

    /// A new incident with its first alert, its steps and its "opened" event, whose
    /// incident ids are the new incident's; returns its id. By default one insert after the
    /// other; a store across a network does it in one round trip.
    func openIncident(
        _ incident: Incident,
        stormGuarded: Bool,
        alert: IncidentAlert,
        encoded: EncodedLabels?,
        steps: [ScheduledStep],
        event: TimelineEvent
    ) async throws -> Int64
}

extension IncidentTransaction {
    public func openIncident(
        _ incident: Incident,
        stormGuarded: Bool,
        alert: IncidentAlert,
        encoded: EncodedLabels?,
        steps: [ScheduledStep],
        event: TimelineEvent
    ) async throws -> Int64 {
        let id = try await insertIncident(incident, stormGuarded: stormGuarded)
        var alert = alert
        alert.incidentID = id
        try await upsertAlert(alert, encoded: encoded)
        var steps = steps
        for index in steps.indices { steps[index].incidentID = id }
        try await insertSteps(steps)
        var event = event
        event.incidentID = id
        try await appendEvent(event)
        return id
    }
}

/// A transaction was committed but the disk sync that makes it durable failed: it may be
/// lost in a crash. It must not be applied again (its effects are visible already); the
/// request that made it is answered 503 and its sender's retry deduplicates.
public struct DurabilityError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The store could not do what was asked: the disk is full, the file is locked, the
/// schema is newer than this build. The request that met it is answered 503.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
