/// Raw header bytes as text: UTF-8 when they are valid UTF-8 (RFC 6532 allows it), otherwise
/// the given charset (the message's own, for mailers that write 8-bit GBK subjects), otherwise
/// ISO-8859-1, which never fails. Leading and trailing whitespace is trimmed.
enum HeaderText {
    static func decode(_ bytes: [UInt8], charset: String?) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) || TextCharset.isValidUTF8(bytes) {
            return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        }
        if let charset {
            let decoded = TextCharset.decode(bytes, charset: charset)
            if decoded.isKnown { return decoded.text.trimmingWhitespace() }
        }
        return TextCharset.latin1(bytes).trimmingWhitespace()
    }
}
