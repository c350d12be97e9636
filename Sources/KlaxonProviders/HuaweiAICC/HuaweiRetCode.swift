import Foundation
import KlaxonCore

/// Huawei AICC `createVoiceNotification` result codes (`retCode`, a string) and how klaxon
/// classifies each one. V1 and V2 share the codes they have in common (VENDORS.md §2.4, §2.5).
///
/// | retCode | version | meaning | klaxon | why |
/// | --- | --- | --- | --- | --- |
/// | `0` | both | created; `result.callSerialNo` is the call's id | accepted | |
/// | `1` | both | a task is in progress, try again later | retryable | the vendor itself says "try again later" |
/// | `2` | V1 | `callData` longer than 1024 characters | permanent | klaxon never sends `callData`; the same request fails again |
/// | `3` | both | creation failed, no call serial number generated | retryable | a platform-side failure; no SN means no call exists, so a retry cannot ring twice |
/// | `4` | both | softphone format does not match the rule | permanent | tenant configuration |
/// | `5` | both | caller/called missing or malformed | permanent | the number (or a wrapped body) will not change on retry |
/// | `6` | both | the VDN is not enabled | permanent | tenant configuration |
/// | `7` | both | `callerPresent` failed verification | permanent | `caller_present` option is wrong for the tenant |
/// | `8` | V1 | `voiceContent` empty, too long or a voice ID does not exist | permanent | the voice definition is wrong |
/// | `9` | both | `callBackUrl` invalid (format, or host not on the callback trustlist) | permanent | configuration; the client calls again without it |
/// | `10` | V2 | `playTimes` not 1–5 | permanent | configuration |
/// | `11` | V2 | `playList` empty or longer than 5 | permanent | voice definition |
/// | `12` | V2 | `voiceId` and `templateId` both empty | permanent | voice definition |
/// | `13` | V2 | a template variable longer than 32 bytes | permanent | rendered params |
/// | `14` | V2 | a template variable contains `$`, `{` or `}` | permanent | rendered params |
/// | `15` | V2 | `templateParams` empty or longer than 10 | permanent | voice definition |
/// | `16` | both | trial tenant and the called number is not on its trustlist | permanent | tenant state; another provider may reach the number |
/// | `17` | V2 | voice or TTS file does not exist | permanent | voice definition |
/// | `18` | V2 | file is not for the voice-notification scenario | permanent | voice definition |
/// | `19` | V2 | file not submitted for review | permanent | needs an operator |
/// | `20` | V2 | file submitted, not yet reviewed | permanent | review takes longer than any retry window |
/// | `21` | V2 | file review rejected | permanent | needs an operator |
/// | `22` | V2 | `templateId` is not a text (TTS) file | permanent | voice definition |
/// | `23` | V2 | `voiceId` is not an audio file | permanent | voice definition |
/// | `24` | V2 | recording or TTS file data problem (documentation cut off) | permanent | voice definition |
/// | `36` | V1 | `priority` in an incorrect format | permanent | the request will not change on retry |
/// | other | | undocumented | permanent | an unknown refusal is safer failed over than hammered |
///
/// The ``VendorError`` carries the vendor's `retCode` as its `code` and the documented meaning
/// followed by the vendor's `retMsg` as its `message`.
public enum HuaweiRetCode {
    /// `callBackUrl` refused: the call was not created, and is created without one.
    public static let callbackURLRefused = "9"

    /// One documented code: whether a retry can help, and what it means.
    public struct Entry: Sendable, Hashable {
        public var retryable: Bool
        public var meaning: String
    }

    /// Every documented non-zero code of V1 and V2.
    public static let table: [String: Entry] = [
        "1": Entry(retryable: true, meaning: "a task is in progress, try again later"),
        "2": Entry(retryable: false, meaning: "callData is longer than 1024 characters"),
        "3": Entry(retryable: true, meaning: "creation failed, no call serial number was generated"),
        "4": Entry(retryable: false, meaning: "the softphone format does not match the rule"),
        "5": Entry(retryable: false, meaning: "the called number is missing or malformed"),
        "6": Entry(retryable: false, meaning: "the VDN is not enabled"),
        "7": Entry(retryable: false, meaning: "callerPresent failed verification (check the caller_present option)"),
        "8": Entry(retryable: false, meaning: "voiceContent is empty, too long, or names a voice that does not exist"),
        "9": Entry(retryable: false, meaning: "callBackUrl is invalid or its host is not on the tenant's callback trustlist"),
        "10": Entry(retryable: false, meaning: "playTimes is not 1–5 (check the play_times option)"),
        "11": Entry(retryable: false, meaning: "playList is empty or has more than 5 entries"),
        "12": Entry(retryable: false, meaning: "voiceId and templateId are both empty"),
        "13": Entry(retryable: false, meaning: "a template variable is longer than 32 bytes"),
        "14": Entry(retryable: false, meaning: "a template variable contains $, { or }"),
        "15": Entry(retryable: false, meaning: "templateParams is empty or has more than 10 entries"),
        "16": Entry(retryable: false, meaning: "the tenant is on trial and the called number is not on its trustlist"),
        "17": Entry(retryable: false, meaning: "the voice or TTS file does not exist"),
        "18": Entry(retryable: false, meaning: "the file is not for the voice-notification scenario"),
        "19": Entry(retryable: false, meaning: "the file has not been submitted for review"),
        "20": Entry(retryable: false, meaning: "the file is submitted but not yet reviewed"),
        "21": Entry(retryable: false, meaning: "the file's review was rejected"),
        "22": Entry(retryable: false, meaning: "templateId does not name a text (TTS) file"),
        "23": Entry(retryable: false, meaning: "voiceId does not name an audio file"),
        "24": Entry(retryable: false, meaning: "the recording or TTS file data is unusable"),
        "36": Entry(retryable: false, meaning: "priority is in an incorrect format"),
    ]

    /// The result for a business answer: `0` is accepted with `callSerialNo` (empty when the
    /// vendor sent none); every other code is classified by ``table``, unknown codes as permanent.
    public static func classify(retCode: String, retMsg: String?, callSerialNo: String?, httpStatus: Int? = nil) -> CallResult {
        let code = retCode.trimmingCharacters(in: .whitespaces)
        if code == "0" {
            // Created: the phone rings whether or not an id came back, so never retry it.
            return .accepted(vendorCallID: callSerialNo ?? "")
        }
        let entry = table[code]
        let meaning = entry?.meaning ?? "undocumented result code"
        let detail = retMsg.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        let error = VendorError(code: code, message: detail.map { "\(meaning): \($0)" } ?? meaning, httpStatus: httpStatus)
        return entry?.retryable == true ? .retryable(error) : .permanent(error)
    }
}
