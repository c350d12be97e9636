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
    /// `{name="value", ...}` as Alertmanager prints label sets: `\`, `"` and newlines
    /// escaped in values.
    public var description: String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (index, label) in storage.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { bytes += [UInt8(ascii: ","), UInt8(ascii: " ")] }
            bytes += label.key.utf8
            bytes += [UInt8(ascii: "="), UInt8(ascii: "\"")]
            Self.appendEscaped(label.value, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    static func escape(_ value: String) -> String {
        var bytes: [UInt8] = []
        appendEscaped(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func appendEscaped(_ value: String, to bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"), UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), byte]
                case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                default: bytes.append(byte)
                }
            }
        }
    }
}
