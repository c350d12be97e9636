import Foundation
import KlaxonCore
import SQLiteNIO
import VaporCSQLite

typealias SQLiteRow = SQLiteHandle.Row

/// The statements of one transaction on the store's connection. Only made by
/// ``SQLiteIncidentStore`` while it holds the connection.
struct SQLiteTransaction: IncidentTransaction {
    let database: SQLiteHandle
    /// A write transaction's dedupe lookup and the changes it makes to it; nil in a read
    /// transaction, which looks keys up in the file.
    let keys: (active: ActiveIncidentKeys, staged: StagedKeyChanges)?

    private func query(_ sql: String, _ binds: [SQLiteData] = []) throws -> [SQLiteRow] {
        try database.query(sql, binds)
    }

    /// Runs an INSERT of one row and returns its id. Not `RETURNING id`: SQLite gathers
    /// returned rows in a temporary table, which costs more than the insert.
    private func insert(_ sql: String, _ binds: [SQLiteData]) throws -> Int64 {
        _ = try query(sql, binds)
        return database.lastInsertRowID
    }

    // MARK: Incidents

    func insertIncident(_ incident: Incident, stormGuarded: Bool) async throws -> Int64 {
        // Unguarded, the column keeps its default: an incident inserted into a file of an
        // older schema (the upgrade tests) needs no column that schema lacks.
        let id =
            stormGuarded
            ? try insert(Self.insertGuardedIncidentStatement, Self.incidentBinds(incident) + [.integer(1)])
            : try insert(Self.insertIncidentStatement, Self.incidentBinds(incident))
        stageKey(of: incident, id: id)
        return id
    }

    /// Records for the dedupe lookup whether incident `id` now holds its key unresolved.
    private func stageKey(of incident: Incident, id: Int64) {
        guard let keys else { return }
        let hash = keys.active.hash(incident.key)
        keys.staged.append(incident.resolvedAt == nil ? .unresolved(keyHash: hash, id: id) : .resolved(keyHash: hash, id: id))
    }

    private static let incidentInsertColumns = """
        key, route, state, severity, priority, title, voice, providers, escalation,
            opened_at, last_seen, count, acked_at, acked_by, resolved_at, resolved_by, storm
        """
    private static let insertIncidentStatement =
        "INSERT INTO incidents (\(incidentInsertColumns)) VALUES (\(Array(repeating: "?", count: 17).joined(separator: ", ")))"
    private static let insertGuardedIncidentStatement =
        "INSERT INTO incidents (\(incidentInsertColumns), storm_guarded) VALUES (\(Array(repeating: "?", count: 18).joined(separator: ", ")))"

    func updateIncident(_ incident: Incident) async throws {
        _ = try query(
            """
            UPDATE incidents SET key = ?, route = ?, state = ?, severity = ?, priority = ?, title = ?, voice = ?,
                providers = ?, escalation = ?, opened_at = ?, last_seen = ?, count = ?, acked_at = ?, acked_by = ?,
                resolved_at = ?, resolved_by = ?, storm = ?
            WHERE id = ?
            """,
            Self.incidentBinds(incident) + [.int(incident.id)]
        )
        stageKey(of: incident, id: incident.id)
    }

    private static func incidentBinds(_ incident: Incident) -> [SQLiteData] {
        [
            .text(incident.key), .text(incident.route), .text(incident.state.rawValue), .text(incident.severity),
            .int(incident.priority), .text(incident.title), .text(incident.voice), .text(JSONColumn.encode(incident.providers)),
            .text(incident.escalation), .date(incident.openedAt), .date(incident.lastSeen), .int(incident.count),
            .date(incident.ackedAt), .text(incident.ackedBy), .date(incident.resolvedAt), .text(incident.resolvedBy),
            .integer(incident.storm ? 1 : 0),
        ]
    }

    func incident(id: Int64) async throws -> Incident? {
        try query("SELECT \(StoreRows.incidentColumns) FROM incidents WHERE id = ?", [.int(id)]).first.map(StoreRows.incident)
    }

