import KlaxonCore

/// One call the simulator was asked to place, as it records it (one JSON line each).
public struct SimulatedCall: Sendable, Hashable, Codable {
    public var time: String
    public var provider: String
    public var callID: String
    public var vendorCallID: String
    public var recipient: String
    /// Masked, as in logs.
    public var phone: String
    public var prompt: String
    public var text: String?
    public var params: [String]
    public var priority: Int
    /// How the simulated call ends.
    public var outcome: CallStatus

    enum CodingKeys: String, CodingKey {
        case time, provider, recipient, phone, prompt, text, params, priority, outcome
        case callID = "call_id"
        case vendorCallID = "vendor_call_id"
    }
}
