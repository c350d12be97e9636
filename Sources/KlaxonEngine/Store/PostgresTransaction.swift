import Foundation
import KlaxonCore
import Logging
import PostgresNIO
import Synchronization

/// The statements of one transaction on a leased connection. Only made by
/// ``PostgresIncidentStore`` inside its BEGIN and COMMIT. The SQL is ``SQLiteTransaction``'s
/// where both dialects agree; what differs is said where it does.
struct PostgresTransaction: IncidentTransaction {
    let session: PostgresSession
    /// This process's row in `instances`, written into the steps it claims.
    let instanceID: String
    /// How long an instance may go unheard before its running steps are taken over.
    let leaseMilliseconds: Int64
    /// The orphaned steps (``orphanedStepIDs()``), decided once a transaction.
    let orphans = OrphanedSteps()

    private func query(_ sql: String, _ binds: [PostgresBind] = []) async throws -> [PostgresRandomAccessRow] {
        try await session.execute(sql, binds)
    }

    private func insert(_ sql: String, _ binds: [PostgresBind]) async throws -> Int64 {
        guard let row = try await query(sql + " RETURNING id", binds).first else { throw StoreError("INSERT returned no id") }
        return try row.int64("id")
    }

    private func count(_ sql: String, _ binds: [PostgresBind] = []) async throws -> Int {
        Int(try await query(sql, binds).first?.int64("n") ?? 0)
    }

    // MARK: Incidents

    func insertIncident(_ incident: Incident, stormGuarded: Bool) async throws -> Int64 {
        try await insert(Self.insertIncidentStatement, Self.incidentBinds(incident) + [.bool(stormGuarded)])
    }

    private static let insertIncidentStatement = """
        INSERT INTO incidents (key, route, state, severity, priority, title, voice, providers, escalation,
            opened_at, last_seen, count, acked_at, acked_by, resolved_at, resolved_by, storm, storm_guarded)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
        """

    /// One statement, so one round trip: the incident, its alert, event and steps inserted
    /// together, each naming the incident's new id. The foreign keys are checked at the
    /// statement's end, when the incident is there.
    func openIncident(
        _ incident: Incident,
        stormGuarded: Bool,
        alert: IncidentAlert,
        encoded: EncodedLabels?,
        steps: [ScheduledStep],
        event: TimelineEvent
    ) async throws -> Int64 {
        // Each row's values but its incident id, which the statement supplies.
        var binds = Self.incidentBinds(incident) + [.bool(stormGuarded)]
        binds += Self.alertBinds(alert, encoded: encoded)
        binds += Self.eventBinds(event)
        var sql = """
            WITH opened AS (
            \(Self.insertIncidentStatement)
                RETURNING id
            ), alert AS (
                INSERT INTO alerts (\(StoreRows.alertColumns))
                SELECT id, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29 FROM opened
            ), event AS (
                INSERT INTO events (incident_id, at, kind, actor, detail, call_id)
                SELECT id, $30, $31, $32, $33, $34 FROM opened
            )
            """
        if !steps.isEmpty {
            let selects = steps.map { step in
                let first = binds.count + 1
                binds += Self.stepBinds(step)
                return "SELECT id, $\(first), $\(first + 1), $\(first + 2), $\(first + 3) FROM opened"
            }
            sql += ", step AS (INSERT INTO steps (incident_id, step, due_at, state, recipients) \(selects.joined(separator: " UNION ALL ")))\n"
        }
        sql += "SELECT id FROM opened"
        guard let row = try await query(sql, binds).first else { throw StoreError("INSERT returned no id") }
        return try row.int64("id")
    }

    func updateIncident(_ incident: Incident) async throws {
        _ = try await query(
            """
            UPDATE incidents SET key = $1, route = $2, state = $3, severity = $4, priority = $5, title = $6, voice = $7,
                providers = $8, escalation = $9, opened_at = $10, last_seen = $11, count = $12, acked_at = $13,
                acked_by = $14, resolved_at = $15, resolved_by = $16, storm = $17
            WHERE id = $18
            """,
            Self.incidentBinds(incident) + [.int(incident.id)]
        )
    }

