import KlaxonCore

/// A person under `recipients:`.
public struct Recipient: Sendable, Hashable {
    public var name: String
    /// E.164, e.g. `+8613700000000`.
    public var phone: String
    /// IANA zone name, e.g. `Asia/Shanghai`.
    public var timezone: String?
    public var location: SourceLocation

    /// The number with its middle digits hidden, for logs and dry runs: `+86137****0000`.
    public var maskedPhone: String { PhoneNumber.mask(phone) }
}

/// A named list of people under `groups:`.
public struct RecipientGroup: Sendable, Hashable {
    public var name: String
    public var members: [String]
    public var location: SourceLocation
    /// Where each member is written, for messages about it.
    public var memberLocations: [SourceLocation] = []
}
