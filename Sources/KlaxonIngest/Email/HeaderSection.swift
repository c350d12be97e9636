/// The header section of a message or MIME part, read from bytes: fields with their raw
/// (unfolded, undecoded) values, and where the body starts.
///
/// Lines end with CRLF or a bare LF (a CR before the LF is dropped). A line that starts with
/// a space or tab continues the previous field (unfolding keeps that whitespace and drops the
/// line break). The section ends at the first empty line, or a line of only whitespace.
struct HeaderSection {
    struct RawField {
        var name: String
        var value: [UInt8]
    }

    var fields: [RawField]
    /// Index of the first body byte (after the blank line); the range's end when there is no body.
    var bodyStart: Int

    enum Failure: Error {
        /// A line is neither a field nor a continuation; `line` is 1-based within the range.
        case notAField(line: Int)
        /// A continuation line with no field before it.
        case continuationFirst(line: Int)
        /// No blank line before the end of the range.
        case unterminated(lines: Int)
        case tooManyFields(Int)
    }

    /// Reads the section at the start of `range`.
    ///
    /// - Parameters:
    ///   - allowMboxFrom: skip a leading mbox `From ` separator line (top level only).
    ///   - requireBlankLine: whether reaching the end without a blank line is an error
    ///     (``Failure/unterminated(lines:)``) or a section with an empty body.
    static func read(
        _ bytes: [UInt8],
        in range: Range<Int>,
        maxFields: Int,
        allowMboxFrom: Bool,
        requireBlankLine: Bool
    ) throws(Failure) -> HeaderSection {
        var fields: [RawField] = []
        var position = range.lowerBound
        var line = 0
        if allowMboxFrom, bytes[range].starts(with: Array("From ".utf8)) {
            position = lineEnd(bytes, from: position, limit: range.upperBound).next
            line += 1
        }
        while position < range.upperBound {
            line += 1
            let (contentEnd, next) = lineEnd(bytes, from: position, limit: range.upperBound)
            let content = position..<contentEnd
            if content.isEmpty || bytes[content].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                return HeaderSection(fields: fields, bodyStart: next)
            }
            let first = bytes[position]
            if first == 0x20 || first == 0x09 {
                guard !fields.isEmpty else { throw .continuationFirst(line: line) }
                fields[fields.count - 1].value.append(contentsOf: bytes[content])
            } else {
                guard let colon = fieldNameEnd(bytes, in: content) else { throw .notAField(line: line) }
                guard fields.count < maxFields else { throw .tooManyFields(maxFields) }
                var nameEnd = colon
                while nameEnd > position, bytes[nameEnd - 1] == 0x20 || bytes[nameEnd - 1] == 0x09 { nameEnd -= 1 }
                let name = String(decoding: bytes[position..<nameEnd], as: UTF8.self)
                fields.append(RawField(name: name, value: Array(bytes[(colon + 1)..<contentEnd])))
            }
            position = next
        }
        guard !requireBlankLine else { throw .unterminated(lines: line) }
        return HeaderSection(fields: fields, bodyStart: range.upperBound)
    }

    /// The index of the `:` ending a field name (printable ASCII other than `:`, optionally
    /// followed by whitespace as RFC 5322's obsolete syntax allows), or nil.
    private static func fieldNameEnd(_ bytes: [UInt8], in content: Range<Int>) -> Int? {
        var index = content.lowerBound
        while index < content.upperBound {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { return index > content.lowerBound ? index : nil }
            if byte == 0x20 || byte == 0x09 {
                // Only whitespace may follow the name before the colon.
                var look = index
                while look < content.upperBound, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                return look < content.upperBound && bytes[look] == UInt8(ascii: ":") && index > content.lowerBound ? look : nil
            }
            guard byte >= 33, byte <= 126 else { return nil }
            index += 1
        }
        return nil
    }

    /// The end of the line's content (before CRLF or LF) and the start of the next line.
    static func lineEnd(_ bytes: [UInt8], from start: Int, limit: Int) -> (contentEnd: Int, next: Int) {
        var index = start
        while index < limit, bytes[index] != 0x0A { index += 1 }
        if index == limit { return (limit, limit) }
        let contentEnd = index > start && bytes[index - 1] == 0x0D ? index - 1 : index
        return (contentEnd, index + 1)
    }
}
