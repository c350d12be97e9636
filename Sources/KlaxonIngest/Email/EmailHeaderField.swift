/// One header field of a message or MIME part, unfolded.
public struct EmailHeaderField: Sendable, Hashable {
    /// The field name as written (`Subject`, `content-type`); compare case-insensitively.
    public var name: String
    /// The value after the colon, unfolded (line breaks of folded lines removed, the
    /// whitespace that followed them kept), leading and trailing whitespace trimmed.
    /// Encoded-words (RFC 2047) are **not** decoded here; ``EmailMessage`` decodes the
    /// fields it exposes. Bytes that are not UTF-8 are read in the message's charset.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
