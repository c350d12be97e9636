/// JSON string literals for bodies written by hand.
public enum JSONStringLiteral {
    /// `text` as the inside of a JSON string: `"` and `\` escaped, control characters as
    /// `\n`, `\r`, `\t` or `\u00XX`; everything else, non-ASCII included, as it is (UTF-8).
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        append(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` quoted, as ``quoted(_:)`` writes it. Runs of bytes that need no escape
    /// are copied whole: this runs for every label of every alert a webhook brings.
    ///
    /// `escapingHTML` also writes `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`, `\u003e`,
    /// `\u0026`, `\u2028` and `\u2029`, as Go's `encoding/json` does by default (and so
    /// Alertmanager's webhook bodies).
    public static func append(_ text: String, to output: inout [UInt8], escapingHTML: Bool = false) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                let escaped: [UInt8]
                var length = 1
                switch byte {
                case UInt8(ascii: "\""): escaped = [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): escaped = [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\n"): escaped = [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): escaped = [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case UInt8(ascii: "\t"): escaped = [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0..<0x20: escaped = unicodeEscape(UInt16(byte))
                case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                    guard escapingHTML else {
                        index += 1
                        continue
                    }
                    escaped = unicodeEscape(UInt16(byte))
                case 0xE2:
                    // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                    guard escapingHTML, index + 2 < utf8.count, utf8[index + 1] == 0x80, utf8[index + 2] | 1 == 0xA9 else {
                        index += 1
                        continue
                    }
                    escaped = unicodeEscape(0x2000 | UInt16(utf8[index + 2] - 0x80))
                    length = 3
                default:
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                output += escaped
                index += length
                runStart = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// `\uXXXX`, lower-case hex.
    private static func unicodeEscape(_ unit: UInt16) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        return [UInt8(ascii: "\\"), UInt8(ascii: "u")] + [12, 8, 4, 0].map { hex[Int(unit >> $0 & 0xF)] }
    }
}
