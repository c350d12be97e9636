/// The cursor behind ``JSONParser``: a recursive-descent parser over a borrowed byte buffer.
///
/// Strings without escapes are turned into `String`s straight from their byte range (ASCII
/// needs no further check; other bytes are validated as UTF-8 in the same pass); strings with
/// escapes are unescaped into a reused scratch buffer.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int
    private var depth = 0
    private let maxDepth: Int
    private var scratch: [UInt8] = []
    /// Whether the last string read without escapes held `<`, `>`, `&`, U+2028 or U+2029,
    /// which Go's encoder (and so Alertmanager) would have escaped.
    private(set) var stringHeldWhatGoEscapes = false

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        // A UTF-8 byte order mark may be ignored (RFC 8259 section 8.1).
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
        } else {
            index = 0
        }
    }

    mutating func parseDocument() throws(IngestError) -> JSONValue {
        skipWhitespace()
        if index == bytes.count {
            throw error(bytes.isEmpty ? "empty input" : "no JSON value, only whitespace")
        }
        let value = try parseValue()
        skipWhitespace()
        if index != bytes.count {
            throw error("unexpected \(describeByte(at: index)) after the JSON value")
        }
        return value
    }

    // MARK: - Values

    mutating func parseValue() throws(IngestError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw error("unexpected \(describeByte(at: index)), expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(IngestError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for offset in 0..<count {
            guard start + offset < bytes.count else {
                index = start + offset
                throw error("unexpected end of input in literal '\(literal)'")
            }
            if bytes[start + offset] != text[offset] {
                index = start + offset
                throw error("invalid literal, expected '\(literal)'")
            }
        }
        index = start + count
    }

    private mutating func enter() throws(IngestError) {
        depth += 1
        if depth > maxDepth {
            throw error("nesting deeper than \(maxDepth) levels")
        }
    }

    private mutating func parseArray() throws(IngestError) -> JSONValue {
        try enter()
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated array, expected ',' or ']'") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw error("unexpected \(describeByte(at: index)) in array, expected ',' or ']'")
            }
        }
    }

    private mutating func parseObject() throws(IngestError) -> JSONValue {
        try enter()
        index += 1  // {
        var members: [JSONObject.Member] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject(members: members))
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object, expected a key") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeByte(at: index)) in object, expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object, expected ':'") }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw error("unexpected \(describeByte(at: index)) after object key, expected ':'")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object, expected ',' or '}'") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(JSONObject(members: members))
            default:
                throw error("unexpected \(describeByte(at: index)) in object, expected ',' or '}'")
            }
        }
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(IngestError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        guard index < bytes.count else { throw error("unexpected end of input in number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw error("leading zeros are not allowed in numbers")
            }
        } else if isDigit(bytes[index]) {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        } else {
            throw error("invalid number, expected a digit")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw error("invalid number, expected a digit after '.'")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw error("invalid number, expected a digit in the exponent")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        // Integers of up to 15 digits are exact in a Double; skip the general conversion.
        let digitsStart = bytes[start] == UInt8(ascii: "-") ? start + 1 : start
        if isInteger, index - digitsStart <= 15 {
            var value: Int64 = 0
            for position in digitsStart..<index {
                value = value &* 10 &+ Int64(bytes[position] &- UInt8(ascii: "0"))
            }
            return .number(Double(digitsStart == start ? value : -value), text: text)
        }
        guard let value = Double(text), value.isFinite else {
            index = start
            throw error("number \(text.prefix(40)) is out of range")
        }
        return .number(value, text: text)
    }

    // MARK: - Strings

    /// Parses the string starting at the opening quote at `index`.
    mutating func parseString() throws(IngestError) -> String {
        var escaped = false
        return try parseString(escaped: &escaped)
    }

    /// ``parseString()``, telling whether the string had an escape.
    mutating func parseString(escaped: inout Bool) throws(IngestError) -> String {
        let start = index + 1
        if let plain = try plainString(stoppingAtEscape: true) { return String(decoding: plain, as: UTF8.self) }
        escaped = true
        return try parseEscapedString(from: start)
    }

    /// The bytes of the string that starts here when it has no escapes, after the checks of
    /// ``parseString()`` (ASCII needs no further check; other bytes are validated as UTF-8 in
    /// the same pass). Nil, with the cursor back at the opening quote, when it has an escape.
    mutating func plainString() throws(IngestError) -> UnsafeBufferPointer<UInt8>? {
        try plainString(stoppingAtEscape: false)
    }

    /// Printable ASCII other than `"`, `\` and what Go escapes (`<`, `>`, `&`), by byte value.
    private static let ordinaryInString: [Bool] = (0...255).map { byte in
        byte >= 0x20 && byte < 0x80 && !"\"\\<>&".utf8.contains(UInt8(byte))
    }

    /// `stoppingAtEscape` leaves the cursor at the first backslash instead, for
    /// ``parseEscapedString(from:)`` to go on from there.
    private mutating func plainString(stoppingAtEscape: Bool) throws(IngestError) -> UnsafeBufferPointer<UInt8>? {
        let opening = index
        index += 1
        let start = index
        stringHeldWhatGoEscapes = false
        let ordinary = Self.ordinaryInString
        while index < bytes.count {
            let byte = bytes[index]
            // Most bytes of a string need no attention: one lookup instead of seven tests.
            if ordinary[Int(byte)] {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                index += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])
            }
            if byte == UInt8(ascii: "\\") {
                if !stoppingAtEscape { index = opening }
                return nil
            }
            if byte < 0x20 {
                throw error("unescaped control character \(hex(byte)) in string")
            }
            if byte < 0x80 {
                if byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&") { stringHeldWhatGoEscapes = true }
                index += 1
            } else {
                // U+2028 and U+2029: E2 80 A8 and E2 80 A9.
                if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] | 1 == 0xA9 {
                    stringHeldWhatGoEscapes = true
                }
                try skipUTF8Sequence()
            }
        }
        throw error("unterminated string (opened at byte \(opening))")
    }

    /// The slow path: the string from `start` has an escape at `index`.
    private mutating func parseEscapedString(from start: Int) throws(IngestError) -> String {
        scratch.removeAll(keepingCapacity: true)
        // Room for a typical escaped value at once, rather than growing byte by byte.
        scratch.reserveCapacity(256)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        let ordinary = Self.ordinaryInString
        while index < bytes.count {
            // A run of bytes that need no attention is copied at once, not byte by byte.
            let run = index
            while index < bytes.count, ordinary[Int(bytes[index])] { index += 1 }
            if index > run { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index])) }
            guard index < bytes.count else { break }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try appendEscape()
            case 0..<0x20:
                throw error("unescaped control character \(hex(byte)) in string")
            case 0x20..<0x80:
                scratch.append(byte)
                index += 1
            default:
                let sequenceStart = index
                try skipUTF8Sequence()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[sequenceStart..<index]))
            }
        }
        throw error("unterminated string (opened at byte \(start - 1))")
    }

    private mutating func appendEscape() throws(IngestError) {
        let escapeStart = index
        index += 1  // backslash
        guard index < bytes.count else { throw error("unterminated escape sequence in string") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    index = escapeStart
                    throw error("unpaired UTF-16 surrogate in \\u escape")
                }
                index += 2
                let low = try readHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    index = escapeStart
                    throw error("unpaired UTF-16 surrogate in \\u escape")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                index = escapeStart
                throw error("unpaired UTF-16 surrogate in \\u escape")
            }
            appendUTF8(scalar)
        default:
            index = escapeStart
            throw error("invalid escape sequence '\\\(printable(byte))' in string")
        }
    }

    private mutating func readHex4() throws(IngestError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw error("unexpected end of input in \\u escape") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape, expected 4 hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Checks the multi-byte UTF-8 sequence at `index` (Unicode table 3-7) and moves past it.
    private mutating func skipUTF8Sequence() throws(IngestError) {
        let lead = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F  // no UTF-16 surrogates
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F  // nothing above U+10FFFF
        default: throw error("invalid UTF-8 byte \(hex(lead)) in string")
        }
        guard index + length <= bytes.count else {
            throw error("unexpected end of input in a UTF-8 sequence")
        }
        let second = bytes[index + 1]
        guard second >= lower, second <= upper else {
            index += 1
            throw error("invalid UTF-8 continuation byte \(hex(second)) in string")
        }
        for offset in 2..<max(length, 2) {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else {
                index += offset
                throw error("invalid UTF-8 continuation byte \(hex(byte)) in string")
            }
        }
        index += length
    }

    // MARK: - Reading piece by piece (``AlertmanagerAdapter``'s common shape)

    /// After any whitespace, the next byte, or nil at the end.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// After any whitespace, steps over `byte` when it comes next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Whether only whitespace is left.
    mutating func isAtEnd() -> Bool { peek() == nil }

    /// Where the cursor is, as a byte offset.
    var position: Int { index }

    /// The bytes between two positions.
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[range])
    }

    // MARK: - Helpers

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                index += 1
            default:
                return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }

    private func printable(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : hex(byte)
    }

    private func describeByte(at position: Int) -> String {
        let byte = bytes[position]
        return (0x21..<0x7F).contains(byte) ? "character '\(String(UnicodeScalar(byte)))'" : "byte \(hex(byte))"
    }

    /// A malformed-JSON error at the current `index`, with its line and column.
    private func error(_ message: String) -> IngestError {
        let offset = min(index, bytes.count)
        var line = 1
        var lineStart = 0
        for position in 0..<offset where bytes[position] == UInt8(ascii: "\n") {
            line += 1
            lineStart = position + 1
        }
        return IngestError(code: .malformedJSON, message: message, offset: offset, line: line, column: offset - lineStart + 1)
    }
}
