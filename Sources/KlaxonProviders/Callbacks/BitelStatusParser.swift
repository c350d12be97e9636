import Foundation
import KlaxonCore

/// Reads how a Bitel call ended: from the call-detail answer
/// (`GET /api/v2/voice/status/{id}`, VENDORS.md §3.4) and from the project webhook (§3.5).
///
/// Status mapping (the `status` name decides; `statusCode` is used only when the name is
/// missing or unknown):
///
/// | status | statusCode | klaxon |
/// | --- | --- | --- |
/// | `WAITING` | 0 | still pending: no report (nil) |
/// | `NORMAL` | 1 | answered |
/// | `NO_ANSWER` | 2 | noAnswer |
/// | `USER_BUSY` | 3 | busy |
/// | `EXPIRED` | 10 | failed |
/// | `ERROR` | 11 | failed |
/// | `UNKNOWN` | 20 | failed |
/// | anything else | | failed (the raw value is kept as ``CallStatusReport/vendorCode``) |
///
/// An unknown value counts as failed rather than pending: the escalation then goes on to
/// the next person, where waiting for a report that never comes would stall it.
/// `billSec` becomes ``CallStatusReport/duration``. Bitel does not echo klaxon's call id,
/// so ``CallStatusReport/callID`` is nil; the report is matched by Bitel's id.
public enum BitelStatusParser {
    /// A body that is not a Bitel call record. Carries no part of the body.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { "unreadable Bitel status: \(message)" }
    }

    /// The report in a call-detail answer (HTTP 200), bare or wrapped in the
    /// `{"result": …, "error": …}` envelope; nil while the call is still `WAITING`.
    /// - Throws: ``Failure`` when the body is not JSON, has no call, carries an error code,
    ///   or the call has no id.
    public static func callDetail(_ body: some Collection<UInt8>) throws(Failure) -> CallStatusReport? {
        let detail: BitelCallDetail
        do {
            detail = try JSONDecoder().decode(BitelCallDetail.self, from: Data(body))
        } catch {
            throw Failure(message: "the call detail is not a Bitel call record (\(LenientCodingKey.summary(of: error)))")
        }
        if let code = detail.error { throw Failure(message: "Bitel answered with error \(code)") }
        guard let record = detail.record else { throw Failure(message: "the call detail has no result") }
        guard let id = record.id, !id.isEmpty else { throw Failure(message: "the call detail has no id") }
        guard let status = callStatus(name: record.status, code: record.statusCode) else { return nil }
        return CallStatusReport(
            vendorCallID: id,
            callee: record.phoneNumber,
            status: status,
            duration: record.billSec.map { .seconds(max(0, $0)) },
            vendorCode: vendorCode(name: record.status, code: record.statusCode)
        )
    }

    /// The report in a webhook post (`requestId`, `cause`, `billSec`, `number`, ...); nil
    /// when `cause` says the call is still waiting.
    /// - Throws: ``Failure`` when the body is not JSON or has no `requestId` or `cause`.
    public static func webhook(_ body: some Collection<UInt8>) throws(Failure) -> CallStatusReport? {
        let event: BitelWebhookEvent
        do {
            event = try JSONDecoder().decode(BitelWebhookEvent.self, from: Data(body))
        } catch {
            throw Failure(message: "the webhook body is not a Bitel event (\(LenientCodingKey.summary(of: error)))")
        }
        guard let id = event.requestID, !id.isEmpty else { throw Failure(message: "the webhook has no requestId") }
        guard let cause = event.cause, !cause.isEmpty else { throw Failure(message: "the webhook has no cause") }
        guard let status = callStatus(name: cause, code: nil) else { return nil }
        return CallStatusReport(
            vendorCallID: id,
            callee: event.number,
            status: status,
            duration: event.billSec.map { .seconds(max(0, $0)) },
            vendorCode: cause
        )
    }

    /// klaxon's status for Bitel's `status` name or, failing that, its `statusCode`; nil
    /// for a call still waiting (see the table above).
    public static func callStatus(name: String?, code: Int?) -> CallStatus? {
        if let name, let known = byName[name] { return known }
        if let code, let known = byCode[code] { return known }
        return .failed
    }

    private static let byName: [String: CallStatus?] = [
        "WAITING": nil,
        "NORMAL": .answered,
        "NO_ANSWER": .noAnswer,
        "USER_BUSY": .busy,
        "EXPIRED": .failed,
        "ERROR": .failed,
        "UNKNOWN": .failed,
    ]

    private static let byCode: [Int: CallStatus?] = [
        0: nil,
        1: .answered,
        2: .noAnswer,
        3: .busy,
        10: .failed,
        11: .failed,
        20: .failed,
    ]

    private static func vendorCode(name: String?, code: Int?) -> String {
        if let name, !name.isEmpty { return name }
        return code.map { "statusCode \($0)" } ?? "no status"
    }
}