    private static func incidentBinds(_ incident: Incident) -> [PostgresBind] {
        [
            .text(incident.key), .text(incident.route), .text(incident.state.rawValue), .text(incident.severity),
            .int(incident.priority), .text(incident.title), .text(incident.voice), .text(JSONColumn.encode(incident.providers)),
            .text(incident.escalation), .date(incident.openedAt), .date(incident.lastSeen), .int(incident.count),
            .date(incident.ackedAt), .text(incident.ackedBy), .date(incident.resolvedAt), .text(incident.resolvedBy),
            .bool(incident.storm),
        ]
    }

    func incident(id: Int64) async throws -> Incident? {
        try await query("SELECT \(StoreRows.incidentColumns) FROM incidents WHERE id = $1", [.int(id)]).first.map(StoreRows.incident)
    }

    func activeIncident(key: String) async throws -> Incident? {
        try await query(
            """
            SELECT \(StoreRows.incidentColumns) FROM incidents WHERE id = coalesce(
                (SELECT max(id) FROM incidents WHERE key = $1 AND resolved_at IS NULL),
                (SELECT max(incidents.id) FROM storm_keys JOIN incidents ON incidents.id = storm_keys.incident_id
                    WHERE storm_keys.key = $1 AND incidents.storm AND incidents.state != 'resolved'))
            """,
            [.text(key)]
        ).first.map(StoreRows.incident)
    }

