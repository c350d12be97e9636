/// Why a duration could not be parsed, and where.
///
/// `offset` is the 0-based position of the problem in the parsed text, in Unicode scalars
/// (the unit YAML columns use), like ``MatcherError``.
public struct DurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, in plain words, without position.
    public var message: String
    /// 0-based offset, in Unicode scalars, of the problem in the parsed text.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// `offset N: message`.
    public var description: String { "offset \(offset): \(message)" }
}
