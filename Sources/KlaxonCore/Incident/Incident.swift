import Foundation

/// Where an incident stands. Only `open` incidents escalate.
public enum IncidentState: String, Sendable, Hashable, CaseIterable, Codable {
    case open
    case acked
    case resolved
}

/// Alerts that share a dedupe key, and the escalation they set off.
public struct Incident: Sendable, Hashable {
    public var id: Int64
    /// Route plus `dedupe.by` labels, Alertmanager's group key or the fingerprint.
    public var key: String
    public var route: String
    public var state: IncidentState
    public var severity: String
    /// 1 (highest) to 9.
    public var priority: Int
    public var title: String
    public var voice: String?
    /// Provider names in failover order.
    public var providers: [String]
    public var escalation: String?
    public var openedAt: Date
    public var lastSeen: Date
    /// How many times alerts of this incident were received, repeats included.
    public var count: Int
    public var ackedAt: Date?
    public var ackedBy: String?
    public var resolvedAt: Date?
    public var resolvedBy: String?
    /// A storm incident gathers the new alerts of a route during a storm: one summary call
    /// instead of one call per incident.
    public var storm: Bool

    public init(
        id: Int64 = 0,
        key: String,
        route: String,
        state: IncidentState = .open,
        severity: String,
        priority: Int,
        title: String,
        voice: String?,
        providers: [String],
        escalation: String?,
        openedAt: Date,
        lastSeen: Date,
        count: Int = 1,
        ackedAt: Date? = nil,
        ackedBy: String? = nil,
        resolvedAt: Date? = nil,
        resolvedBy: String? = nil,
        storm: Bool = false
    ) {
        self.id = id
        self.key = key
        self.route = route
        self.state = state
        self.severity = severity
        self.priority = priority
        self.title = title
        self.voice = voice
        self.providers = providers
        self.escalation = escalation
        self.openedAt = openedAt
        self.lastSeen = lastSeen
        self.count = count
        self.ackedAt = ackedAt
        self.ackedBy = ackedBy
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
        self.storm = storm
    }
}

/// One alert of an incident, as last received.
public struct IncidentAlert: Sendable, Hashable {
    public var incidentID: Int64
    public var fingerprint: String
    /// The alert's own dedupe key (a storm incident holds alerts of many keys).
    public var key: String
    public var status: AlertStatus
    public var labels: LabelSet
    public var annotations: LabelSet
    public var severity: String
    public var source: String
    public var startsAt: Date?
    public var endsAt: Date?
    public var firstSeen: Date
    public var lastSeen: Date

    public init(
        incidentID: Int64,
        fingerprint: String,
        key: String,
        status: AlertStatus,
        labels: LabelSet,
        annotations: LabelSet,
        severity: String,
        source: String,
        startsAt: Date?,
        endsAt: Date?,
        firstSeen: Date,
        lastSeen: Date
    ) {
        self.incidentID = incidentID
        self.fingerprint = fingerprint
        self.key = key
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.severity = severity
        self.source = source
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    /// The alert as the rules see it, for rendering voices at call time.
    public var alert: Alert {
        Alert(
            status: status,
            labels: labels,
            annotations: annotations,
            startsAt: startsAt,
            endsAt: endsAt,
            fingerprint: fingerprint,
            severity: severity
        )
    }
}

/// Where an escalation step stands.
public enum StepState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting for its due time.
    case pending
    /// Claimed by the scheduler; its calls are being placed.
    case running
    case done
    /// Ack or resolve came first.
    case cancelled
    /// Quiet hours (or outside active hours) with `action: skip`.
    case skipped
}

/// One escalation step of an incident: a durable row with a due time.
public struct ScheduledStep: Sendable, Hashable {
    public var id: Int64
    public var incidentID: Int64
    /// 1-based, counting across repeats.
    public var step: Int
    public var dueAt: Date
    public var state: StepState
    public var recipients: [CallRecipient]
    /// The escalation step's `notify:` as written (`alice`, `group:dba`), whom the step
    /// calls under the rules in force; empty for steps written before klaxon kept it.
    public var notify: [String]
    /// How late the claim that returned this step found it, which then made its due time the
    /// claim's; zero otherwise. Not stored: a hold that defers the step counts from when it
    /// was due, not from when klaxon got to it.
    public var claimedLate: Duration = .zero

    public init(
        id: Int64 = 0,
        incidentID: Int64,
        step: Int,
        dueAt: Date,
        state: StepState = .pending,
        recipients: [CallRecipient],
        notify: [String] = []
    ) {
        self.id = id
        self.incidentID = incidentID
        self.step = step
        self.dueAt = dueAt
        self.state = state
        self.recipients = recipients
        self.notify = notify
    }
}

/// Where one call to one person stands in klaxon's records.
public enum CallRecordState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Recorded before the vendor was contacted; no answer recorded yet.
    case started
    /// A vendor took the call.
    case accepted
    /// Every provider refused or could not be reached.
    case failed
    /// The process stopped between `started` and the vendor's answer; the step runs again.
    case interrupted
    /// Not placed: the recipient's rate limit was reached.
    case heldBack = "held_back"
}

/// One call to one person for one step.
public struct CallRecord: Sendable, Hashable {
    public var id: Int64
    /// klaxon's id of the step's request (``CallID``), shared by its recipients.
    public var callID: String
    public var incidentID: Int64
    public var stepID: Int64
    public var step: Int
    public var recipient: CallRecipient
    public var state: CallRecordState
    /// The provider of the last attempt.
    public var provider: String?
    public var attempts: Int
    public var vendorCallID: String?
    /// How the call ended, from the vendor's status report.
    public var status: CallStatus?
    public var digits: String?
    public var error: String?
    public var startedAt: Date
    public var updatedAt: Date

    public init(
        id: Int64 = 0,
        callID: String,
        incidentID: Int64,
        stepID: Int64,
        step: Int,
        recipient: CallRecipient,
        state: CallRecordState = .started,
        provider: String? = nil,
        attempts: Int = 0,
        vendorCallID: String? = nil,
        status: CallStatus? = nil,
        digits: String? = nil,
        error: String? = nil,
        startedAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.callID = callID
        self.incidentID = incidentID
        self.stepID = stepID
        self.step = step
        self.recipient = recipient
        self.state = state
        self.provider = provider
        self.attempts = attempts
        self.vendorCallID = vendorCallID
        self.status = status
        self.digits = digits
        self.error = error
        self.startedAt = startedAt
        self.updatedAt = updatedAt
    }
}

/// One entry of an incident's timeline: who did what, when, to which call.
public struct TimelineEvent: Sendable, Hashable {
    public var id: Int64
    public var incidentID: Int64
    public var at: Date
    /// `opened`, `alert_joined`, `alert_resolved`, `step_fired`, `call_placed`, `call_failed`,
    /// `call_status`, `acked`, `resolved`, `deferred`, `skipped`, `held_back`, ...
    public var kind: String
    /// `source`, `scheduler`, a person's name or the API caller's.
    public var actor: String
    public var detail: String
    public var callID: String?

    public init(id: Int64 = 0, incidentID: Int64, at: Date, kind: String, actor: String, detail: String, callID: String? = nil) {
        self.id = id
        self.incidentID = incidentID
        self.at = at
        self.kind = kind
        self.actor = actor
        self.detail = detail
        self.callID = callID
    }
}
