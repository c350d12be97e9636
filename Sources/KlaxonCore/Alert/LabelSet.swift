/// A set of label (or annotation) names and values.
///
/// Names are unique; iteration order is sorted by name so output and hashing are stable.
public struct LabelSet: Sendable {
    public private(set) var storage: [String: String] {
        didSet { sourceJSON = nil }
    }
    /// ``json``, as the sender wrote it: set only by a decoder that checked the sender's
    /// text is exactly that form, and gone with any change.
    private var sourceJSON: String?

    public init(_ storage: [String: String] = [:]) {
        self.storage = storage
    }

    /// A set read from `json`, which its reader has checked is exactly what ``json`` would
    /// write for `storage` (Alertmanager writes label maps that way): the store keeps the
    /// sender's text instead of writing it again.
    public init(_ storage: [String: String], json: String) {
        self.storage = storage
        self.sourceJSON = json
    }

    /// The set as the store keeps it: a JSON object, names sorted (`<`), no whitespace,
    /// names and values written by ``JSONStringLiteral`` escaping HTML. That is how Go
    /// writes a string map, so Alertmanager's label maps usually arrive in this form.
    public var json: String {
        if let sourceJSON { return sourceJSON }
        var bytes: [UInt8] = []
        // Room for the text with no escapes, so the buffer is not regrown label by label.
        bytes.reserveCapacity(storage.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        bytes.append(UInt8(ascii: "{"))
        for (index, entry) in storage.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONStringLiteral.append(entry.key, to: &bytes, escapingHTML: true)
            bytes.append(UInt8(ascii: ":"))
            JSONStringLiteral.append(entry.value, to: &bytes, escapingHTML: true)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether ``json`` is the sender's text.
    var keepsSourceJSON: Bool { sourceJSON != nil }

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

/// Equal when the names and values are: how the set was written does not count.
extension LabelSet: Hashable {
    public static func == (left: LabelSet, right: LabelSet) -> Bool {
        left.storage == right.storage
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage)
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
        if let sourceJSON, let printed = Self.description(ofJSON: sourceJSON) { return printed }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(storage.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 5 })
        bytes.append(UInt8(ascii: "{"))
        for (index, label) in storage.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 {
                bytes.append(UInt8(ascii: ","))
                bytes.append(UInt8(ascii: " "))
            }
            bytes.append(contentsOf: label.key.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(UInt8(ascii: "\""))
            Self.appendEscaped(label.value, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The description read off ``json``'s text in one pass, when that text holds no
    /// backslash: its names are sorted already, and no name or value in it needs an escape.
    /// Nil otherwise. (Each new incident's timeline prints its alert's labels, and sorting
    /// them was a third of the engine's own work on the incident.)
    private static func description(ofJSON json: String) -> String? {
        var json = json
        return json.withUTF8 { utf8 -> String? in
            guard !utf8.contains(UInt8(ascii: "\\")) else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(utf8.count + utf8.count / 8)
            var inString = false
            // Strings alternate: name, value, name, value...
            var isValue = false
            for byte in utf8 {
                if inString {
                    if byte == UInt8(ascii: "\"") {
                        inString = false
                        if isValue { bytes.append(byte) }
                        isValue.toggle()
                    } else {
                        bytes.append(byte)
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                    if isValue { bytes.append(byte) }
                case UInt8(ascii: ":"): bytes.append(UInt8(ascii: "="))
                case UInt8(ascii: ","): bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")])
                default: bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func escape(_ value: String) -> String {
        var bytes: [UInt8] = []
        appendEscaped(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func appendEscaped(_ value: String, to bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            if !utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(byte)
                case UInt8(ascii: "\n"):
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(UInt8(ascii: "n"))
                default: bytes.append(byte)
                }
            }
        }
    }
}
