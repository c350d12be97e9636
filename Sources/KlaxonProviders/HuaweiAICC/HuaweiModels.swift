import Foundation
import KlaxonCore

/// Which `createVoiceNotification` a Huawei AICC provider calls (`api_version`).
public enum HuaweiAPIVersion: String, Sendable, Hashable, CaseIterable {
    /// `voiceContent`: voice IDs and `$text$` joined by `~`.
    case v1
    /// `playList` of voice IDs, voice file names or TTS templates with parameters.
    case v2
}

/// A JSON value that is written in the order it was built. Huawei's documents and test
/// vectors give a field order, and `JSONEncoder` does not keep one.
enum HuaweiJSON: Sendable, Hashable {
    case string(String)
    case number(Int)
    case array([HuaweiJSON])
    case object([Member])

    struct Member: Sendable, Hashable {
        var key: String
        var value: HuaweiJSON
    }

    /// Compact JSON; `/` and non-ASCII characters are written as they are.
    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .string(let value):
            Self.writeString(value, to: &out)
        case .number(let value):
            out += String(value)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// The `tokenByAkSk` answer: `AccessToken`, and the lifetime as `Expires` (seconds, a
/// string) or, in some deployments, `expiresIn`.
struct HuaweiTokenResponse: Decodable {
    var accessToken: String?
    var expires: Int?
    var expiresIn: Int?

    private enum CodingKeys: String, CodingKey {
        case accessTokenUpper = "AccessToken"
        case accessTokenLower = "accessToken"
        case expires = "Expires"
        case expiresIn
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken =
            (try? container.decodeIfPresent(String.self, forKey: .accessTokenUpper))
            ?? (try? container.decodeIfPresent(String.self, forKey: .accessTokenLower))
        expires = Self.seconds(container, .expires)
        expiresIn = Self.seconds(container, .expiresIn)
    }

    /// Seconds given as a string (documented) or a number (seen in public clients).
    private static func seconds(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> Int? {
        if let text = try? container.decodeIfPresent(String.self, forKey: key) {
            return Int(text.trimmingCharacters(in: .whitespaces))
        }
        return (try? container.decodeIfPresent(Int.self, forKey: key)) ?? nil
    }
}

/// The business answer of both versions: `{"retCode":"0","retMsg":"…","result":{"callSerialNo":"…"}}`.
struct HuaweiCallResponse: Decodable {
    var retCode: String
    var retMsg: String?
    var callSerialNo: String?

    private enum CodingKeys: String, CodingKey {
        case retCode, retMsg, result
    }

    private enum ResultKeys: String, CodingKey {
        case callSerialNo
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        retCode =
            try Self.text(container, .retCode)
            ?? { throw DecodingError.keyNotFound(CodingKeys.retCode, .init(codingPath: [], debugDescription: "no retCode")) }()
        retMsg = try? container.decodeIfPresent(String.self, forKey: .retMsg)
        if let result = try? container.nestedContainer(keyedBy: ResultKeys.self, forKey: .result) {
            callSerialNo = try? Self.text(result, .callSerialNo)
        }
    }

    /// A documented string that a deployment might send as a number; a serial number can
    /// exceed 2^53, so numbers are read as integers, never doubles.
    private static func text<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) throws -> String? {
        if let value = try? container.decodeIfPresent(String.self, forKey: key) { return value }
        if let value = try? container.decodeIfPresent(UInt64.self, forKey: key) { return String(value) }
        if let value = try? container.decodeIfPresent(Int64.self, forKey: key) { return String(value) }
        return nil
    }
}

/// Vendor answers quoted in errors: short, on one line, with any secret the request
/// carried (app secret, token) replaced by `***` and the callee's number masked, in case
/// the vendor echoes them.
enum HuaweiRedaction {
    static func excerpt(_ text: String, hiding secrets: [String], masking phone: String? = nil, limit: Int = 200) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        if let phone { result = masking(phone, in: result) }
        let line = result.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        if line.isEmpty { return "(empty body)" }
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }

