import Foundation

/// The JSON envelope Dyvmsapi answers with, success or failure (VENDORS.md §1.4):
/// `{"Message":"OK","RequestId":"…","Code":"OK","CallId":"116004767703^102806207703"}`.
/// Gateway errors add `HostId` and `Recommend`, which klaxon does not need.
public struct AliyunResponse: Sendable, Hashable, Decodable {
    /// `OK` on success, the error code otherwise.
    public var code: String
    public var message: String?
    public var requestID: String?
    /// The vendor's id of the call (contains `^`; opaque), present on success.
    public var callID: String?

    public init(code: String, message: String? = nil, requestID: String? = nil, callID: String? = nil) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.callID = callID
    }

    enum CodingKeys: String, CodingKey {
        case code = "Code"
        case message = "Message"
        case requestID = "RequestId"
        case callID = "CallId"
    }

    /// Decodes a response body; nil when it is not the JSON envelope (an XML answer, an
    /// HTML error page from a proxy, an empty body).
    public static func decode(_ body: some Collection<UInt8>) -> AliyunResponse? {
        try? JSONDecoder().decode(AliyunResponse.self, from: Data(body))
    }
}
