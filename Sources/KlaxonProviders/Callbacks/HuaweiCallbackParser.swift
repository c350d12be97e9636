import Foundation
import KlaxonCore

/// Parses Huawei AICC's voice-notification release callback (VENDORS.md §2.7): one JSON
/// object POSTed to `callBackUrl` when the call is released.
///
/// - ``fields(_:)`` reads the body as name → text: strings as they are, numbers as written
///   (`1`, `2.5`), `true`/`false`, and `null` as `null`, which is also how Huawei's Java
///   signer renders them. Verify these with ``HuaweiCallbackVerifier`` before trusting them.
/// - ``report(from:)`` turns them into a ``CallStatusReport``: `callSerialNo` → vendor call
///   id (required), `called` → callee, `talkDuration` (seconds, at most
///   ``maximumTalkDuration``; anything else is read as absent: the talk time is information,
///   and refusing the report would lose the answer it carries) → duration, `releaseReason`
///   → vendor code (`missing` when absent) and status: `0` (callee hung up after connecting) and `1` (played to the
///   end) → answered; `4` (rejected, or no answer after ringing) → no answer; `6`, `8`, `9`,
///   `10`, `999`, anything else or a missing reason → failed.
///
/// Huawei does not echo klaxon's call id; match reports on `callSerialNo`.
/// Answer every callback that parsed (and verified) with HTTP 200 and ``replyBody``.
public enum HuaweiCallbackParser {
    /// The reply AICC's sibling callbacks expect; voice notification documents none.
    public static let replyBody = #"{"retCode":"0","retMsg":"success"}"#

    /// The longest `talkDuration` kept, in seconds: a day. A voice notification lasts
    /// minutes; anything longer is broken, and a value near 10^16 would overflow the
    /// conversion to milliseconds.
    public static let maximumTalkDuration: Double = 86_400

    /// A callback body that is not a Huawei release event.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Where in the body: `$` or `$.talkDuration`.
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { "Huawei release callback \(path): \(message)" }
    }

    /// The body's top-level fields as text.
    public static func fields(_ body: some Collection<UInt8>) throws(ParseError) -> [String: String] {
        let object: [String: Value]
        do {
            object = try JSONDecoder().decode([String: Value].self, from: Data(body))
        } catch {
            throw ParseError(path: "$", message: "expected a JSON object (\(body.count) bytes)")
        }
        return object.mapValues(\.text)
    }

    /// The report the fields describe.
    public static func report(from fields: [String: String]) throws(ParseError) -> CallStatusReport {
        guard let serial = fields["callSerialNo"], !serial.isEmpty, serial != "null" else {
            throw ParseError(path: "$.callSerialNo", message: "missing; every release event carries one")
        }
        let reason = fields["releaseReason"].flatMap { $0.isEmpty || $0 == "null" ? nil : $0 }
        var duration: Duration?
        if let text = fields["talkDuration"], let seconds = Double(text), seconds >= 0, seconds <= maximumTalkDuration {
            duration = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        // A reason Huawei does not document (its list "may continue"), or none: a call with
        // talk time was answered. Read as failed, `stop_on: answered` would not stop the
        // escalation after someone heard the page.
        var status = reason.map(status(forReleaseReason:)) ?? .failed
        let talked = (duration ?? .zero) > .zero || fields["talkingTime"].map { !$0.isEmpty && $0 != "null" } == true
        if talked, reason.map({ !documentedReleaseReasons.contains($0.trimmingCharacters(in: .whitespaces)) }) ?? true {
            status = .answered
        }
        return CallStatusReport(
            vendorCallID: serial,
            callee: fields["called"].flatMap { $0.isEmpty || $0 == "null" ? nil : $0 },
            status: status,
            duration: duration,
            vendorCode: reason ?? "missing"
        )
    }

    /// ``fields(_:)`` then ``report(from:)``, for callbacks without a signature.
    public static func parse(_ body: some Collection<UInt8>) throws(ParseError) -> CallStatusReport {
        try report(from: fields(body))
    }

    /// The `releaseReason` codes Huawei documents (VENDORS.md §2.7).
    static let documentedReleaseReasons: Set<String> = ["0", "1", "4", "6", "8", "9", "10", "999"]

    /// How a call with this `releaseReason` ended.
    public static func status(forReleaseReason reason: String) -> CallStatus {
        switch reason.trimmingCharacters(in: .whitespaces) {
        case "0", "1": .answered
        case "4": .noAnswer
        default: .failed
        }
    }

    /// Any JSON value, rendered as Huawei's Java signer would see it.
    private enum Value: Decodable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
        case other(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .integer(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else {
                self = .other("[object]")
            }
        }

        var text: String {
            switch self {
            case .null: "null"
            case .bool(let value): value ? "true" : "false"
            case .integer(let value): String(value)
            case .number(let value): String(value)
            case .string(let value): value
            case .other(let value): value
            }
        }
    }
}
