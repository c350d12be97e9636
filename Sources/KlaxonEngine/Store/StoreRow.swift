import Foundation
import KlaxonCore

/// A row read from either store, by column name. Both keep the same columns in the same
/// forms (text, whole numbers, times as milliseconds since 1970), so one mapping from row
/// to value serves both (``StoreRows``).
protocol StoreRow {
    func int64(_ name: String) throws -> Int64
    func string(_ name: String) throws -> String
    func optionalString(_ name: String) throws -> String?
    func date(_ name: String) throws -> Date
    func optionalDate(_ name: String) throws -> Date?
    /// A yes/no column: an integer in SQLite, a boolean in PostgreSQL.
    func flag(_ name: String) throws -> Bool
}

/// The columns each store's statements read, and the values made from them.
enum StoreRows {
    static let incidentColumns =
        "id, key, route, state, severity, priority, title, voice, providers, escalation, opened_at, last_seen, count, acked_at, acked_by, resolved_at, resolved_by, storm"
    static let alertColumns =
        "incident_id, fingerprint, key, status, labels, annotations, severity, source, starts_at, ends_at, first_seen, last_seen"
    static let stepColumns = "id, incident_id, step, due_at, state, recipients"
    static let callColumns =
        "id, call_id, incident_id, step_id, step, recipient, phone, state, provider, attempts, vendor_call_id, status, digits, error, started_at, updated_at"
    static let eventColumns = "id, incident_id, at, kind, actor, detail, call_id"

    /// Of the pending step `s` in ``IncidentTransaction/claimDueSteps(now:limit:)``: no other
    /// pending step of its incident comes before it, and none is running (since at most
    /// ``runningStepHold`` before `now`, bound at `runningSince`): an incident's steps run
    /// one at a time, so that a later one cannot be deferred or moved on its own. A step of
    /// a chain that replaced the running one's (written after it, numbered from 1 again) is
    /// not held up by it: that one stops at its next retry or failover.
    static func firstStepOfItsIncident(runningSince: String) -> String {
        """
        NOT EXISTS (
            SELECT 1 FROM steps AS o WHERE o.incident_id = s.incident_id AND o.id <> s.id
                AND ((o.state = 'running' AND o.due_at > \(runningSince) AND NOT (s.id > o.id AND s.step <= o.step))
                    OR (o.state = 'pending' AND (o.due_at < s.due_at OR (o.due_at = s.due_at AND o.id < s.id))))
        )
        """
    }

    /// How long a running step holds up its incident's later steps at most: one stuck (a
    /// vendor that never answers, a store write failing over and over) must not hold the
    /// rest of the chain for good.
    static let runningStepHold = Duration.seconds(15 * 60)

    /// ``IncidentTransaction/activeIncidentsByRoute()``, in SQL both stores read alike.
    static let activeIncidentsByRoute = """
        SELECT route, id, n FROM (
            SELECT route, id, COUNT(*) OVER (PARTITION BY route) AS n, ROW_NUMBER() OVER (PARTITION BY route ORDER BY id) AS r
            FROM incidents WHERE state <> 'resolved'
        ) AS active WHERE r <= 10 ORDER BY route, id
        """

    static func routeIncidents(_ rows: [some StoreRow]) throws -> [String: RouteIncidents] {
        var routes: [String: RouteIncidents] = [:]
        for row in rows {
            let count = Int(try row.int64("n"))
            routes[try row.string("route"), default: RouteIncidents(count: count, ids: [])].ids.append(try row.int64("id"))
        }
        return routes
    }

    static func incident(_ row: some StoreRow) throws -> Incident {
        Incident(
            id: try row.int64("id"),
            key: try row.string("key"),
            route: try row.string("route"),
            state: IncidentState(rawValue: try row.string("state")) ?? .open,
            severity: try row.string("severity"),
            priority: Int(try row.int64("priority")),
            title: try row.string("title"),
            voice: try row.optionalString("voice"),
            providers: JSONColumn.decode([String].self, try row.string("providers")) ?? [],
            escalation: try row.optionalString("escalation"),
            openedAt: try row.date("opened_at"),
            lastSeen: try row.date("last_seen"),
            count: Int(try row.int64("count")),
            ackedAt: try row.optionalDate("acked_at"),
            ackedBy: try row.optionalString("acked_by"),
            resolvedAt: try row.optionalDate("resolved_at"),
            resolvedBy: try row.optionalString("resolved_by"),
            storm: try row.flag("storm")
        )
    }

    static func alert(_ row: some StoreRow) throws -> IncidentAlert {
        IncidentAlert(
            incidentID: try row.int64("incident_id"),
            fingerprint: try row.string("fingerprint"),
            key: try row.string("key"),
            status: AlertStatus(rawValue: try row.string("status")) ?? .firing,
            labels: LabelSet(JSONColumn.decode([String: String].self, try row.string("labels")) ?? [:]),
            annotations: LabelSet(JSONColumn.decode([String: String].self, try row.string("annotations")) ?? [:]),
            severity: try row.string("severity"),
            source: try row.string("source"),
            startsAt: try row.optionalDate("starts_at"),
            endsAt: try row.optionalDate("ends_at"),
            firstSeen: try row.date("first_seen"),
            lastSeen: try row.date("last_seen")
        )
    }

    static func step(_ row: some StoreRow) throws -> ScheduledStep {
        // Pairs are the people the step was written with; lists of one, its `notify:`.
        let entries = JSONColumn.decode([[String]].self, try row.string("recipients")) ?? []
        return ScheduledStep(
            id: try row.int64("id"),
            incidentID: try row.int64("incident_id"),
            step: Int(try row.int64("step")),
            dueAt: try row.date("due_at"),
            state: StepState(rawValue: try row.string("state")) ?? .pending,
            recipients: entries.compactMap { $0.count == 2 ? CallRecipient(name: $0[0], phone: $0[1]) : nil },
            notify: entries.compactMap { $0.count == 1 ? $0[0] : nil }
        )
    }

    static func call(_ row: some StoreRow) throws -> CallRecord {
        CallRecord(
            id: try row.int64("id"),
            callID: try row.string("call_id"),
            incidentID: try row.int64("incident_id"),
            stepID: try row.int64("step_id"),
            step: Int(try row.int64("step")),
            recipient: CallRecipient(name: try row.string("recipient"), phone: try row.string("phone")),
            state: CallRecordState(rawValue: try row.string("state")) ?? .started,
            provider: try row.optionalString("provider"),
            attempts: Int(try row.int64("attempts")),
            vendorCallID: try row.optionalString("vendor_call_id"),
            status: try row.optionalString("status").flatMap(CallStatus.init(rawValue:)),
            digits: try row.optionalString("digits"),
            error: try row.optionalString("error"),
            startedAt: try row.date("started_at"),
            updatedAt: try row.date("updated_at")
        )
    }

    static func event(_ row: some StoreRow) throws -> TimelineEvent {
        TimelineEvent(
            id: try row.int64("id"),
            incidentID: try row.int64("incident_id"),
            at: try row.date("at"),
            kind: try row.string("kind"),
            actor: try row.string("actor"),
            detail: try row.string("detail"),
            callID: try row.optionalString("call_id")
        )
    }
}