    /// `text` with every run of digits that is `phone` in some form (`+86…`, `86…`, national,
    /// with a trunk `0`: the last eight digits agree) replaced by the masked E.164 number.
    static func masking(_ phone: String, in text: String) -> String {
        let masked = PhoneNumber.mask(phone)
        var output = ""
        var rest = Substring(text)
        while let start = rest.firstIndex(where: \.isASCIIDigit) {
            let end = rest[start...].firstIndex { !$0.isASCIIDigit } ?? rest.endIndex
            let run = rest[start..<end]
            var before = rest[..<start]
            if run.count >= 7, PhoneNumber.sameLine(phone, String(run)) {
                if before.last == "+" { before = before.dropLast() }
                output += before + masked
            } else {
                output += before + run
            }
            rest = rest[end...]
        }
        return output + rest
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// One `createVoiceNotification` body without its `called` number, checked against the
/// vendor's limits once per request and then written once per recipient.
///
/// Field order follows the vendor's tables and VENDORS.md §2.8:
/// V1 `voiceContent, callerPresent, called, callBackUrl, priority`;
/// V2 `called, playList, playTimes, callerPresent, callBackUrl, priority`.
/// Optional fields that are not set are left out, never sent as `null`.
struct HuaweiCallBody: Sendable, Hashable {
    var version: HuaweiAPIVersion
    /// V1 `voiceContent` (a string) or V2 `playList` (an array).
    var prompt: HuaweiJSON
    var playTimes: Int?
    var callerPresent: String?
    var callBackUrl: String?
    /// "1"–"9".
    var priority: String

    static let maxPlayList = 1...5
    static let maxTemplateParams = 1...10
    static let maxParamBytes = 32
    static let maxVoiceContent = 1000
    static let maxCallBackUrl = 256
    /// The characters Huawei allows in a callback URL (before Base64): letters, digits and
    /// `-:./_#?&`, "no other characters" (documents 002 and cec_07_2802). Not `=`, though
    /// VENDORS.md's example query string (§2.8, `?src=bridge`) has one.
    static let callbackURLCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:./_#?&")

    /// The JSON for one recipient.
    func json(called: String) -> String {
        typealias Member = HuaweiJSON.Member
        var members: [Member] = []
        switch version {
        case .v1:
            members.append(Member(key: "voiceContent", value: prompt))
            if let callerPresent { members.append(Member(key: "callerPresent", value: .string(callerPresent))) }
            members.append(Member(key: "called", value: .string(called)))
        case .v2:
            members.append(Member(key: "called", value: .string(called)))
            members.append(Member(key: "playList", value: prompt))
            if let playTimes { members.append(Member(key: "playTimes", value: .number(playTimes))) }
            if let callerPresent { members.append(Member(key: "callerPresent", value: .string(callerPresent))) }
        }
        if let callBackUrl { members.append(Member(key: "callBackUrl", value: .string(callBackUrl))) }
        members.append(Member(key: "priority", value: .string(priority)))
        return HuaweiJSON.object(members).text
    }

    /// The `voiceContent` or `playList` for `prompt`, or the permanent error that keeps the
    /// request from being sent (`klaxon.voice_missing`, `klaxon.prompt_limit`).
    static func renderPrompt(_ prompt: VoicePrompt, version: HuaweiAPIVersion) -> Result<HuaweiJSON, VendorError> {
        switch (version, prompt) {
        case (.v1, .huaweiV1(let content)):
            return voiceContent(content)
        case (.v1, .huaweiAICC(let entries)):
            // A list of recorded voices joins into voiceContent as the VoicePrompt contract says.
            let ids = entries.compactMap { entry -> String? in
                if case .voiceID(let id) = entry { return id }
                return nil
            }
            guard !ids.isEmpty, ids.count == entries.count else {
                return .failure(missing("Huawei V1 takes voiceContent; this play list has voice file names or TTS templates, which only V2 plays"))
            }
            return voiceContent(ids.joined(separator: "~"))
        case (.v2, .huaweiAICC(let entries)):
            return playList(entries)
        case (.v2, .huaweiV1):
            return .failure(missing("the voice is rendered for Huawei V1 (voiceContent) but the provider uses V2 (playList)"))
        case (_, let other):
            return .failure(missing("the voice has no Huawei AICC resource (got \(kind(of: other)))"))
        }
    }

    private static func voiceContent(_ content: String) -> Result<HuaweiJSON, VendorError> {
        guard !content.isEmpty else { return .failure(missing("voiceContent is empty")) }
        // UTF-16 units, as Huawei's Java counts them.
        guard content.utf16.count <= maxVoiceContent else {
            return .failure(limit("voiceContent has \(content.utf16.count) characters; Huawei V1 takes at most \(maxVoiceContent)"))
        }
        return .success(.string(content))
    }

    private static func playList(_ entries: [HuaweiPlayEntry]) -> Result<HuaweiJSON, VendorError> {
        guard maxPlayList.contains(entries.count) else {
            return .failure(limit("playList has \(entries.count) entries; Huawei V2 takes 1–5"))
        }
        var items: [HuaweiJSON] = []
        for (index, entry) in entries.enumerated() {
            let (key, id, params): (String, String, [String])
            switch entry {
            case .voiceID(let value): (key, id, params) = ("voiceId", value, [])
            case .voiceFileName(let value): (key, id, params) = ("voiceFileName", value, [])
            case .template(let value, let values): (key, id, params) = ("templateId", value, values)
            }
            guard !id.isEmpty else { return .failure(missing("playList[\(index)].\(key) is empty")) }
            var members = [HuaweiJSON.Member(key: key, value: .string(id))]
            if !params.isEmpty {
                guard maxTemplateParams.contains(params.count) else {
                    return .failure(limit("playList[\(index)].templateParams has \(params.count) entries; Huawei V2 takes 1–10"))
                }
                for (number, param) in params.enumerated() {
                    if param.utf8.count > maxParamBytes {
                        return .failure(
                            limit("playList[\(index)].templateParams[\(number)] is \(param.utf8.count) bytes; Huawei V2 takes at most 32")
                        )
                    }
                    if param.contains(where: { "${}".contains($0) }) {
                        return .failure(limit("playList[\(index)].templateParams[\(number)] contains $, { or }, which Huawei V2 refuses"))
                    }
                }
                members.append(HuaweiJSON.Member(key: "templateParams", value: .array(params.map { .string($0) })))
            }
            items.append(.object(members))
        }
        return .success(.array(items))
    }

    /// The `callBackUrl` value for `url`, or why it cannot be sent: only http(s) URLs made of
    /// ``callbackURLCharacters``, at most 256 characters as sent.
    static func callBackUrl(_ url: String, base64: Bool) -> Result<String, VendorError> {
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            return .failure(VendorError(code: "klaxon.callback_url", message: "the callback URL is not http(s)"))
        }
        if let bad = url.first(where: { !callbackURLCharacters.contains($0) }) {
            return .failure(
                VendorError(
                    code: "klaxon.callback_url",
                    message: "the callback URL contains \"\(bad)\"; Huawei allows only letters, digits and -:./_#?&"
                )
            )
        }
        let value = base64 ? Data(url.utf8).base64EncodedString() : url
        guard value.count <= maxCallBackUrl else {
            return .failure(
                VendorError(code: "klaxon.callback_url", message: "callBackUrl would be \(value.count) characters; Huawei takes at most 256")
            )
        }
        return .success(value)
    }

    private static func missing(_ message: String) -> VendorError { VendorError(code: "klaxon.voice_missing", message: message) }
    private static func limit(_ message: String) -> VendorError { VendorError(code: "klaxon.prompt_limit", message: message) }

    private static func kind(of prompt: VoicePrompt) -> String {
        switch prompt {
        case .aliyunVoice: "an Aliyun voice"
        case .aliyunTTS: "an Aliyun TTS template"
        case .huaweiAICC: "a Huawei play list"
        case .huaweiV1: "a Huawei V1 voiceContent"
        case .bitel: "a Bitel voice"
        case .infin8linx: "an infin8linx voice file"
        case .text: "plain text"
        }
    }
}
