/// Why a matcher could not be parsed or built, and where.
///
/// `offset` counts Unicode scalars (code points) from the start of the text that was
/// parsed, 0-based: the same unit YAML parsers use for columns, so a caller that parsed a
/// YAML scalar can add it to the scalar's column to point at the exact spot. Errors thrown
/// by ``LabelMatcher/init(name:type:value:)`` itself have offset 0 for a bad name and
/// offset 0 of the value for a bad regex; ``MatcherParser`` rebases them onto its input.
public struct MatcherError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, in plain words, without position (e.g. `unterminated quoted value`).
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
