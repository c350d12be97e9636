/// Where a value sits in a JSON payload, as written in an input's `mapping:`.
///
/// Two spellings are accepted by ``parse(_:)``:
/// - a JSON pointer (RFC 6901): `/alerts/0/labels`, with `~1` for `/` and `~0` for `~` in keys;
/// - a dotted path: `labels.severity`, `alerts[0].name`, and bracketed quoted keys for names
///   with dots or other punctuation: `labels["a.b"]` or `labels['a.b']` (`\"`, `\'` and `\\`
///   escape inside the quotes).
///
/// A path is relative to the alert object it is applied to, unless it starts with `$`
/// (`$.commonLabels.team`, `$/commonLabels/team`, `$["x"]`, or `$` alone): then it is
/// resolved from the payload root (``isRooted``).
///
/// Resolving follows JSON pointer's rule for a key on an array: a key made of decimal
/// digits (`/alerts/0`, `alerts.0`) indexes the array.
///
/// ``description`` prints the path in the dotted form (`$.alerts[0].labels["a.b"]`), which
/// ``parse(_:)`` reads back to an equal path.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    public enum Component: Sendable, Hashable {
        /// An object member (or, when it is all digits, an array element).
        case key(String)
        /// An array element.
        case index(Int)
    }

    public var components: [Component]
    /// Whether the path starts at the payload root (`$`) rather than at the alert object.
    public var isRooted: Bool

    public init(_ components: [Component], isRooted: Bool = false) {
        self.components = components
        self.isRooted = isRooted
    }

    /// The path to the payload root itself (`$`).
    public static let root = FieldPath([], isRooted: true)

    /// This path with `component` appended.
    public func appending(_ component: Component) -> FieldPath {
        FieldPath(components + [component], isRooted: isRooted)
    }

    /// This path followed by the components of `other` (whose own root flag is ignored).
    public func appending(_ other: FieldPath) -> FieldPath {
        FieldPath(components + other.components, isRooted: isRooted)
    }

    /// Parses a JSON pointer or dotted path (see the type's documentation).
    ///
    /// - Throws: ``IngestError`` with code ``IngestError/Code/invalidFieldPath``, the path as
    ///   ``IngestError/subject`` and the 0-based character ``IngestError/offset`` of the problem.
    public static func parse(_ text: String) throws(IngestError) -> FieldPath {
        var parser = FieldPathParser(text)
        return try parser.parse()
    }

    /// The value at this path below `value`, or nil when a step does not exist (a missing
    /// key, an index out of range, or a step into a scalar). Rootedness is up to the caller.
    public func resolve(in value: JSONValue) -> JSONValue? {
        var current = value
        for component in components {
            switch (component, current) {
            case (.key(let key), .object(let object)):
                guard let next = object[key] else { return nil }
                current = next
            case (.key(let key), .array(let elements)):
                guard let index = FieldPath.arrayIndex(key), elements.indices.contains(index) else { return nil }
                current = elements[index]
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    public var description: String {
        var out = isRooted ? "$" : ""
        for component in components {
            switch component {
            case .index(let index):
                out += "[\(index)]"
            case .key(let key):
                if FieldPath.isPlainKey(key) {
                    if !out.isEmpty { out += "." }
                    out += key
                } else {
                    out += "[\"" + key.replacingBackslashesAndQuotes() + "\"]"
                }
            }
        }
        return out
    }

    /// Whether `key` can be printed bare in a dotted path: it starts with a letter or `_` and
    /// continues with letters, digits, `_` or `-` (so `["0"]` and `["a.b"]` stay bracketed).
    static func isPlainKey(_ key: String) -> Bool {
        guard let first = key.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return key.utf8.allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || isLetter($0) || ($0 &- UInt8(ascii: "0")) < 10 }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- UInt8(ascii: "a") < 26
    }

    /// The array index a JSON pointer token stands for: decimal digits without a leading zero.
    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard !utf8.isEmpty, utf8.count <= 18, utf8.allSatisfy({ ($0 &- UInt8(ascii: "0")) < 10 }) else { return nil }
        if utf8.count > 1, utf8.first == UInt8(ascii: "0") { return nil }
        return Int(token)
    }
}

extension String {
    fileprivate func replacingBackslashesAndQuotes() -> String {
        var out = ""
        for character in self {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
