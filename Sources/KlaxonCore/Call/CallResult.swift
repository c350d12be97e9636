/// How a vendor answered a request to call one recipient.
public enum CallResult: Sendable, Hashable {
    /// The vendor took the call; its id for it, kept to match status reports.
    case accepted(vendorCallID: String)
    /// Worth trying again later (timeouts, 5xx, throttling), here or on the next provider.
    case retryable(VendorError)
    /// Trying this provider again will not help (bad number, template, credentials);
    /// the next provider of the route may still succeed.
    case permanent(VendorError)

    public var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }
}

/// A vendor's own code and message for a refused call, or klaxon's when the vendor was
/// never reached (`code` then starts with `klaxon.`). Never carries secrets.
public struct VendorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    /// The HTTP status of the vendor's answer, when there was one.
    public var httpStatus: Int?
    /// The earliest the vendor will take the same call again (Aliyun allows one call a
    /// minute per number). Past the retry cap the dispatcher fails over instead of waiting,
    /// unless no other provider follows.
    public var retryAfter: Duration?
    /// The refusal is a per-number quota that failed attempts use up too (Aliyun: 5 calls
    /// an hour, 20 a day), so retrying makes it worse: fail over at once when another
    /// provider follows.
    public var retryUsesQuota: Bool

    public init(code: String, message: String, httpStatus: Int? = nil, retryAfter: Duration? = nil, retryUsesQuota: Bool = false) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.retryUsesQuota = retryUsesQuota
    }

    public var description: String {
        (httpStatus.map { "HTTP \($0) " } ?? "") + "\(code): \(message)"
    }
}

/// One recipient's result from one provider.
public struct RecipientResult: Sendable, Hashable {
    public var recipient: CallRecipient
    public var result: CallResult

    public init(recipient: CallRecipient, result: CallResult) {
        self.recipient = recipient
        self.result = result
    }
}
