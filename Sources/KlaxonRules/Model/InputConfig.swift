import KlaxonCore
import KlaxonIngest

/// One entry under `inputs:`: a named source of alerts with its format, credentials and mapping.
public struct InputConfig: Sendable {
    public var name: String
    public var type: AlertSource.Kind
    /// Bearer tokens, any one of which is let in (a list to rotate one).
    public var tokens: [String]
    public var token: String? { tokens.first }
    public var basicAuth: BasicAuth?
    /// For `type: json`: where the alert fields live in the source's payload.
    public var mapping: FieldMapping?
    /// For `type: email`: how a message becomes an alert; ``EmailMapping/default`` when the
    /// entry has no `mapping:`. Nil for the other types.
    public var emailMapping: EmailMapping?
    public var location: SourceLocation

    public struct BasicAuth: Sendable, Hashable {
        public var username: String
        public var password: String
    }
}
