/// RFC 2047 encoded-words (`=?charset?B?…?=` and `=?charset?Q?…?=`) in header text.
///
/// - B is base64, Q is quoted-printable with `_` for space; the encoding letter and the
///   charset are case-insensitive, and an RFC 2231 language (`=?UTF-8*en?Q?…?=`) is ignored.
/// - Whitespace (including folding) between two adjacent encoded-words is dropped, and the
///   bytes of adjacent words in the same charset are joined before the charset is applied, so
///   a multi-byte character split across two words still decodes.
/// - A word written next to other text without whitespace is still decoded (as most mail
///   readers do).
/// - At most ``maxWords`` words are decoded per text (a real Subject has a handful); the rest
///   are left as written, which keeps a hostile header from costing a charset conversion per word.
/// - A malformed word (no closing `?=`, an unknown encoding letter, base64 with characters
///   outside the alphabet, whitespace inside) or a word in a charset nobody knows is left
///   exactly as written.
enum EncodedWords {
    private enum Segment {
        case text(String)
        /// A decoded word: its charset (normalized) and its bytes.
        case word(charset: String, bytes: [UInt8])
    }

    static let maxWords = 256

    static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.indices.dropLast().contains(where: { bytes[$0] == UInt8(ascii: "=") && bytes[$0 + 1] == UInt8(ascii: "?") }) else {
            return text
        }
        var segments: [Segment] = []
        var knownCharsets: [String: Bool] = [:]
        var words = 0
        var literalStart = 0
        var index = 0
        // Where a failed word's text ran out without its `?=`: no word starting before it can
        // end before it either, so the search goes on from there (from each `=?` in turn, a
        // run of unclosed words took time quadratic in its length).
        var resume = 0
        while index + 1 < bytes.count {
            if words < maxWords, bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "?"),
                let (word, end) = parseWord(bytes, at: index, knownCharsets: &knownCharsets, resume: &resume)
            {
                words += 1
                if literalStart < index {
                    segments.append(.text(String(decoding: bytes[literalStart..<index], as: UTF8.self)))
                }
                segments.append(word)
                index = end
                literalStart = end
            } else {
                index = max(index + 1, resume)
            }
        }
        if literalStart < bytes.count {
            segments.append(.text(String(decoding: bytes[literalStart...], as: UTF8.self)))
        }

        var result = ""
        var position = 0
        while position < segments.count {
            switch segments[position] {
            case .text(let literal):
                let between =
                    position > 0 && position + 1 < segments.count && isWord(segments[position - 1])
                    && isWord(segments[position + 1]) && literal.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" }
                if !between { result += literal }
                position += 1
            case .word(let charset, let firstBytes):
                // Join the following words of the same charset, skipping whitespace between them.
                var joined = firstBytes
                var next = position + 1
                while next < segments.count {
                    var candidate = next
                    if case .text(let literal) = segments[candidate],
                        literal.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" })
                    {
                        candidate += 1
                    }
                    guard candidate < segments.count, case .word(let otherCharset, let otherBytes) = segments[candidate],
                        otherCharset == charset
                    else { break }
                    joined += otherBytes
                    next = candidate + 1
                }
                result += TextCharset.decode(joined, charset: charset).text
                position = next
            }
        }
        return result
    }

    private static func isWord(_ segment: Segment) -> Bool {
        if case .word = segment { return true }
        return false
    }

    /// The word starting at `start` (`=?`) and the index just past its `?=`, or nil when it is
    /// not a well-formed encoded-word.
    /// When its text runs out without a `?=`, `resume` is where it stopped.
    private static func parseWord(
        _ bytes: [UInt8],
        at start: Int,
        knownCharsets: inout [String: Bool],
        resume: inout Int
    ) -> (Segment, Int)? {
        var index = start + 2
        let charsetStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
            let byte = bytes[index]
            guard byte > 0x20, byte < 0x7F, index - charsetStart < 64 else { return nil }
            index += 1
        }
        guard index < bytes.count, index > charsetStart, index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "?") else {
            return nil
        }
        let charset = TextCharset.normalize(String(decoding: bytes[charsetStart..<index], as: UTF8.self))
        let isKnown = knownCharsets[charset] ?? TextCharset.isKnown(charset)
        knownCharsets[charset] = isKnown
        guard isKnown else { return nil }
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        index += 3
        let textStart = index
        while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "=")) {
            let byte = bytes[index]
            guard byte > 0x20, byte < 0x7F else {
                resume = index
                return nil
            }
            index += 1
        }
        guard index + 1 < bytes.count else {
            resume = index
            return nil
        }
        let encoded = bytes[textStart..<index]
        let end = index + 2

        let decoded: [UInt8]
        if encoding == UInt8(ascii: "b") {
            let valid = encoded.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                    true
                default: false
                }
            }
            guard valid else { return nil }
            decoded = TransferEncoding.base64(encoded).bytes
        } else {
            var out: [UInt8] = []
            var position = encoded.startIndex
            while position < encoded.endIndex {
                let byte = encoded[position]
                if byte == UInt8(ascii: "_") {
                    out.append(0x20)
                } else if byte == UInt8(ascii: "="), position + 2 < encoded.endIndex,
                    let high = TransferEncoding.hexValue(encoded[position + 1]), let low = TransferEncoding.hexValue(encoded[position + 2])
                {
                    out.append(high << 4 | low)
                    position += 2
                } else {
                    out.append(byte)
                }
                position += 1
            }
            decoded = out
        }
        return (.word(charset: charset, bytes: decoded), end)
    }
}