    /// The newest unresolved incident with this key (open and acked incidents have no
    /// resolved_at); else the newest unresolved storm incident holding an alert with it.
    func activeIncident(key: String) async throws -> Incident? {
        guard let keys else {
            return try query(Self.activeIncidentByKeyScanning, [.text(key)]).first.map(StoreRows.incident)
        }
        // The ids that may hold the key, newest first, this transaction's own among them, each
        // checked against the file: the lookup may hold stale ids, never too few
        // (``ActiveIncidentKeys``). A new alert, the common case, has none and costs no statement.
        let hash = keys.active.hash(key)
        for id in Self.newestFirst(keys.staged.unresolvedIDs(keyHash: hash), keys.active.unresolvedCandidates(keyHash: hash)) {
            if let row = try query(Self.unresolvedIncidentByIDAndKey, [.int(id), .text(key)]).first {
                return try StoreRows.incident(row)
            }
        }
        for id in Self.newestFirst(keys.staged.stormIDs(keyHash: hash), keys.active.stormCandidates(keyHash: hash)) {
            if let row = try query(Self.activeStormIncidentByIDAndKey, [.int(id), .text(key)]).first {
                return try StoreRows.incident(row)
            }
        }
        return nil
    }

    private static func newestFirst(_ staged: [Int64], _ committed: [Int64]) -> [Int64] {
        staged.isEmpty ? committed : Set(staged + committed).sorted(by: >)
    }

    // The statements every webhook runs are built once: interpolating them on each call
    // showed in profiles.
    private static let unresolvedIncidentByIDAndKey =
        "SELECT \(StoreRows.incidentColumns) FROM incidents WHERE id = ? AND key = ? AND resolved_at IS NULL"
    private static let activeStormIncidentByIDAndKey = """
        SELECT \(StoreRows.incidentColumns) FROM incidents WHERE id = ?1 AND storm = 1 AND state != 'resolved'
            AND EXISTS (SELECT 1 FROM storm_keys WHERE key = ?2 AND incident_id = ?1)
        """
    /// The same answer from the file alone, for read transactions: a scan of the incidents,
    /// which no index orders by key any more. Not a UNION with ORDER BY, whose sorting cost
    /// more than the second statement. The storm keys are joined, not read with
    /// `IN (SELECT ...)`: SQLite builds that list in a temporary b-tree.
    private static let activeIncidentByKeyScanning = """
        SELECT \(StoreRows.incidentColumns) FROM incidents WHERE id = coalesce(
            (SELECT max(id) FROM incidents WHERE key = ?1 AND resolved_at IS NULL),
            (SELECT max(incidents.id) FROM storm_keys JOIN incidents ON incidents.id = storm_keys.incident_id
                WHERE storm_keys.key = ?1 AND incidents.storm = 1 AND incidents.state != 'resolved'))
        """

    /// Hands every unresolved incident's key (its UTF-8 bytes, valid during the call) and id
    /// to `body`, to fill ``ActiveIncidentKeys``: one pass over the incidents, row by row.
    func forEachUnresolvedIncidentKey(_ body: (UnsafeRawBufferPointer, Int64) -> Void) throws {
        try forEachKey("SELECT id, key FROM incidents WHERE resolved_at IS NULL", body)
    }

    /// The same for every row of `storm_keys` (none in a file of schema 1 or 2, which only
    /// the tests of upgrades open without upgrading).
    func forEachStormKey(_ body: (UnsafeRawBufferPointer, Int64) -> Void) throws {
        guard try !query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'storm_keys'").isEmpty else { return }
        try forEachKey("SELECT incident_id, key FROM storm_keys", body)
    }

