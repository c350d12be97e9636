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
/// Malformed input throws ``ParseError`` naming what is wrong and where (`$[2].status_code`);
/// nothing is returned for a batch with a malformed record, so Aliyun pushes it again.
/// Answer every push that parsed with HTTP 200 and ``replyBody``.
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

    /// Parses one push body; `outIDPrefix` is the provider's `out_id_prefix`.
    public static func parse(_ body: some Collection<UInt8>, outIDPrefix: String = "") throws(ParseError) -> [CallStatusReport] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw ParseError(path: "$", message: "the body is not JSON (\(body.count) bytes)")
        }
        guard let records = root as? [Any] else {
            throw ParseError(path: "$", message: "expected a JSON array of call records, got \(kind(of: root))")
        }
        var reports: [CallStatusReport] = []
        for (index, element) in records.enumerated() {
            let path = "$[\(index)]"
            guard let record = element as? [String: Any] else {
                throw ParseError(path: path, message: "expected a call record object, got \(kind(of: element))")
            }
            if let report = try parseRecord(record, path: path, outIDPrefix: outIDPrefix) { reports.append(report) }
        }
        return reports
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

    private static func parseRecord(_ record: [String: Any], path: String, outIDPrefix: String) throws(ParseError) -> CallStatusReport? {
        guard let statusCode = try scalar(record, "status_code", path: path), !statusCode.isEmpty else {
            throw ParseError(path: "\(path).status_code", message: "missing; every VoiceReport carries one")
        }
        if intermediateCodes.contains(statusCode) { return nil }
        guard let vendorCallID = try scalar(record, "call_id", path: path), !vendorCallID.isEmpty else {
            throw ParseError(path: "\(path).call_id", message: "missing; every VoiceReport carries one")
        }

        var duration: Duration?
        if let text = try scalar(record, "duration", path: path), !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else {
                throw ParseError(path: "\(path).duration", message: "expected whole seconds, got \"\(text.prefix(40))\"")
            }
            duration = .seconds(seconds)
        }

        var callID: String?
        if let outID = try scalar(record, "out_id", path: path), !outID.isEmpty, outID.hasPrefix(outIDPrefix) {
            let stripped = String(outID.dropFirst(outIDPrefix.count))
            callID = stripped.isEmpty ? nil : stripped
        }

        var status = status(forCode: statusCode)
        var digits: String?
        if let dtmf = try scalar(record, "dtmf", path: path), !dtmf.isEmpty {
            guard dtmf.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "*" || $0 == "#") }) else {
                throw ParseError(path: "\(path).dtmf", message: "expected key digits (0-9, *, #), got \"\(dtmf.prefix(40))\"")
            }
            status = .keyPressed
            digits = dtmf
        }

        return CallStatusReport(
            vendorCallID: vendorCallID,
            callID: callID,
            callee: try scalar(record, "callee", path: path).flatMap { $0.isEmpty ? nil : $0 },
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
