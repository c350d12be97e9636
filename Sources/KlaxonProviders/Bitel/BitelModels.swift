import Foundation
import KlaxonCore

// Bitel's wire shapes (VENDORS.md §3). Small, private to the Bitel client and its parser,
// kept together because they only make sense next to each other.

/// The body of `POST /api/v2/voice/single`, written by hand so that the keys come out in
/// the documented order (`phoneNumber`, `voiceId`, `retryCount`, `serverId`) and the
/// bytes are the same on every run; `JSONEncoder` orders keys at random on Linux.
struct BitelSingleCallBody: Sendable, Hashable {
    /// Iranian national format, `09` and 9 digits.
    var phoneNumber: String
    var voiceID: String
    var retryCount: Int
    /// Left out of the body when nil.
    var serverID: String?

    var json: String {
        var text = #"{"phoneNumber":"# + JSONStringLiteral.quoted(phoneNumber)
        text += #","voiceId":"# + JSONStringLiteral.quoted(voiceID)
        text += #","retryCount":"# + String(retryCount)
        if let serverID { text += #","serverId":"# + JSONStringLiteral.quoted(serverID) }
        return text + "}"
    }
}

/// Bitel's answer envelope: `{"result": T | null, "error": null | "<Code>"}` (§3.3).
struct BitelEnvelope<Result: Decodable>: Decodable {
    var result: Result?
    var error: String?
}

/// A call as Bitel describes it, in the single-call answer and the call detail (§3.2, §3.4).
/// Numbers are read leniently (`12`, `12.0` and `"12"` are all 12).
struct BitelCallRecord: Decodable, Sendable, Hashable {
    var id: String?
    var phoneNumber: String?
    var status: String?
    var statusCode: Int?
    var billSec: Int?
    var requestDate: Int?
    var executionDate: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: LenientCodingKey.self)
        id = try container.lenientString("id")
        phoneNumber = try container.lenientString("phoneNumber")
        status = try container.lenientString("status")
        statusCode = try container.lenientInt("statusCode")
        billSec = try container.lenientInt("billSec")
        requestDate = try container.lenientInt("requestDate")
        executionDate = try container.lenientInt("executionDate")
    }
}

/// The single-call answer's `result`, of which only the id is read: nothing else in it
/// can turn an accepted call into a failure, and its retry into a second call.
struct BitelCallID: Decodable, Sendable, Hashable {
    var id: String?

    init(from decoder: any Decoder) throws {
        id = try decoder.container(keyedBy: LenientCodingKey.self).lenientString("id")
    }
}

/// The call-detail answer, bare (as the Call Status page documents it) or wrapped in the
/// envelope (as the API Structure page says every answer is): both are accepted (§3.4).
struct BitelCallDetail: Decodable, Sendable {
    var record: BitelCallRecord?
    var error: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: LenientCodingKey.self)
        if container.contains(LenientCodingKey("result")) || container.contains(LenientCodingKey("error")) {
            let envelope = try BitelEnvelope<BitelCallRecord>(from: decoder)
            record = envelope.result
            error = envelope.error
        } else {
            record = try BitelCallRecord(from: decoder)
            error = nil
        }
    }
}

/// The project webhook Bitel posts when a request concludes (§3.5).
struct BitelWebhookEvent: Decodable, Sendable, Hashable {
    var requestID: String?
    var cause: String?
    var billSec: Int?
    var number: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: LenientCodingKey.self)
        requestID = try container.lenientString("requestId")
        cause = try container.lenientString("cause")
        billSec = try container.lenientInt("billSec")
        number = try container.lenientString("number")
    }
}

/// Any key, for decoding objects field by field.
struct LenientCodingKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// Where decoding failed (`bad billSec`, `not a JSON object`, `not JSON`), without
    /// any value from the body, which may hold numbers or secrets.
    static func summary(of error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "not JSON"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not a JSON object" : "bad \(path)"
        case nil:
            return "not JSON"
        @unknown default:
            return "not JSON"
        }
    }
}

extension KeyedDecodingContainer where Key == LenientCodingKey {
    /// A string field; numbers are turned into their text, `null` and absence into nil.
    /// Anything else (an object, an array, a boolean) is a type mismatch.
    func lenientString(_ name: String) throws -> String? {
        let key = LenientCodingKey(name)
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let text = try? decode(String.self, forKey: key) { return text }
        if let number = try? decode(Int64.self, forKey: key) { return String(number) }
        if let number = try? decode(Double.self, forKey: key), number.isFinite {
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        }
        throw DecodingError.typeMismatch(
            String.self,
            .init(codingPath: codingPath + [key], debugDescription: "\(name) is neither text nor a number")
        )
    }

    /// An integer field written as a number (`12`, `12.0`) or as digits in a string
    /// (`"12"`); `null`, absence and `""` are nil. A fraction or other text is a type mismatch.
    func lenientInt(_ name: String) throws -> Int? {
        let key = LenientCodingKey(name)
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let number = try? decode(Int.self, forKey: key) { return number }
        if let number = try? decode(Double.self, forKey: key), number == number.rounded(), abs(number) < 1e15 { return Int(number) }
        if let text = try? decode(String.self, forKey: key) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return nil }
            if let number = Int(trimmed) { return number }
        }
        throw DecodingError.typeMismatch(
            Int.self,
            .init(codingPath: codingPath + [key], debugDescription: "\(name) is not a whole number")
        )
    }
}
