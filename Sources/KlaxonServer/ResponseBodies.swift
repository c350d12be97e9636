import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine

/// What the API returns; keys are written in snake_case.
struct IncidentBody: ResponseEncodable {
    let id: Int64
    let key: String
    let route: String
    let state: String
    let severity: String
    let priority: Int
    let title: String
    let voice: String?
    let providers: [String]
    let escalation: String?
    let openedAt: Date
    let lastSeen: Date
    let count: Int
    let ackedAt: Date?
    let ackedBy: String?
    let resolvedAt: Date?
    let resolvedBy: String?
    let storm: Bool

    init(_ incident: Incident) {
        id = incident.id
        key = incident.key
        route = incident.route
        state = incident.state.rawValue
        severity = incident.severity
        priority = incident.priority
        title = incident.title
        voice = incident.voice
        providers = incident.providers
        escalation = incident.escalation
        openedAt = incident.openedAt
        lastSeen = incident.lastSeen
        count = incident.count
        ackedAt = incident.ackedAt
        ackedBy = incident.ackedBy
        resolvedAt = incident.resolvedAt
        resolvedBy = incident.resolvedBy
        storm = incident.storm
    }
}

struct IncidentListBody: ResponseEncodable {
    let incidents: [IncidentBody]
    /// More incidents match than `limit` let through.
    let truncated: Bool
}

struct AlertBody: Encodable {
    let fingerprint: String
    let status: String
    let labels: [String: String]
    let annotations: [String: String]
    let severity: String
    let source: String
    let startsAt: Date?
    let endsAt: Date?
    let firstSeen: Date
    let lastSeen: Date

    init(_ alert: IncidentAlert) {
        fingerprint = alert.fingerprint
        status = alert.status.rawValue
        labels = alert.labels.storage
        annotations = alert.annotations.storage
        severity = alert.severity
        source = alert.source
        startsAt = alert.startsAt
        endsAt = alert.endsAt
        firstSeen = alert.firstSeen
        lastSeen = alert.lastSeen
    }
}

struct StepBody: Encodable {
    let step: Int
    let dueAt: Date
    let state: String
    let recipients: [String]

    init(_ step: ScheduledStep) {
        self.step = step.step
        dueAt = step.dueAt
        state = step.state.rawValue
        recipients = step.recipients.map(\.name)
    }
}

struct CallBody: ResponseEncodable {
    let id: Int64
    let callId: String
    let incidentId: Int64
    let step: Int
    let recipient: String
    /// Masked: the API shows who, not the whole number.
    let to: String
    let state: String
    let provider: String?
    let vendorCallId: String?
    let status: String?
    let digits: String?
    let error: String?
    let startedAt: Date
    let updatedAt: Date

    init(_ call: CallRecord) {
        id = call.id
        callId = call.callID
        incidentId = call.incidentID
        step = call.step
        recipient = call.recipient.name
        to = call.recipient.maskedPhone
        state = call.state.rawValue
        provider = call.provider
        vendorCallId = call.vendorCallID
        status = call.status?.rawValue
        digits = call.digits
        error = call.error
        startedAt = call.startedAt
        updatedAt = call.updatedAt
    }
}

struct CallListBody: ResponseEncodable {
    let calls: [CallBody]
    /// More calls exist than `limit` let through.
    let truncated: Bool
}

struct EventBody: Encodable {
    let at: Date
    let kind: String
    let actor: String
    let detail: String
    let callId: String?

    init(_ event: TimelineEvent) {
        at = event.at
        kind = event.kind
        actor = event.actor
        detail = event.detail
        callId = event.callID
    }
}

struct IncidentDetailBody: ResponseEncodable {
    let incident: IncidentBody
    let alerts: [AlertBody]
    let steps: [StepBody]
    let calls: [CallBody]
    let timeline: [EventBody]

    init(_ detail: IncidentDetail) {
        incident = IncidentBody(detail.incident)
        alerts = detail.alerts.map(AlertBody.init)
        steps = detail.steps.map(StepBody.init)
        calls = detail.calls.map(CallBody.init)
        timeline = detail.events.map(EventBody.init)
    }
}

/// Written by hand, not with `JSONEncoder`: every webhook answers with one.
struct IngestBody: ResponseGenerator {
    let status = "accepted"
    let alerts: Int
    let opened: [Int64]
    let updated: [Int64]
    let resolved: [Int64]
    let deduplicated: Int
    let dropped: Int
    let unrouted: Int

    init(alerts: Int, summary: IngestSummary) {
        self.alerts = alerts
        opened = summary.opened
        updated = summary.updated.sorted()
        resolved = summary.resolved
        deduplicated = summary.deduplicated + summary.joinedStorm
        dropped = summary.dropped
        unrouted = summary.unrouted
    }

    /// The same keys, sorted, as the API's encoder writes them, written straight into the
    /// response's buffer: every webhook answers with one.
    var json: ByteBuffer {
        func write(_ ids: [Int64], into buffer: inout ByteBuffer) {
            buffer.writeStaticString("[")
            for (index, id) in ids.enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                buffer.writeString(String(id))
            }
            buffer.writeStaticString("]")
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(160 + 12 * (opened.count + resolved.count + updated.count))
        buffer.writeStaticString(#"{"alerts":"#)
        buffer.writeString(String(alerts))
        buffer.writeStaticString(#","deduplicated":"#)
        buffer.writeString(String(deduplicated))
        buffer.writeStaticString(#","dropped":"#)
        buffer.writeString(String(dropped))
        buffer.writeStaticString(#","opened":"#)
        write(opened, into: &buffer)
        buffer.writeStaticString(#","resolved":"#)
        write(resolved, into: &buffer)
        buffer.writeStaticString(#","status":""#)
        buffer.writeString(status)
        buffer.writeStaticString(#"","unrouted":"#)
        buffer.writeString(String(unrouted))
        buffer.writeStaticString(#","updated":"#)
        write(updated, into: &buffer)
        buffer.writeStaticString("}")
        return buffer
    }

    private static let headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: Self.headers, body: .init(byteBuffer: json))
    }
}

struct ReloadBody: ResponseEncodable {
    let status: String
    let routes: Int
    let providers: Int
    let warnings: [String]
}

struct ReloadErrorBody: Encodable {
    let error: String
    let detail: String
    let errors: [String]
}