    func addStormKey(_ key: String, incidentID: Int64) async throws {
        _ = try await query("INSERT INTO storm_keys (key, incident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(key), .int(incidentID)])
    }

    func resolvedIncident(key: String, resolvedSince since: Date) async throws -> Incident? {
        try await query(
            "SELECT \(StoreRows.incidentColumns) FROM incidents WHERE key = $1 AND state = 'resolved' AND resolved_at >= $2 ORDER BY id DESC LIMIT 1",
            [.text(key), .date(since)]
        ).first.map(StoreRows.incident)
    }

    func updateStormJoinedAt(_ date: Date, incidentID: Int64) async throws {
        _ = try await query("UPDATE incidents SET storm_joined_at = $1 WHERE id = $2", [.date(date), .int(incidentID)])
    }

    func activeStormIncident(route: String, joinedSince since: Date) async throws -> Incident? {
        try await query(
            """
            SELECT \(StoreRows.incidentColumns) FROM incidents
            WHERE route = $1 AND storm_guarded AND storm AND state != 'resolved' AND coalesce(storm_joined_at, opened_at) >= $2
            ORDER BY id DESC LIMIT 1
            """,
            [.text(route), .date(since)]
        ).first.map(StoreRows.incident)
    }

    func countIncidents(route: String, openedSince since: Date) async throws -> Int {
        try await count(
            "SELECT COUNT(*) AS n FROM incidents WHERE route = $1 AND storm_guarded AND opened_at >= $2 AND NOT storm",
            [.text(route), .date(since)]
        )
    }

    private static func condition(_ filter: IncidentFilter) -> String {
        switch filter {
        case .open: "state = 'open'"
        case .acked: "state = 'acked'"
        case .resolved: "state = 'resolved'"
        case .active: "state != 'resolved'"
        case .all: "TRUE"
        }
    }

    func incidents(_ filter: IncidentFilter, limit: Int) async throws -> [Incident] {
        try await query(
            "SELECT \(StoreRows.incidentColumns) FROM incidents WHERE \(Self.condition(filter)) ORDER BY id DESC LIMIT $1",
            [.int(limit)]
        ).map(StoreRows.incident)
    }

    func countIncidents(_ filter: IncidentFilter) async throws -> Int {
        try await count("SELECT COUNT(*) AS n FROM incidents WHERE \(Self.condition(filter))")
    }

    func activeIncidentsByRoute() async throws -> [String: RouteIncidents] {
        try StoreRows.routeIncidents(try await query(StoreRows.activeIncidentsByRoute))
    }

    // MARK: Alerts

    func upsertAlert(_ alert: IncidentAlert, encoded: EncodedLabels?) async throws {
        _ = try await query(
            """
            INSERT INTO alerts (\(StoreRows.alertColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (incident_id, fingerprint) DO UPDATE SET
                key = excluded.key, status = excluded.status, labels = excluded.labels,
                annotations = excluded.annotations, severity = excluded.severity, source = excluded.source,
                starts_at = excluded.starts_at, ends_at = excluded.ends_at, last_seen = excluded.last_seen
            """,
            [.int(alert.incidentID)] + Self.alertBinds(alert, encoded: encoded)
        )
    }

    /// The alert's values after its incident id, in the order of `StoreRows.alertColumns`.
    private static func alertBinds(_ alert: IncidentAlert, encoded: EncodedLabels?) -> [PostgresBind] {
        [
            .text(alert.fingerprint), .text(alert.key), .text(alert.status.rawValue),
            .text(encoded?.labels ?? alert.labels.json), .text(encoded?.annotations ?? alert.annotations.json),
            .text(alert.severity), .text(alert.source), .date(alert.startsAt), .date(alert.endsAt),
            .date(alert.firstSeen), .date(alert.lastSeen),
        ]
    }

    func alerts(incidentID: Int64) async throws -> [IncidentAlert] {
        try await query(
            "SELECT \(StoreRows.alertColumns) FROM alerts WHERE incident_id = $1 ORDER BY first_seen, fingerprint COLLATE \"C\"",
            [.int(incidentID)]
        ).map(StoreRows.alert)
    }

    func alert(incidentID: Int64, fingerprint: String) async throws -> IncidentAlert? {
        try await query(
            "SELECT \(StoreRows.alertColumns) FROM alerts WHERE incident_id = $1 AND fingerprint = $2",
            [.int(incidentID), .text(fingerprint)]
        ).first.map(StoreRows.alert)
    }

    func countFiringAlerts(incidentID: Int64) async throws -> Int {
        try await count("SELECT COUNT(*) AS n FROM alerts WHERE incident_id = $1 AND status = 'firing'", [.int(incidentID)])
    }

    // MARK: Steps

    func insertSteps(_ steps: [ScheduledStep]) async throws {
        guard !steps.isEmpty else { return }
        // One statement for all of them; at most 65,535 binds a statement.
        for start in stride(from: steps.startIndex, to: steps.endIndex, by: 10_000) {
            let chunk = steps[start..<min(start + 10_000, steps.endIndex)]
            var binds: [PostgresBind] = []
            binds.reserveCapacity(chunk.count * 5)
            var values: [String] = []
            for step in chunk {
                let first = binds.count + 1
                values.append("($\(first), $\(first + 1), $\(first + 2), $\(first + 3), $\(first + 4))")
                binds += [.int(step.incidentID)] + Self.stepBinds(step)
            }
            _ = try await query("INSERT INTO steps (incident_id, step, due_at, state, recipients) VALUES " + values.joined(separator: ", "), binds)
        }
    }

    /// The step's values after its incident id: step, due_at, state, recipients.
    private static func stepBinds(_ step: ScheduledStep) -> [PostgresBind] {
        [.int(step.step), .date(step.dueAt), .text(step.state.rawValue), .text(JSONColumn.encode(step.recipients, notify: step.notify))]
    }

    func steps(incidentID: Int64) async throws -> [ScheduledStep] {
        try await query("SELECT \(StoreRows.stepColumns) FROM steps WHERE incident_id = $1 ORDER BY step, id", [.int(incidentID)])
            .map(StoreRows.step)
    }

    /// Claims for this instance. Writes are serialised already (the store's lock); `SKIP
    /// LOCKED` keeps a claim from waiting on a step another transaction holds all the same.
    func claimDueSteps(now: Date, limit: Int) async throws -> [ScheduledStep] {
        try await query(
            """
            UPDATE steps SET state = 'running', claimed_by = $3
            WHERE id IN (
                SELECT s.id FROM steps AS s WHERE s.state = 'pending' AND s.due_at <= $1 AND \(StoreRows.firstStepOfItsIncident(runningSince: "$4"))
                ORDER BY s.due_at, s.id LIMIT $2 FOR UPDATE OF s SKIP LOCKED
            )
            RETURNING \(StoreRows.stepColumns)
            """,
            [.date(now), .int(limit), .text(instanceID), .date(now.adding(.zero - StoreRows.runningStepHold))]
        ).map(StoreRows.step).sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
    }

    func delayPendingSteps(incidentID: Int64, from: Date, except stepID: Int64, by delay: Duration) async throws -> Int {
        try await query(
            "UPDATE steps SET due_at = due_at + $1 WHERE incident_id = $2 AND state = 'pending' AND due_at >= $3 AND id <> $4 RETURNING id",
            [.int(delay.milliseconds), .int(incidentID), .date(from), .int(stepID)]
        ).count
    }

    func updateStep(id: Int64, state: StepState, dueAt: Date?) async throws {
        if let dueAt {
            _ = try await query("UPDATE steps SET state = $1, due_at = $2 WHERE id = $3", [.text(state.rawValue), .date(dueAt), .int(id)])
        } else {
            _ = try await query("UPDATE steps SET state = $1 WHERE id = $2", [.text(state.rawValue), .int(id)])
        }
    }

    func cancelPendingSteps(incidentID: Int64) async throws -> Int {
        try await query(
            "UPDATE steps SET state = 'cancelled' WHERE incident_id = $1 AND state = 'pending' RETURNING id",
            [.int(incidentID)]
        ).count
    }

    func nextDueDate(now: Date) async throws -> Date? {
        try await query(
            """
            SELECT s.due_at AS due FROM steps AS s WHERE s.state = 'pending' AND \(StoreRows.firstStepOfItsIncident(runningSince: "$1"))
            ORDER BY s.due_at LIMIT 1
            """,
            [.date(now.adding(.zero - StoreRows.runningStepHold))]
        ).first?.optionalDate("due")
    }

    /// The running steps whose instance is gone: it said goodbye when it stopped, or the
    /// database has not heard from it for a lease while it heard from this instance without
    /// a gap. Without that second condition an outage longer than the lease would make every
    /// instance look dead to the first one back, and it would place again the calls of steps
    /// the others are still running. Decided once a transaction, by one statement, so the
    /// calls interrupted and the steps requeued are of the same steps. The looking instance
    /// must itself have been heard within two heartbeat intervals: after an outage its
    /// recovery can run before its heartbeat lands, when the database has not heard from it
    /// for as long as from the others.
    private func orphanedStepIDs() async throws -> [Int64] {
        if let ids = orphans.ids.withLock({ $0 }) { return ids }
        let now = "(extract(epoch from statement_timestamp()) * 1000)::bigint"
        let ids = try await query(
            """
            SELECT id FROM steps WHERE state = 'running' AND (
                claimed_by IS NULL
                OR NOT EXISTS (SELECT 1 FROM instances WHERE instances.id = steps.claimed_by AND NOT stopped)
                OR (claimed_by IN (SELECT id FROM instances WHERE seen_at < \(now) - $2)
                    AND EXISTS (
                        SELECT 1 FROM instances WHERE id = $1 AND NOT stopped AND heard_since <= \(now) - $2 AND seen_at >= \(now) - $3)))
            ORDER BY id
            """,
            [.text(instanceID), .int(leaseMilliseconds), .int(2 * (leaseMilliseconds / 3))]
        ).map { try $0.int64("id") }
        orphans.ids.withLock { $0 = ids }
        return ids
    }

    /// A PostgreSQL array literal of ids, for `= ANY($n::BIGINT[])`.
    private static func idArray<S: Sequence<Int64>>(_ ids: S) -> PostgresBind {
        .text("{" + ids.map(String.init).joined(separator: ",") + "}")
    }

    func claim(stepID: Int64) async throws -> StepClaim {
        guard let row = try await query("SELECT state, claimed_by FROM steps WHERE id = $1", [.int(stepID)]).first,
            try row.optionalString("claimed_by") == instanceID
        else { return .lost }
        return try row.string("state") == StepState.running.rawValue ? .held : .finished
    }

    func requeueOwnRunningSteps(except inFlight: Set<Int64>) async throws -> [ScheduledStep] {
        try await query(
            """
            UPDATE steps SET state = 'pending', claimed_by = NULL
            WHERE state = 'running' AND claimed_by = $1 AND NOT (id = ANY($2::BIGINT[]))
            RETURNING \(StoreRows.stepColumns)
            """,
            [.text(instanceID), Self.idArray(inFlight.sorted())]
        ).map(StoreRows.step).sorted { $0.id < $1.id }
    }

    func requeueRunningSteps() async throws -> [ScheduledStep] {
        try await query(
            "UPDATE steps SET state = 'pending', claimed_by = NULL WHERE id = ANY($1::BIGINT[]) RETURNING \(StoreRows.stepColumns)",
            [Self.idArray(try await orphanedStepIDs())]
        ).map(StoreRows.step).sorted { $0.id < $1.id }
    }

    // MARK: Calls

    func insertCall(_ call: CallRecord) async throws -> Int64 {
        try await insert(
            """
            INSERT INTO calls (call_id, incident_id, step_id, step, recipient, phone, state, provider, attempts,
                vendor_call_id, status, digits, error, started_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            """,
            Self.callBinds(call)
        )
    }

    func updateCall(_ call: CallRecord) async throws {
        _ = try await query(
            """
            UPDATE calls SET call_id = $1, incident_id = $2, step_id = $3, step = $4, recipient = $5, phone = $6, state = $7,
                provider = $8, attempts = $9, vendor_call_id = $10, status = $11, digits = $12, error = $13, started_at = $14,
                updated_at = $15
            WHERE id = $16
            """,
            Self.callBinds(call) + [.int(call.id)]
        )
    }

    private static func callBinds(_ call: CallRecord) -> [PostgresBind] {
        [
            .text(call.callID), .int(call.incidentID), .int(call.stepID), .int(call.step),
            .text(call.recipient.name), .text(call.recipient.phone), .text(call.state.rawValue), .text(call.provider),
            .int(call.attempts), .text(call.vendorCallID), .text(call.status?.rawValue), .text(call.digits),
            .text(call.error), .date(call.startedAt), .date(call.updatedAt),
        ]
    }

    func calls(incidentID: Int64) async throws -> [CallRecord] {
        try await query("SELECT \(StoreRows.callColumns) FROM calls WHERE incident_id = $1 ORDER BY id", [.int(incidentID)]).map(StoreRows.call)
    }

    func calls(stepID: Int64) async throws -> [CallRecord] {
        try await query("SELECT \(StoreRows.callColumns) FROM calls WHERE step_id = $1 ORDER BY id", [.int(stepID)]).map(StoreRows.call)
    }

    func recentCalls(limit: Int) async throws -> [CallRecord] {
        try await query("SELECT \(StoreRows.callColumns) FROM calls ORDER BY id DESC LIMIT $1", [.int(limit)]).map(StoreRows.call)
    }

    func call(provider: String, vendorCallID: String) async throws -> CallRecord? {
        try await query(
            "SELECT \(StoreRows.callColumns) FROM calls WHERE provider = $1 AND vendor_call_id = $2 ORDER BY id DESC LIMIT 1",
            [.text(provider), .text(vendorCallID)]
        ).first.map(StoreRows.call)
    }

    func calls(callID: String) async throws -> [CallRecord] {
        try await query("SELECT \(StoreRows.callColumns) FROM calls WHERE call_id = $1 ORDER BY id", [.text(callID)]).map(StoreRows.call)
    }

    func countCalls(route: String, phone: String, startedSince since: Date) async throws -> Int {
        try await count(
            """
            SELECT COUNT(*) AS n FROM calls JOIN incidents ON incidents.id = calls.incident_id
            WHERE incidents.route = $1 AND calls.phone = $2 AND calls.started_at >= $3
                AND calls.state IN ('started', 'accepted', 'interrupted')
            """,
            [.text(route), .text(phone), .date(since)]
        )
    }

    /// Only the calls of steps whose instance is gone (``requeueRunningSteps()``): a live
    /// instance's started calls are still waiting for their vendor.
    func interruptStartedCalls(at date: Date) async throws -> [CallRecord] {
        try await query(
            """
            UPDATE calls SET state = 'interrupted', updated_at = $1 WHERE state = 'started' AND step_id = ANY($2::BIGINT[])
            RETURNING \(StoreRows.callColumns)
            """,
            [.date(date), Self.idArray(try await orphanedStepIDs())]
        ).map(StoreRows.call).sorted { $0.id < $1.id }
    }

    // MARK: Timeline

    func appendEvent(_ event: TimelineEvent) async throws {
        _ = try await query(
            "INSERT INTO events (incident_id, at, kind, actor, detail, call_id) VALUES ($1, $2, $3, $4, $5, $6)",
            [.int(event.incidentID)] + Self.eventBinds(event)
        )
    }

    /// The event's values after its incident id: at, kind, actor, detail, call_id.
    private static func eventBinds(_ event: TimelineEvent) -> [PostgresBind] {
        [.date(event.at), .text(event.kind), .text(event.actor), .text(event.detail), .text(event.callID)]
    }

    func events(incidentID: Int64) async throws -> [TimelineEvent] {
        try await query(
            "SELECT \(StoreRows.eventColumns) FROM events WHERE incident_id = $1 ORDER BY id",
            [.int(incidentID)]
        ).map(StoreRows.event)
    }
}

/// What one transaction decided ``PostgresTransaction/orphanedStepIDs()`` to be.
final class OrphanedSteps: Sendable {
    let ids = Mutex<[Int64]?>(nil)
}

/// A statement's parameter: the store keeps text, whole numbers (times as milliseconds
/// since 1970, as in SQLite) and one flag.
enum PostgresBind {
    case text(String?)
    case int(Int64?)
    case bool(Bool)

