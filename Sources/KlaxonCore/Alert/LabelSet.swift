/// A set of label (or annotation) names and values.
///
/// Names are unique; iteration order is sorted by name so output and hashing are stable.
public struct LabelSet: Sendable, Hashable {
    public private(set) var storage: [String: String]

    public init(_ storage: [String: String] = [:]) {
        self.storage = storage
    }

    public subscript(name: String) -> String? {
        get { storage[name] }
        set { storage[name] = newValue }
    }

    public var isEmpty: Bool { storage.isEmpty }
    public var count: Int { storage.count }

    /// Names and values sorted by name.
    public var sorted: [(name: String, value: String)] {
        storage.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// Alertmanager's convention: a label that is absent has the value "".
    public func value(of name: String) -> String {
        storage[name] ?? ""
    }

}

extension LabelSet: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension LabelSet: CustomStringConvertible {
    /// `{name="value", ...}` as Alertmanager prints label sets.
    public var description: String {
        "{" + sorted.map { "\($0.name)=\"\(LabelSet.escape($0.value))\"" }.joined(separator: ", ") + "}"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
