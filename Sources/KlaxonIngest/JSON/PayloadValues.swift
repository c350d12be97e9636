import Foundation

/// Conversions from JSON values to alert fields, shared by the adapters, with errors that
/// name the value's place in the payload. `path` is only rendered when something is wrong.
enum PayloadValues {
    /// The label text of a scalar; nil for null; an error for arrays and objects.
    static func scalarText(_ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(IngestError) -> String? {
        switch value {
        case .string(let string): return string
        case .number(_, let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return nil
        case .array, .object: throw wrongType(value, expected: "a string, number or boolean", at: path())
        }
    }

    /// A string, or nil for null; any other type is an error.
    static func string(_ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(IngestError) -> String? {
        switch value {
        case .string(let string): return string
        case .null: return nil
        default: throw wrongType(value, expected: "a string", at: path())
        }
    }

    /// The members of an object as a label set, last duplicate winning; null is empty.
    /// With `stringsOnly`, numbers and booleans are errors too (Alertmanager's maps of strings).
    static func labels(_ value: JSONValue, stringsOnly: Bool, at path: @autoclosure () -> FieldPath) throws(IngestError) -> [String: String] {
        let object: JSONObject
        switch value {
        case .object(let found): object = found
        case .null: return [:]
        default: throw wrongType(value, expected: "an object of name/value pairs", at: path())
        }
        var result = [String: String](minimumCapacity: object.members.count)
        // In document order, so a repeated key ends with its last value (a last `null` removes it).
        // Every occurrence is type-checked, even one a later duplicate overrides.
        for member in object.members {
            switch member.value {
            case .string(let string):
                result[member.key] = string
            case .null:
                result[member.key] = nil
            default:
                if stringsOnly {
                    throw wrongType(member.value, expected: "a string", at: path().appending(.key(member.key)))
                }
                result[member.key] = try scalarText(member.value, at: path().appending(.key(member.key)))
            }
        }
        return result
    }

    /// An RFC 3339 string, a number of Unix seconds (milliseconds above 1e11), or a string of
    /// such a number. Nil for null and for "not set": Go's zero time in either form, and the
    /// number 0 (an `endsAt` of 0 read as 1970 would make a firing alert resolved). A number
    /// must fall in the years 0001 to 9999, like the RFC 3339 text form: a later one would
    /// not fit the store's milliseconds or could not be printed back.
    static func timestamp(_ value: JSONValue, numbersAllowed: Bool, at path: @autoclosure () -> FieldPath) throws(IngestError) -> Date? {
        switch value {
        case .null:
            return nil
        case .string(let text):
            if let date = RFC3339.parse(text) {
                return RFC3339.isZeroTime(date) ? nil : date
            }
            if numbersAllowed, let seconds = unixNumber(text) {
                return try unixDateIfSet(seconds, value, at: path())
            }
            let expected = numbersAllowed ? "an RFC 3339 timestamp or Unix seconds" : "an RFC 3339 timestamp"
            throw IngestError(code: .badValue, message: "expected \(expected), got \(value.brief)", fieldPath: path().description)
        case .number(let seconds, _) where numbersAllowed:
            return try unixDateIfSet(seconds, value, at: path())
        default:
            let expected = numbersAllowed ? "an RFC 3339 timestamp or Unix seconds" : "an RFC 3339 timestamp string"
            throw wrongType(value, expected: expected, at: path())
        }
    }

    static func wrongType(_ value: JSONValue, expected: String, at path: FieldPath) -> IngestError {
        IngestError(code: .wrongShape, message: "expected \(expected), got \(value.brief)", fieldPath: path.description)
    }

    private static func unixDateIfSet(_ number: Double, _ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(IngestError) -> Date? {
        guard number != 0 else { return nil }
        let date = try unixDate(number, value, at: path())
        return RFC3339.isZeroTime(date) ? nil : date
    }

    private static func unixDate(_ number: Double, _ value: JSONValue, at path: @autoclosure () -> FieldPath) throws(IngestError) -> Date {
        let seconds = abs(number) > 1e11 ? number / 1000 : number
        guard RFC3339.yearsOneTo9999Since1970.contains(seconds) else {
            throw IngestError(
                code: .badValue,
                message: "expected Unix seconds or milliseconds within the years 0001 to 9999, got \(value.brief)",
                fieldPath: path().description
            )
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// Digits with an optional fraction (`1795287407`, `1795287407.5`).
    private static func unixNumber(_ text: String) -> Double? {
        var sawDigit = false
        var sawDot = false
        for byte in text.utf8 {
            if (byte &- UInt8(ascii: "0")) < 10 {
                sawDigit = true
            } else if byte == UInt8(ascii: "."), !sawDot {
                sawDot = true
            } else {
                return nil
            }
        }
        return sawDigit ? Double(text) : nil
    }
}
