/// Bounds that keep parsing a hostile message fast and small.
///
/// Every limit is checked as parsing goes; crossing one is an ``IngestError`` (code
/// ``IngestError/Code/messageTooLarge`` for ``maxBytes``, ``IngestError/Code/malformedMessage``
/// for the others), never a partial result.
public struct EmailLimits: Sendable, Hashable {
    /// The largest message accepted, in bytes, checked before anything is parsed. Default 1 MiB,
    /// the same as the server's body limit.
    public var maxBytes: Int
    /// How deep multiparts may nest; the message itself is depth 0. Default 16: real mail
    /// rarely goes past 4 (mixed → alternative → related → part).
    public var maxDepth: Int
    /// How many MIME parts (of all levels) a message may have. Default 1000.
    public var maxParts: Int
    /// How many header fields one header section (the message's or a part's) may have. Default 2000.
    public var maxHeaderFields: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 16, maxParts: Int = 1000, maxHeaderFields: Int = 2000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderFields = maxHeaderFields
    }

    /// 1 MiB, depth 16, 1000 parts, 2000 header fields.
    public static let `default` = EmailLimits()
}
