import Foundation
import KlaxonCore

/// Parses Aliyun's `VoiceReport` HTTP batch push (VENDORS.md §1.6): a JSON array of call
/// records, each sent once after the call ended, possibly several calls per push.
///
/// - `status_code` 200000, 200001 and 200008 → answered; 200002 → busy; 200003 → no answer;
///   any other final code → failed. A non-empty `dtmf` → key pressed, with its digits.
/// - Intermediate `VoiceCallReport` codes (200100, 200101, 200102, 200201, 300000), pushed
///   when that message type is routed to the same URL, are skipped: they do not say how the
///   call ended.
/// - `duration` (seconds, a string in the docs, a number tolerated) becomes the talk time;
///   `call_id` the vendor call id; `out_id` minus `outIDPrefix` klaxon's call id (nil when
///   `out_id` is missing, empty or does not start with the prefix); `callee` the number.
///
/// Each problem is a ``ParseError`` naming what is wrong and where (`$[2].status_code`).
/// ``parseBatch(_:outIDPrefix:)`` keeps the good records of a push with a bad one (Aliyun
/// would push the same bytes again, so refusing the batch would lose its good reports for
/// good): a record without `call_id` or `status_code` is left out, a malformed optional
/// field (`duration`, `dtmf`, `out_id`, `callee`) is read as absent. Answer a push that
/// gave reports with HTTP 200 and ``replyBody``.
public enum AliyunReceiptParser {
    /// The reply Aliyun expects (only "is `code` a number" is checked); anything else, a
    /// non-200 status or more than 700 ms makes it push again after 1, 5 and 10 minutes.
    public static let replyBody = #"{"code":0,"msg":"接收成功"}"#

    /// Final status codes that mean the callee picked up.
    public static let answeredCodes: Set<String> = ["200000", "200001", "200008"]
    /// `VoiceCallReport` progress codes, skipped.
    public static let intermediateCodes: Set<String> = ["200100", "200101", "200102", "200201", "300000"]

    /// A push body that is not a valid `VoiceReport` batch.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Where in the body: `$`, `$[0]`, `$[0].duration`.
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { "Aliyun VoiceReport \(path): \(message)" }
    }

    /// A push's reports, and what was wrong with it.
    public struct Batch: Sendable {
        public var reports: [CallStatusReport] = []
        public var problems: [ParseError] = []
    }

    /// Parses one push body, strictly: any problem throws.
    public static func parse(_ body: some Collection<UInt8>, outIDPrefix: String = "") throws(ParseError) -> [CallStatusReport] {
        let batch = try parseBatch(body, outIDPrefix: outIDPrefix)
        if let problem = batch.problems.first { throw problem }
        return batch.reports
    }

    /// Parses one push body; `outIDPrefix` is the provider's `out_id_prefix`. Throws only
    /// for a body that is not an array of records.
    public static func parseBatch(_ body: some Collection<UInt8>, outIDPrefix: String = "") throws(ParseError) -> Batch {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw ParseError(path: "$", message: "the body is not JSON (\(body.count) bytes)")
        }
        guard let records = root as? [Any] else {
            throw ParseError(path: "$", message: "expected a JSON array of call records, got \(kind(of: root))")
        }
        var batch = Batch()
        for (index, element) in records.enumerated() {
            let path = "$[\(index)]"
            guard let record = element as? [String: Any] else {
                batch.problems.append(ParseError(path: path, message: "expected a call record object, got \(kind(of: element))"))
                continue
            }
            do {
                if let report = try parseRecord(record, path: path, outIDPrefix: outIDPrefix, problems: &batch.problems) {
                    batch.reports.append(report)
                }
            } catch {
                batch.problems.append(error)
            }
        }
        return batch
    }

    /// The outcome of a final `status_code`, before `dtmf` is looked at.
    public static func status(forCode code: String) -> CallStatus {
        switch code {
        case _ where answeredCodes.contains(code): .answered
        case "200002": .busy
        case "200003": .noAnswer
        default: .failed
        }
    }

    /// The record's report; throws when it lacks what identifies it, and notes in
    /// `problems` the optional fields it reads as absent.
    private static func parseRecord(
        _ record: [String: Any],
        path: String,
        outIDPrefix: String,
        problems: inout [ParseError]
    ) throws(ParseError) -> CallStatusReport? {
        func optional(_ key: String, _ check: (String) throws(ParseError) -> Void = { _ in }) -> String? {
            do {
                guard let text = try scalar(record, key, path: path), !text.isEmpty else { return nil }
                try check(text)
                return text
            } catch {
                problems.append(error)
                return nil
            }
        }
        guard let statusCode = try scalar(record, "status_code", path: path), !statusCode.isEmpty else {
            throw ParseError(path: "\(path).status_code", message: "missing; every VoiceReport carries one")
        }
        if intermediateCodes.contains(statusCode) { return nil }
        guard let vendorCallID = try scalar(record, "call_id", path: path), !vendorCallID.isEmpty else {
            throw ParseError(path: "\(path).call_id", message: "missing; every VoiceReport carries one")
        }

        let duration = optional("duration") { (text) throws(ParseError) in
            guard let seconds = Int(text), seconds >= 0 else {
                throw ParseError(path: "\(path).duration", message: "expected whole seconds, got \"\(text.prefix(40))\"")
            }
        }
        .flatMap(Int.init).map { Duration.seconds($0) }

        var callID: String?
        if let outID = optional("out_id"), outID.hasPrefix(outIDPrefix) {
            let stripped = String(outID.dropFirst(outIDPrefix.count))
            callID = stripped.isEmpty ? nil : stripped
        }

        var status = status(forCode: statusCode)
        // Malformed key digits are no key press: `key_pressed` must not stop an escalation
        // on a guess.
        let digits = optional("dtmf") { (dtmf) throws(ParseError) in
            guard dtmf.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "*" || $0 == "#") }) else {
                throw ParseError(path: "\(path).dtmf", message: "expected key digits (0-9, *, #), got \"\(dtmf.prefix(40))\"")
            }
        }
        if digits != nil { status = .keyPressed }

        return CallStatusReport(
            vendorCallID: vendorCallID,
            callID: callID,
            callee: optional("callee"),
            status: status,
            duration: duration,
            digits: digits,
            vendorCode: statusCode
        )
    }

    /// A field as text: strings as they are, integers written out; nil when absent or null.
    private static func scalar(_ record: [String: Any], _ key: String, path: String) throws(ParseError) -> String? {
        switch record[key] {
        case nil, is NSNull:
            return nil
        case let text as String:
            return text
        case let number as NSNumber where !isBoolean(number):
            guard let integer = Int64(exactly: number.doubleValue) else {
                throw ParseError(path: "\(path).\(key)", message: "expected a string or a whole number, got \(number)")
            }
            return String(integer)
        case let other?:
            throw ParseError(path: "\(path).\(key)", message: "expected a string, got \(kind(of: other))")
        }
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c" && (number == NSNumber(value: true) || number == NSNumber(value: false))
    }

    private static func kind(of value: Any) -> String {
        switch value {
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        case is String: "a string"
        case is NSNull: "null"
        case let number as NSNumber where isBoolean(number): "a boolean"
        case is NSNumber: "a number"
        default: "\(type(of: value))"
        }
    }
}
