import Foundation
import KlaxonCore

/// Reads infin8linx's call-record callback (VENDORS.md §4.3): one JSON object per call,
/// posted to the URL configured on the infin8linx account. An array of such objects is
/// accepted too. Numbers may arrive as JSON numbers or as strings (the newer revision
/// sends `companycode` and `userkey` as strings); both are read.
///
/// Each record becomes one ``CallStatusReport``:
/// - ``CallStatusReport/callID``: `customuuid` (klaxon's call id, sent with the call).
/// - ``CallStatusReport/callee``: `destnumber`, as infin8linx reports it.
/// - ``CallStatusReport/vendorCallID``: `"<customuuid>:<destnumber>"`, the id
///   ``Infin8linxClient`` gave the accepted call (infin8linx has no per-number id in its
///   answer); the vendor's own `uuid` when `customuuid` is missing.
/// - ``CallStatusReport/status``: answered when `answertime` is set or `billsec` > 0;
///   then keyPressed when `userkey` holds the keys pressed: DTMF characters other than a
///   lone `0` or `1`, which are also how the field reads when no key was asked for and
///   when one was (the vendor's own sample, an unanswered call, carries `1`): taking that
///   echo for a press would stop a `key_pressed` escalation nobody heard. Not answered:
///   failed when `duration` is 0 (the call never rang), noAnswer otherwise. infin8linx
///   publishes no table for `hangupcause`, so busy cannot be told apart and is reported as
///   noAnswer; the raw `hangupcause`/`hangupdirection` are kept in
///   ``CallStatusReport/vendorCode``.
/// - ``CallStatusReport/duration``: `billsec`, the talk time (`duration` includes ringing).
public enum Infin8linxCallbackParser {
    /// A body that is not an infin8linx call record. Carries no part of the body.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { "unreadable infin8linx call record: \(message)" }
    }

    /// The reports in one callback body, in the body's order, strictly: any unreadable
    /// record throws.
    /// - Throws: ``Failure`` when the body is not JSON, not an object or array of objects,
    ///   a field has the wrong type, or a record lacks `destnumber` or both `customuuid`
    ///   and `uuid`.
    public static func parse(_ body: some Collection<UInt8>) throws(Failure) -> [CallStatusReport] {
        let batch = try parseBatch(body)
        if let problem = batch.problems.first { throw problem }
        return batch.reports
    }

    /// The records klaxon can read, and what is wrong with the others (`record N: ...`).
    public struct Batch: Sendable {
        public var reports: [CallStatusReport] = []
        public var problems: [Failure] = []
    }

    /// Like ``parse(_:)``, but an array's readable records are kept when others are not: an
    /// "answered" record must not be lost to a broken one beside it.
    /// - Throws: ``Failure`` when the body is not JSON or not an object or array of objects,
    ///   or its one object is unreadable.
    public static func parseBatch(_ body: some Collection<UInt8>) throws(Failure) -> Batch {
        let data = Data(body)
        guard data.first(where: { !Self.isWhitespace($0) }) == UInt8(ascii: "[") else {
            let record: Record
            do {
                record = try JSONDecoder().decode(Record.self, from: data)
            } catch {
                throw Failure(message: LenientCodingKey.summary(of: error))
            }
            return Batch(reports: [try report(record)])
        }
        let elements: [Element]
        do {
            elements = try JSONDecoder().decode([Element].self, from: data)
        } catch {
            throw Failure(message: LenientCodingKey.summary(of: error))
        }
        var batch = Batch()
        for (index, element) in elements.enumerated() {
            do throws(Failure) {
                switch element {
                case .record(let record): batch.reports.append(try report(record))
                case .unreadable(let failure): throw failure
                }
            } catch {
                batch.problems.append(Failure(message: "record \(index): \(error.message)"))
            }
        }
        return batch
    }

    /// One element of an array body, decoded on its own so that one bad record does not
    /// fail the others.
    private enum Element: Decodable {
        case record(Record)
        case unreadable(Failure)

        init(from decoder: any Decoder) throws {
            do {
                self = .record(try Record(from: decoder))
            } catch {
                self = .unreadable(Failure(message: LenientCodingKey.summary(of: error)))
            }
        }
    }

    private static func report(_ record: Record) throws(Failure) -> CallStatusReport {
        guard let callee = record.destnumber, !callee.isEmpty else { throw Failure(message: "no destnumber") }
        let callID = record.customuuid.flatMap { $0.isEmpty ? nil : $0 }
        let vendorCallID = callID.map { "\($0):\(callee)" } ?? record.uuid.flatMap { $0.isEmpty ? nil : $0 }
        guard let vendorCallID else { throw Failure(message: "neither customuuid nor uuid") }

        let answered = isSet(record.answertime) || (record.billsec ?? 0) > 0
        let status: CallStatus
        var digits: String?
        if answered {
            if let keys = record.userkey, isKeyPress(keys) {
                status = .keyPressed
                digits = keys
            } else {
                status = .answered
            }
        } else {
            status = record.duration == 0 ? .failed : .noAnswer
        }
        var code: [String] = []
        if let cause = record.hangupcause, !cause.isEmpty { code.append("hangupcause=\(cause)") }
        if let direction = record.hangupdirection, !direction.isEmpty { code.append("hangupdirection=\(direction)") }
        return CallStatusReport(
            vendorCallID: vendorCallID,
            callID: callID,
            callee: callee,
            status: status,
            duration: record.billsec.map { .seconds(max(0, $0)) },
            digits: digits,
            vendorCode: code.isEmpty ? (answered ? "answered" : "not answered") : code.joined(separator: " ")
        )
    }

    /// A time that is really there: not empty and not a zero date such as `0000-00-00 00:00:00`.
    private static func isSet(_ time: String?) -> Bool {
        guard let time else { return false }
        return time.contains { $0.isNumber && $0 != "0" }
    }

    /// Keys pressed: DTMF characters only, and not the lone `0` that also means "none asked".
    private static func isKeyPress(_ keys: String) -> Bool {
        !keys.isEmpty && keys != "0" && keys != "1" && keys.allSatisfy { ("0"..."9").contains($0) || $0 == "*" || $0 == "#" }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The fields klaxon reads; the others (`callmethod`, `companycode`, `recordfilename`...) are ignored.
    private struct Record: Decodable {
        var customuuid: String?
        var destnumber: String?
        var uuid: String?
        var answertime: String?
        var billsec: Int?
        var duration: Int?
        var userkey: String?
        var hangupcause: String?
        var hangupdirection: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: LenientCodingKey.self)
            customuuid = try container.lenientString("customuuid")
            destnumber = try container.lenientString("destnumber")
            uuid = try container.lenientString("uuid")
            answertime = try container.lenientString("answertime")
            billsec = try container.lenientInt("billsec")
            duration = try container.lenientInt("duration")
            userkey = try container.lenientString("userkey")
            hangupcause = try container.lenientString("hangupcause")
            hangupdirection = try container.lenientString("hangupdirection")
        }
    }
}
