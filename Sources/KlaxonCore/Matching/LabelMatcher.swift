import Foundation

/// One condition on one label, with Alertmanager's semantics.
///
/// A label the alert does not have counts as the empty string, so `foo=""` matches an alert
/// without `foo` and `foo!=""` requires `foo` to be present and non-empty. Regular
/// expressions are anchored at both ends, as if written `^(?:value)$`, and compiled once when
/// the matcher is made.
///
/// Equality and hashing use `name`, `type` and `value` only.
public struct LabelMatcher: Sendable, Hashable, CustomStringConvertible {
    /// The four operators of Alertmanager's matcher syntax.
    public enum MatchType: String, Sendable, Hashable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case regexMatch = "=~"
        case regexNoMatch = "!~"

        /// True for `=~` and `!~`.
        public var isRegex: Bool { self == .regexMatch || self == .regexNoMatch }
    }

    public let name: String
    public let type: MatchType
    /// The literal value for `=`/`!=`, the (unanchored) pattern for `=~`/`!~`.
    public let value: String
    private let pattern: CompiledPattern?

    /// Makes a matcher whose name must be a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    ///
    /// - Throws: ``MatcherError`` with offset 0 when the name is invalid or, for `=~` and `!~`,
    ///   when `value` is not a valid regular expression.
    public init(name: String, type: MatchType, value: String) throws(MatcherError) {
        guard Self.isValidLabelName(name) else {
            throw MatcherError(message: "invalid label name \(Self.quote(name))", offset: 0)
        }
        try self.init(anyName: name, type: type, value: value)
    }

    /// For names that were quoted in matcher syntax: any non-empty UTF-8 name is allowed,
    /// as in Alertmanager 0.27+; the caller has checked that it is non-empty.
    init(anyName name: String, type: MatchType, value: String) throws(MatcherError) {
        self.name = name
        self.type = type
        self.value = value
        self.pattern = type.isRegex ? try CompiledPattern(value) : nil
    }

    /// True for `=`, the only type a router can look up in an index by value.
    public var isEquality: Bool { type == .equal }

    /// Whether the alert's labels satisfy this matcher (an absent label counts as "").
    ///
    /// Equality matchers do not allocate.
    public func matches(_ labels: LabelSet) -> Bool {
        matches(value: labels.value(of: name))
    }

    /// Whether one label value satisfies this matcher; pass "" for an absent label.
    public func matches(value candidate: String) -> Bool {
        switch type {
        case .equal: return candidate == value
        case .notEqual: return candidate != value
        // `pattern` is non-nil for both regex types (init compiles it).
        case .regexMatch: return pattern?.matches(candidate) ?? false
        case .regexNoMatch: return !(pattern?.matches(candidate) ?? false)
        }
    }

    /// Alertmanager's form: `name="value"` with `\\`, `\"` and `\n` escaped; the name is quoted
    /// too when it is not a plain Prometheus label name.
    public var description: String {
        let printedName = Self.isValidLabelName(name) ? name : Self.quote(name)
        return printedName + type.rawValue + Self.quote(value)
    }

    /// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*`, the names allowed unquoted.
    public static func isValidLabelName(_ name: String) -> Bool {
        var isFirst = true
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
                break
            case UInt8(ascii: "0")...UInt8(ascii: "9") where !isFirst:
                break
            default:
                return false
            }
            isFirst = false
        }
        return !isFirst
    }

    static func quote(_ text: String) -> String {
        "\"" + LabelSet.escape(text) + "\""
    }

    public static func == (lhs: LabelMatcher, rhs: LabelMatcher) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(type)
        hasher.combine(value)
    }
}
