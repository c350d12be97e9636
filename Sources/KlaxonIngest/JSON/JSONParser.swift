/// A strict RFC 8259 JSON parser working directly on UTF-8 bytes.
///
/// Contract:
/// - Accepts exactly one JSON value, with optional whitespace around it (a leading UTF-8
///   byte order mark is ignored, as RFC 8259 allows). Anything after the value is an error.
/// - Rejects what RFC 8259 forbids: invalid UTF-8 (overlong forms, surrogates, code points
///   above U+10FFFF), unescaped control characters in strings, bad escapes, unpaired UTF-16
///   surrogates in `\u` escapes, leading zeros, `NaN`/`Infinity`, numbers whose value does not
///   fit a `Double`, trailing commas, comments.
/// - Nesting deeper than `maxDepth` arrays/objects is an error, so hostile input cannot
///   overflow the stack; truncated input at any byte gives an error, never a trap.
/// - Duplicate object keys are kept; lookups see the last one (see ``JSONObject``).
/// - Every failure is an ``IngestError`` with code ``IngestError/Code/malformedJSON``, the byte
///   ``IngestError/offset`` where parsing stopped, and its line and column.
public enum JSONParser {
    /// The nesting limit used unless the caller gives another.
    public static let defaultMaxDepth = 512

    /// Parses `bytes` as one JSON document.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(IngestError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(IngestError) -> JSONValue in
            try parse(buffer, maxDepth: maxDepth)
        }
    }

    /// Parses the UTF-8 of `text` as one JSON document.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(IngestError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Parses the bytes in `buffer` as one JSON document. The buffer is only read during the call.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(IngestError) -> JSONValue {
        var scanner = JSONScanner(buffer, maxDepth: maxDepth)
        return try scanner.parseDocument()
    }
}
