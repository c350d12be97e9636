/// A person a call goes to: their name in the rules and their number in E.164.
public struct CallRecipient: Sendable, Hashable {
    public var name: String
    /// E.164, e.g. `+8613700000000`.
    public var phone: String

    public init(name: String, phone: String) {
        self.name = name
        self.phone = phone
    }

    /// The number with its middle digits hidden, for logs and output: `+86137****0000`.
    public var maskedPhone: String { PhoneNumber.mask(phone) }
}
