/// A parsed JSON (RFC 8259) value.
///
/// Numbers keep the exact text they were written with, so a value of `4` becomes the label
/// value `"4"` (not `"4.0"`) and `12.50` stays `"12.50"`; the `Double` is the nearest binary
/// value of that text. Two numbers are equal when both the value and the text are equal.
///
/// Objects keep their members in document order; looking up a key that appears more than
/// once gives the last occurrence (see ``JSONObject``).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The value and the number's text as written in the document (`4`, `-1.5e3`).
    case number(Double, text: String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A number whose text is Swift's shortest description of `value` (`4` for 4.0).
    public static func number(_ value: Double) -> JSONValue {
        if value.rounded() == value, abs(value) < 1e15 {
            return .number(value, text: String(Int64(value)))
        }
        return .number(value, text: "\(value)")
    }

    /// The member named `key` when this is an object (the last one if the key repeats), else nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The element at `index` when this is an array and the index is in range, else nil.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    /// The string when this is a string, else nil.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The number when this is a number, else nil.
    public var doubleValue: Double? {
        if case .number(let value, _) = self { return value }
        return nil
    }

    /// The elements when this is an array, else nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The object when this is an object, else nil.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The text a scalar stands for as a label value: strings as they are, numbers in their
    /// JSON text, booleans `true`/`false`. Nil for `null`, arrays and objects.
    public var scalarText: String? {
        switch self {
        case .string(let string): string
        case .number(_, let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null, .array, .object: nil
        }
    }

    /// `null`, `boolean`, `number`, `string`, `array` or `object`, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// How the value reads in an error message: its type, plus the value itself for scalars
    /// (`string "fire"`, `number 4`), shortened.
    var brief: String {
        switch self {
        case .string(let string): "\(IngestError.quote(string))"
        case .number(_, let text): "number \(text.prefix(32))"
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        case .array, .object: typeName
        }
    }
}
