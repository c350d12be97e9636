import Foundation
import KlaxonCore

/// Decides what a Dyvmsapi answer means for klaxon (VENDORS.md §1.5): `Code == "OK"` is the
/// only success, whatever the HTTP status; every documented code has a fixed class; an
/// unknown code is retryable when the HTTP status says the vendor failed (5xx, 429) and
/// permanent otherwise.
///
/// Decisions beyond the vendor's table:
/// - `isv.BUSINESS_LIMIT_CONTROL` (1 call/min, 5/h, 20/24 h per called number) is retryable
///   with `retryAfter` 60 s and `retryUsesQuota`: failed calls count toward the limits too, so
///   the dispatcher fails over to the next provider at once; with no next provider it waits
///   the minute and tries again. So are the failures after which a call to the number may
///   have been attempted (`isv.VOICE_CALL_FAIL`, the `isp.*` server errors,
///   `InternalError`): a retry within the minute would be refused as throttled, or, within
///   a second, blocked, and use up one of the number's five calls an hour.
/// - `SignatureNonceUsed` is retryable: every attempt carries a fresh nonce.
/// - `InvalidTimeStamp.Expired` is permanent: klaxon stamps each request just before sending
///   it, so this means the host clock is more than 15 minutes off, which no retry within the
///   backoff window fixes; failing over pages through another vendor now.
public enum AliyunErrorClassifier {
    /// How long Aliyun refuses the same number after `isv.BUSINESS_LIMIT_CONTROL`.
    public static let throttleRetryAfter: Duration = .seconds(60)

    /// Retryable codes after which the number is not tried on Aliyun again within
    /// ``throttleRetryAfter``: the throttle itself, and failures after which a call to the
    /// number may have been attempted, which count toward its limits (VENDORS.md §1.2).
    public static let numberSpacedCodes: Set<String> = [
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.VOICE_CALL_FAIL",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "InternalError",
    ]

    /// Codes worth trying again: throttling and the vendor's own failures.
    public static let retryableCodes: Set<String> = [
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.VOICE_CALL_FAIL",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "SignatureNonceUsed",
    ]

    /// Codes no retry on Aliyun fixes: account, number, display number, voice file,
    /// parameters, permissions, credentials, clock.
    public static let permanentCodes: Set<String> = [
        "isv.OUT_OF_SERVICE",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.AMOUNT_NOT_ENOUG",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.DISPLAY_NUMBER_ILLEGAL",
        "isv.VOICE_FILE_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "InvalidParameters",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.COMPLAINT_REJECT",
        "isv.BILLID_NOT_EXIST",
        "isp.RAM_PERMISSION_DENY",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "MissingParameter",
        "InvalidTimeStamp.Expired",
        "InvalidTimeStamp.Format",
    ]

    /// The result for a Dyvmsapi answer that is not `OK`. `message` is the vendor's, already
    /// free of numbers and secrets; a signature mismatch's echo of the server's string to
    /// sign is cut off here (it lists every parameter, the called number included).
    public static func classify(code: String, message: String, httpStatus: Int?) -> CallResult {
        var text = message
        if let echo = text.range(of: "server string to sign is") {
            text = String(text[..<echo.lowerBound]).trimmingTrailing()
        }
        if let hint = hints[code] { text += " (klaxon: \(hint))" }
        if retryableCodes.contains(code) {
            let limited = numberSpacedCodes.contains(code)
            return .retryable(
                VendorError(
                    code: code,
                    message: text,
                    httpStatus: httpStatus,
                    retryAfter: limited ? throttleRetryAfter : nil,
                    retryUsesQuota: limited
                )
            )
        }
        let error = VendorError(code: code, message: text, httpStatus: httpStatus)
        if permanentCodes.contains(code) { return .permanent(error) }
        if code.hasPrefix("Throttling") { return .retryable(error) }
        if let httpStatus, httpStatus >= 500 || httpStatus == 429 { return .retryable(error) }
        return .permanent(error)
    }

    /// What to check, for the codes whose vendor message does not say.
    private static let hints: [String: String] = [
        "SignatureDoesNotMatch": "check access_key_secret",
        "InvalidAccessKeyId.NotFound": "check access_key_id",
        "InvalidTimeStamp.Expired": "this host's clock is more than 15 minutes off; check NTP",
        "isv.BUSINESS_LIMIT_CONTROL": "Aliyun rings one number at most once a minute, 5 times an hour, 20 times a day",
        "isv.MOBILE_NUMBER_ILLEGAL": "Aliyun calls mainland China numbers only",
        "isv.DISPLAY_NUMBER_ILLEGAL": "check called_show_number",
        "isp.RAM_PERMISSION_DENY": "grant the RAM user dyvms:SingleCallByVoice / SingleCallByTts",
    ]
}

extension String {
    fileprivate func trimmingTrailing() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "," || last == "." || last == ":" { text = text.dropLast() }
        return String(text) + "."
    }
}
