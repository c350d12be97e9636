/// The header fields of a message or MIME part, in the order they were written.
///
/// Lookup by name is case-insensitive; a field written more than once keeps every value.
public struct EmailHeaders: Sendable, Hashable {
    public var fields: [EmailHeaderField]

    public init(_ fields: [EmailHeaderField] = []) {
        self.fields = fields
    }

    /// The first value of the field `name` (case-insensitive), or nil when it is absent.
    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// Every value of the field `name` (case-insensitive), in message order.
    public func values(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    public var count: Int { fields.count }
}