    private func forEachKey(_ sql: String, _ body: (UnsafeRawBufferPointer, Int64) -> Void) throws {
        try database.forEachRow(sql) { statement in
            let text = sqlite_nio_sqlite3_column_text(statement, 1)
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, 1))
            body(UnsafeRawBufferPointer(start: text, count: text == nil ? 0 : count), sqlite_nio_sqlite3_column_int64(statement, 0))
        }
    }

    /// The writer's `PRAGMA data_version`: it changes when another connection commits.
    func dataVersion() throws -> Int64 {
        Int64(try query("PRAGMA data_version").first?.values.first?.integer ?? -1)
    }

    func addStormKey(_ key: String, incidentID: Int64) async throws {
        _ = try query("INSERT OR IGNORE INTO storm_keys (key, incident_id) VALUES (?, ?)", [.text(key), .int(incidentID)])
        if let keys { keys.staged.append(.stormKey(keyHash: keys.active.hash(key), id: incidentID)) }
    }

    func resolvedIncident(key: String, resolvedSince since: Date) async throws -> Incident? {
        try query(Self.resolvedIncidentByKey, [.text(key), .date(since)]).first.map(StoreRows.incident)
    }

    /// It names `resolved_at IS NOT NULL`, the condition of the index it uses.
    static let resolvedIncidentByKey = """
        SELECT \(StoreRows.incidentColumns) FROM incidents
        WHERE key = ? AND state = 'resolved' AND resolved_at IS NOT NULL AND resolved_at >= ? ORDER BY id DESC LIMIT 1
        """

    func activeStormIncident(route: String, joinedSince since: Date) async throws -> Incident? {
        try query(Self.activeStormIncidentStatement, [.text(route), .date(since)]).first.map(StoreRows.incident)
    }

    func updateStormJoinedAt(_ date: Date, incidentID: Int64) async throws {
        _ = try query("UPDATE incidents SET storm_joined_at = ? WHERE id = ?", [.date(date), .int(incidentID)])
    }

    // Both name `storm_guarded = 1`, which lets them use the guarded routes' index.
    static let activeStormIncidentStatement = """
        SELECT \(StoreRows.incidentColumns) FROM incidents
        WHERE route = ? AND storm_guarded = 1 AND storm = 1 AND state != 'resolved' AND coalesce(storm_joined_at, opened_at) >= ?
        ORDER BY id DESC LIMIT 1
        """
    static let countGuardedIncidentsStatement =
        "SELECT COUNT(*) AS n FROM incidents WHERE route = ? AND storm_guarded = 1 AND opened_at >= ? AND storm = 0"

    func countIncidents(route: String, openedSince since: Date) async throws -> Int {
        try count(Self.countGuardedIncidentsStatement, [.text(route), .date(since)])
    }

    private static func condition(_ filter: IncidentFilter) -> String {
        switch filter {
        case .open: "state = 'open'"
        case .acked: "state = 'acked'"
        case .resolved: "state = 'resolved'"
        case .active: "state != 'resolved'"
        case .all: "1"
        }
    }

    func incidents(_ filter: IncidentFilter, limit: Int) async throws -> [Incident] {
        try query(
            "SELECT \(StoreRows.incidentColumns) FROM incidents WHERE \(Self.condition(filter)) ORDER BY id DESC LIMIT ?",
            [.int(limit)]
        ).map(StoreRows.incident)
    }

    /// On the thread pool, not inline: it scans every incident of the filter (about 15 ms
    /// at 300,000 open), and the open-incident gauge counts them every 5 s; inline, that
    /// would hold one of the few threads that serve webhooks.
    func countIncidents(_ filter: IncidentFilter) async throws -> Int {
        let sql = "SELECT COUNT(*) AS n FROM incidents WHERE \(Self.condition(filter))"
        return try await NIOThreadPool.singleton.runIfActive { [self] in try count(sql) }
    }

    /// On the thread pool, like ``countIncidents(_:)``: it reads every unresolved incident.
    func activeIncidentsByRoute() async throws -> [String: RouteIncidents] {
        try await NIOThreadPool.singleton.runIfActive { [self] in try StoreRows.routeIncidents(query(StoreRows.activeIncidentsByRoute)) }
    }

    private func count(_ sql: String, _ binds: [SQLiteData] = []) throws -> Int {
        Int(try query(sql, binds).first?.column("n")?.integer ?? 0)
    }

    // MARK: Alerts

    func upsertAlert(_ alert: IncidentAlert, encoded: EncodedLabels?) async throws {
        _ = try query(
            Self.upsertAlertStatement,
            [
                .int(alert.incidentID), .text(alert.fingerprint), .text(alert.key), .text(alert.status.rawValue),
                .text(encoded?.labels ?? alert.labels.json),
                .text(encoded?.annotations ?? alert.annotations.json),
                .text(alert.severity), .text(alert.source), .date(alert.startsAt), .date(alert.endsAt),
                .date(alert.firstSeen), .date(alert.lastSeen),
            ]
        )
    }

    private static let upsertAlertStatement = """
        INSERT INTO alerts (\(StoreRows.alertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (incident_id, fingerprint) DO UPDATE SET
            key = excluded.key, status = excluded.status, labels = excluded.labels,
            annotations = excluded.annotations, severity = excluded.severity, source = excluded.source,
            starts_at = excluded.starts_at, ends_at = excluded.ends_at, last_seen = excluded.last_seen
        """

    func alerts(incidentID: Int64) async throws -> [IncidentAlert] {
        try query("SELECT \(StoreRows.alertColumns) FROM alerts WHERE incident_id = ? ORDER BY first_seen, fingerprint", [.int(incidentID)])
            .map(StoreRows.alert)
    }

    func alert(incidentID: Int64, fingerprint: String) async throws -> IncidentAlert? {
        try query(Self.alertByFingerprint, [.int(incidentID), .text(fingerprint)]).first.map(StoreRows.alert)
    }

    private static let alertByFingerprint = "SELECT \(StoreRows.alertColumns) FROM alerts WHERE incident_id = ? AND fingerprint = ?"

    func countFiringAlerts(incidentID: Int64) async throws -> Int {
        try count("SELECT COUNT(*) AS n FROM alerts WHERE incident_id = ? AND status = 'firing'", [.int(incidentID)])
    }

    // MARK: Steps

    func insertSteps(_ steps: [ScheduledStep]) async throws {
        // One statement for all of them (at most 999 binds a statement: 199 steps of 5),
        // with no array made per step: every new incident comes here.
        var start = steps.startIndex
        while start < steps.endIndex {
            let end = min(start + 199, steps.endIndex)
            var binds: [SQLiteData] = []
            binds.reserveCapacity((end - start) * 5)
            for step in steps[start..<end] {
                binds.append(.int(step.incidentID))
                binds.append(.int(step.step))
                binds.append(.date(step.dueAt))
                binds.append(.text(step.state.rawValue))
                binds.append(.text(JSONColumn.encode(step.recipients, notify: step.notify)))
            }
            let count = end - start
            _ = try query(count <= Self.insertStepsStatements.count ? Self.insertStepsStatements[count - 1] : Self.insertSteps(count), binds)
            start = end
        }
    }

    private static func insertSteps(_ count: Int) -> String {
        "INSERT INTO steps (incident_id, step, due_at, state, recipients) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?)", count: count).joined(separator: ", ")
    }

    /// For escalations of up to 16 steps (repeats unrolled), made once.
    private static let insertStepsStatements = (1...16).map(insertSteps)

    func steps(incidentID: Int64) async throws -> [ScheduledStep] {
        try query("SELECT \(StoreRows.stepColumns) FROM steps WHERE incident_id = ? ORDER BY step, id", [.int(incidentID)])
            .map(StoreRows.step)
    }

    func claimDueSteps(now: Date, limit: Int) async throws -> [ScheduledStep] {
        try query(
            """
            UPDATE steps SET state = 'running'
            WHERE id IN (
                SELECT s.id FROM steps AS s WHERE s.state = 'pending' AND s.due_at <= ? AND \(StoreRows.firstStepOfItsIncident(runningSince: "?"))
                ORDER BY s.due_at, s.id LIMIT ?
            )
            RETURNING \(StoreRows.stepColumns)
            """,
            [.date(now), .date(now.adding(.zero - StoreRows.runningStepHold)), .int(limit)]
        ).map(StoreRows.step).sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
    }

    func delayPendingSteps(incidentID: Int64, from: Date, except stepID: Int64, by delay: Duration) async throws -> Int {
        try query(
            "UPDATE steps SET due_at = due_at + ? WHERE incident_id = ? AND state = 'pending' AND due_at >= ? AND id <> ? RETURNING id",
            [.int(Int(delay.milliseconds)), .int(incidentID), .date(from), .int(stepID)]
        ).count
    }

    func updateStep(id: Int64, state: StepState, dueAt: Date?) async throws {
        if let dueAt {
            _ = try query("UPDATE steps SET state = ?, due_at = ? WHERE id = ?", [.text(state.rawValue), .date(dueAt), .int(id)])
        } else {
            _ = try query("UPDATE steps SET state = ? WHERE id = ?", [.text(state.rawValue), .int(id)])
        }
    }

    func cancelPendingSteps(incidentID: Int64) async throws -> Int {
        try query(
            "UPDATE steps SET state = 'cancelled' WHERE incident_id = ? AND state = 'pending' RETURNING id",
            [.int(incidentID)]
        ).count
    }

    func nextDueDate(now: Date) async throws -> Date? {
        try query(
            """
            SELECT s.due_at AS due FROM steps AS s WHERE s.state = 'pending' AND \(StoreRows.firstStepOfItsIncident(runningSince: "?"))
            ORDER BY s.due_at LIMIT 1
            """,
            [.date(now.adding(.zero - StoreRows.runningStepHold))]
        ).first?.optionalDate("due")
    }

    func requeueOwnRunningSteps(except inFlight: Set<Int64>) async throws -> [ScheduledStep] {
        // One process owns the file: every running step is its own.
        let ids = inFlight.sorted()
        let exclusion = ids.isEmpty ? "" : " AND id NOT IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", ")))"
        return try query(
            "UPDATE steps SET state = 'pending' WHERE state = 'running'\(exclusion) RETURNING \(StoreRows.stepColumns)",
            ids.map { .int($0) }
        ).map(StoreRows.step).sorted { $0.id < $1.id }
    }

    func claim(stepID: Int64) async throws -> StepClaim {
        // One process owns the file: every step is its own.
        try count("SELECT COUNT(*) AS n FROM steps WHERE id = ? AND state = 'running'", [.int(stepID)]) == 1 ? .held : .finished
    }

    func requeueRunningSteps() async throws -> [ScheduledStep] {
        try query("UPDATE steps SET state = 'pending' WHERE state = 'running' RETURNING \(StoreRows.stepColumns)").map(StoreRows.step)
    }

    // MARK: Calls

    func insertCall(_ call: CallRecord) async throws -> Int64 {
        try insert(
            """
            INSERT INTO calls (call_id, incident_id, step_id, step, recipient, phone, state, provider, attempts,
                vendor_call_id, status, digits, error, started_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            Self.callBinds(call)
        )
    }

    func updateCall(_ call: CallRecord) async throws {
        _ = try query(
            """
            UPDATE calls SET call_id = ?, incident_id = ?, step_id = ?, step = ?, recipient = ?, phone = ?, state = ?,
                provider = ?, attempts = ?, vendor_call_id = ?, status = ?, digits = ?, error = ?, started_at = ?, updated_at = ?
            WHERE id = ?
            """,
            Self.callBinds(call) + [.int(call.id)]
        )
    }

    private static func callBinds(_ call: CallRecord) -> [SQLiteData] {
        [
            .text(call.callID), .int(call.incidentID), .int(call.stepID), .int(call.step),
            .text(call.recipient.name), .text(call.recipient.phone), .text(call.state.rawValue), .text(call.provider),
            .int(call.attempts), .text(call.vendorCallID), .text(call.status?.rawValue), .text(call.digits),
            .text(call.error), .date(call.startedAt), .date(call.updatedAt),
        ]
    }

    func calls(incidentID: Int64) async throws -> [CallRecord] {
        try query("SELECT \(StoreRows.callColumns) FROM calls WHERE incident_id = ? ORDER BY id", [.int(incidentID)]).map(StoreRows.call)
    }

    func calls(stepID: Int64) async throws -> [CallRecord] {
        try query("SELECT \(StoreRows.callColumns) FROM calls WHERE step_id = ? ORDER BY id", [.int(stepID)]).map(StoreRows.call)
    }

    func recentCalls(limit: Int) async throws -> [CallRecord] {
        try query("SELECT \(StoreRows.callColumns) FROM calls ORDER BY id DESC LIMIT ?", [.int(limit)]).map(StoreRows.call)
    }

    func call(provider: String, vendorCallID: String) async throws -> CallRecord? {
        try query(
            "SELECT \(StoreRows.callColumns) FROM calls WHERE provider = ? AND vendor_call_id = ? ORDER BY id DESC LIMIT 1",
            [.text(provider), .text(vendorCallID)]
        ).first.map(StoreRows.call)
    }

    func calls(callID: String) async throws -> [CallRecord] {
        try query("SELECT \(StoreRows.callColumns) FROM calls WHERE call_id = ? ORDER BY id", [.text(callID)]).map(StoreRows.call)
    }

    func countCalls(route: String, phone: String, startedSince since: Date) async throws -> Int {
        try count(
            """
            SELECT COUNT(*) AS n FROM calls JOIN incidents ON incidents.id = calls.incident_id
            WHERE incidents.route = ? AND calls.phone = ? AND calls.started_at >= ?
                AND calls.state IN ('started', 'accepted', 'interrupted')
            """,
            [.text(route), .text(phone), .date(since)]
        )
    }

    func interruptStartedCalls(at date: Date) async throws -> [CallRecord] {
        try query(
            "UPDATE calls SET state = 'interrupted', updated_at = ? WHERE state = 'started' RETURNING \(StoreRows.callColumns)",
            [.date(date)]
        ).map(StoreRows.call)
    }

    // MARK: Timeline

    func appendEvent(_ event: TimelineEvent) async throws {
        _ = try query(
            "INSERT INTO events (incident_id, at, kind, actor, detail, call_id) VALUES (?, ?, ?, ?, ?, ?)",
            [.int(event.incidentID), .date(event.at), .text(event.kind), .text(event.actor), .text(event.detail), .text(event.callID)]
        )
    }

    func events(incidentID: Int64) async throws -> [TimelineEvent] {
        try query(
            "SELECT \(StoreRows.eventColumns) FROM events WHERE incident_id = ? ORDER BY id",
            [.int(incidentID)]
        ).map(StoreRows.event)
    }
}

extension SQLiteData {
    static func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    static func int(_ value: Int) -> SQLiteData { .integer(SQLiteInt64(value)) }
    static func int(_ value: Int64) -> SQLiteData { .integer(SQLiteInt64(value)) }
    /// Whole milliseconds since 1970: exact, so a due time compares equal to the instant it names.
    static func date(_ value: Date?) -> SQLiteData { value.map { .integer(SQLiteInt64($0.millisecondsSince1970)) } ?? .null }
}

extension SQLiteHandle.Row: StoreRow {
    func int64(_ name: String) -> Int64 { Int64(column(name)?.integer ?? 0) }
    func string(_ name: String) -> String { column(name)?.string ?? "" }
    func optionalString(_ name: String) -> String? {
        guard let data = column(name), !data.isNull else { return nil }
        return data.string
    }
    func date(_ name: String) -> Date { Date(millisecondsSince1970: column(name)?.integer.map(Int64.init) ?? 0) }
    func optionalDate(_ name: String) -> Date? {
        guard let data = column(name), !data.isNull, let milliseconds = data.integer else { return nil }
        return Date(millisecondsSince1970: Int64(milliseconds))
    }
    func flag(_ name: String) -> Bool { int64(name) != 0 }
}
