/// Why a payload could not be turned into alerts, and where.
///
/// Every error has a matchable ``code``, a ``message`` that says what is wrong, and when it
/// applies the place: ``fieldPath`` (a JSONPath-like path into the payload such as
/// `$.alerts[3].labels.severity`) for well-formed JSON of the wrong shape, or ``offset``
/// (with ``line`` and ``column``) for bytes that are not JSON at all, or for a character in
/// a ``FieldPath`` that does not parse.
///
/// ``description`` is the full sentence a server puts in its `{"error", "detail"}` body:
/// - `malformed JSON at byte 1532 (line 1, column 1533): unterminated string`
/// - `$.alerts[2].status: expected "firing" or "resolved", got "fire"`
/// - `invalid field path "labels..x" at character 7: empty key`
/// - `malformed message at line 3: not a header field and no blank line before it; …`
/// - `sender "mallory@evil.example" (From) is not on the allowlist of input ops-mail`
///
/// Values quoted from a payload are shortened so a huge or hostile body cannot blow up a log line.
public struct IngestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. Compare with `==` or match in a `switch`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case malformedJSON
            case wrongShape
            case missingField
            case badValue
            case unsupportedFormat
            case invalidFieldPath
            case malformedMessage
            case messageTooLarge
            case unusableMessage
            case senderRejected
            case invalidPattern
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The bytes are not JSON (RFC 8259): truncated, bad escape, invalid UTF-8, too deep, ...
        public static let malformedJSON = Code(.malformedJSON)
        /// Valid JSON, but a value has the wrong type (an object where an array belongs, ...).
        public static let wrongShape = Code(.wrongShape)
        /// A field that must be present is absent (or an alert ends up without labels).
        public static let missingField = Code(.missingField)
        /// A value has the right type but a value that is not allowed (status "fire", a bad timestamp).
        public static let badValue = Code(.badValue)
        /// The payload is not in a format this adapter reads.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// A ``FieldPath`` written in a mapping does not parse.
        public static let invalidFieldPath = Code(.invalidFieldPath)
        /// The bytes are not an RFC 5322 message: binary garbage, a header section that never
        /// ends with a blank line, a line that is not a header field, multipart nesting or part
        /// counts beyond ``EmailLimits``. A server answers 400; `klaxon email` exits 65 (EX_DATAERR).
        public static let malformedMessage = Code(.malformedMessage)
        /// The message is larger than ``EmailLimits/maxBytes``; rejected before any parsing.
        /// A server answers 413; `klaxon email` exits 65.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// A well-formed message that cannot become an alert: no pattern of an input with
        /// `require_match: true` matched, or there is no subject and no body text at all.
        /// A server answers 422; `klaxon email` exits 65.
        public static let unusableMessage = Code(.unusableMessage)
        /// The sender (From or Return-Path) is not on the input's `senders` allowlist.
        /// A server answers 403; `klaxon email` exits 77 (EX_NOPERM).
        public static let senderRejected = Code(.senderRejected)
        /// A regular expression written in an e-mail mapping does not compile; ``subject`` holds
        /// the pattern. A configuration error, never the fault of a message.
        public static let invalidPattern = Code(.invalidPattern)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What is wrong, without the location (`unterminated string`, `expected a string, got number`).
    public var message: String
    /// Where in the payload, JSONPath-like (`$.alerts[3].labels.severity`); nil when not about a field.
    public var fieldPath: String?
    /// Byte offset into the payload (malformed JSON) or character offset into a field path text
    /// (``Code/invalidFieldPath``); nil otherwise.
    public var offset: Int?
    /// 1-based line of ``offset`` for malformed JSON; for a malformed message, the line of the
    /// message (header section or MIME part) where the problem is, when there is one.
    public var line: Int?
    /// 1-based column (in bytes) of ``offset`` for malformed JSON.
    public var column: Int?
    /// For ``Code/invalidFieldPath``: the path text that failed to parse; for
    /// ``Code/invalidPattern``: the regular expression.
    public var subject: String?

    public init(
        code: Code,
        message: String,
        fieldPath: String? = nil,
        offset: Int? = nil,
        line: Int? = nil,
        column: Int? = nil,
        subject: String? = nil
    ) {
        self.code = code
        self.message = message
        self.fieldPath = fieldPath
        self.offset = offset
        self.line = line
        self.column = column
        self.subject = subject
    }

    public var description: String {
        if code == .malformedJSON, let offset {
            var text = "malformed JSON at byte \(offset)"
            if let line, let column {
                text += " (line \(line), column \(column))"
            }
            return text + ": " + message
        }
        if code == .malformedMessage, let line {
            return "malformed message at line \(line): " + message
        }
        if code == .invalidFieldPath {
            var text = "invalid field path"
            if let subject { text += " \(IngestError.quote(subject))" }
            if let offset { text += " at character \(offset)" }
            return text + ": " + message
        }
        if let fieldPath {
            return fieldPath + ": " + message
        }
        return message
    }

    /// `"value"` for messages, escaped and cut to `limit` characters.
    static func quote(_ value: String, limit: Int = 64) -> String {
        var out = "\""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return out + "\""
    }
}
