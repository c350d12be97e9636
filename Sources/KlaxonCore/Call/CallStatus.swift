/// How a call ended, in one vocabulary for every vendor.
public enum CallStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case answered
    case noAnswer = "no_answer"
    case busy
    case failed
    case keyPressed = "key_pressed"
}

/// A vendor's report of how one call ended, parsed from its callback or status answer.
public struct CallStatusReport: Sendable, Hashable {
    /// The vendor's id for the call (Aliyun `call_id`, Huawei `callSerialNo`, ...).
    public var vendorCallID: String?
    /// klaxon's call id when the vendor echoes it (Aliyun `out_id`, infin8linx `customuuid`).
    public var callID: String?
    /// The number called, as the vendor reports it.
    public var callee: String?
    public var status: CallStatus
    /// Talk time, when the vendor gives it.
    public var duration: Duration?
    /// Keys pressed, when the vendor collects them.
    public var digits: String?
    /// The vendor's own status code, for the timeline.
    public var vendorCode: String

    public init(
        vendorCallID: String?,
        callID: String? = nil,
        callee: String? = nil,
        status: CallStatus,
        duration: Duration? = nil,
        digits: String? = nil,
        vendorCode: String
    ) {
        self.vendorCallID = vendorCallID
        self.callID = callID
        self.callee = callee
        self.status = status
        self.duration = duration
        self.digits = digits
        self.vendorCode = vendorCode
    }
}
