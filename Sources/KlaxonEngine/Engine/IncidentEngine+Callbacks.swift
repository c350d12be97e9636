import Foundation
import KlaxonCore
import KlaxonRules
import Logging

/// What a vendor's status report changed.
public enum StatusReportOutcome: Sendable, Hashable {
    /// Recorded on the call; `acked` when it stopped the escalation.
    case recorded(incidentID: Int64, acked: Bool)
    /// The same report again (vendors re-send): nothing changed.
    case duplicate
    /// No call of this provider matches the report.
    case unknownCall
}

extension IncidentEngine {
    /// Records how a call ended. An answered call or a key press acknowledges the incident
    /// when its escalation's `stop_on` says so. Reports are idempotent.
    public func recordStatus(_ report: CallStatusReport, provider: String) async throws -> StatusReportOutcome {
        try await recordStatuses([report], provider: provider)[0]
    }

    /// ``recordStatus(_:provider:)`` for every report of one push (an infin8linx callback
    /// may hold thousands), in one transaction and one disk sync: all are recorded or none.
    public func recordStatuses(_ reports: [CallStatusReport], provider: String) async throws -> [StatusReportOutcome] {
        guard !reports.isEmpty else { return [] }
        let rules = self.rules
        let now = clock.now()
        let outcomes = try await store.write { transaction -> [StatusReportOutcome] in
            var outcomes: [StatusReportOutcome] = []
            for report in reports {
                outcomes.append(try await Self.record(report, provider: provider, rules: rules, now: now, in: transaction, logger: logger))
            }
            return outcomes
        }
        var acknowledged = false
        for case .recorded(let id, true) in outcomes {
            logger.info("incident acknowledged by call", metadata: ["incident": "\(id)", "provider": "\(provider)"])
            acknowledged = true
        }
        if acknowledged { await refreshOpenIncidents() }
        return outcomes
    }

    private static func record(
        _ report: CallStatusReport,
        provider: String,
        rules: EngineRules,
        now: Date,
        in transaction: any IncidentTransaction,
        logger: Logger
    ) async throws -> StatusReportOutcome {
        var call: CallRecord?
        if let vendorCallID = report.vendorCallID, !vendorCallID.isEmpty {
            call = try await transaction.call(provider: provider, vendorCallID: vendorCallID)
        }
        if call == nil, let callID = report.callID, !callID.isEmpty {
            // Any provider's: a call that timed out at one vendor (and may ring there) and
            // failed over names the next, yet the first vendor's report must still count.
            // The recipient's row, not one a retried transaction left `failed` beside it
            // (``IncidentEngine/prepare``) under the same call id.
            let calls = try await transaction.calls(callID: callID)
            let live = calls.filter { $0.state != .failed }
            call =
                live.first { PhoneNumber.sameLine($0.recipient.phone, report.callee) }
                ?? calls.first { PhoneNumber.sameLine($0.recipient.phone, report.callee) }
                ?? (live.count == 1 ? live.first : calls.count == 1 ? calls.first : nil)
        }
        guard var call else { return .unknownCall }
        if call.status == report.status, call.digits == report.digits { return .duplicate }
        // Someone heard the call: a later report of less (no answer from the leg that
        // failed over, an answer without the keys already reported) does not undo that.
        if let recorded = call.status, Self.heard(recorded) > Self.heard(report.status) { return .duplicate }
        call.status = report.status
        call.digits = report.digits ?? call.digits
        call.updatedAt = now
        try await transaction.updateCall(call)
        let digits = report.digits.map { ", keys \($0)" } ?? ""
        let talked = report.duration.map { ", talked \($0.components.seconds) s" } ?? ""
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: call.incidentID,
                at: now,
                kind: "call_status",
                actor: provider,
                detail: "call to \(call.recipient.name): \(report.status.rawValue)\(digits)\(talked) (vendor code \(report.vendorCode))",
                callID: call.callID
            )
        )
        guard var incident = try await transaction.incident(id: call.incidentID), incident.state == .open else {
            return .recorded(incidentID: call.incidentID, acked: false)
        }
        guard let escalation = incident.escalation.flatMap({ rules.repository.escalations[$0] }) else {
            // Its escalation is gone from the rules (a reload): without its stop_on, keep
            // ringing rather than guess.
            if let name = incident.escalation {
                logger.warning(
                    "status report not checked against stop_on: the incident's escalation is no longer in the rules",
                    metadata: ["incident": "\(incident.id)", "escalation": "\(name)", "status": "\(report.status.rawValue)"]
                )
            }
            return .recorded(incidentID: call.incidentID, acked: false)
        }
        let answered = report.status == .answered || report.status == .keyPressed
        let stops =
            (answered && escalation.stopOn.contains(.answered))
            || (report.status == .keyPressed && escalation.stopOn.contains(.keyPressed))
        guard stops else { return .recorded(incidentID: call.incidentID, acked: false) }
        // A call of the chain before the incident reopened (a report may come minutes
        // after the call) answered for the outage that ended, not for this one.
        guard try await call.startedAt >= Self.escalationStart(of: incident, in: transaction) else {
            try await transaction.appendEvent(
                TimelineEvent(
                    incidentID: incident.id,
                    at: now,
                    kind: "call_status",
                    actor: provider,
                    detail: "not an acknowledgement: the call to \(call.recipient.name) was placed before the incident reopened",
                    callID: call.callID
                )
            )
            return .recorded(incidentID: call.incidentID, acked: false)
        }
        incident.state = .acked
        incident.ackedAt = now
        incident.ackedBy = call.recipient.name
        try await transaction.updateIncident(incident)
        let cancelled = try await transaction.cancelPendingSteps(incidentID: incident.id)
        try await transaction.appendEvent(
            TimelineEvent(
                incidentID: incident.id,
                at: now,
                kind: "acked",
                actor: call.recipient.name,
                detail: "acknowledged by \(call.recipient.name) (\(report.status.rawValue) call); \(cancelled) pending steps cancelled",
                callID: call.callID
            )
        )
        return .recorded(incidentID: incident.id, acked: true)
    }

    /// How much of the call the person heard: a report never lowers it.
    private static func heard(_ status: CallStatus) -> Int {
        switch status {
        case .keyPressed: 2
        case .answered: 1
        case .noAnswer, .busy, .failed: 0
        }
    }
}