    static func int(_ value: Int) -> PostgresBind { .int(Int64(value)) }
    static func date(_ value: Date?) -> PostgresBind { .int(value?.millisecondsSince1970) }
}

extension PostgresBindings {
    /// PostgreSQL's text refuses NUL, which JSON's `\u0000` can put in a label: every retry
    /// of such a webhook would fail, its group never opened. It is stored as U+FFFD, in
    /// lookups alike, so a repeat still finds its incident.
    static func withoutNUL(_ text: String) -> String {
        text.utf8.contains(0) ? String(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : Character($0) }) : text
    }

    init(_ values: [PostgresBind]) {
        self.init(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): append(text.map(Self.withoutNUL))
            case .int(let number): append(number)
            case .bool(let flag): append(flag)
            }
        }
    }
}

extension PostgresRandomAccessRow: StoreRow {
    func int64(_ name: String) throws -> Int64 { try self[name].decode(Int64.self) }
    func string(_ name: String) throws -> String { try self[name].decode(String.self) }
    func optionalString(_ name: String) throws -> String? { try self[name].decode(String?.self) }
    func date(_ name: String) throws -> Date { Date(millisecondsSince1970: try int64(name)) }
    func optionalDate(_ name: String) throws -> Date? { try self[name].decode(Int64?.self).map(Date.init(millisecondsSince1970:)) }
    func flag(_ name: String) throws -> Bool { try self[name].decode(Bool.self) }
}
