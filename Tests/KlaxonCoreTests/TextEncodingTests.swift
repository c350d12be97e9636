import Foundation
import KlaxonCore
import Testing

@Suite struct TextEncodingTests {
    @Test(arguments: [
        "", "plain", "quote \" and backslash \\", "line\nbreak\r\ttab", "bell \u{07} and \u{1F}",
        "中文 and émoji 🚨", "\u{0}", "mixed \"中\"\n\\end",
    ])
    func jsonStringLiteralReadsBackAsTheSameString(text: String) throws {
        let literal = JSONStringLiteral.quoted(text)
        let decoded = try JSONDecoder().decode(String.self, from: Data(literal.utf8))
        #expect(decoded == text)
    }

    @Test func jsonStringLiteralEscapesOnlyWhatItMust() {
        #expect(JSONStringLiteral.quoted("a\"b\\c\nd\u{01}é") == #""a\"b\\c\nd\u0001é""#)
    }

    /// The literal copies runs of bytes that need no escape whole: a special, plain or
    /// multi-byte character at every offset of strings up to 20 bytes must read back as the
    /// same string, with exactly the escapes it needs.
    @Test func jsonStringLiteralEscapesAtEveryOffset() throws {
        let specials = ["\"", "\\", "\n", "\u{01}", "\u{1F}", "é", "中", "🚨", " ", "~", "\u{7F}", "!", "#", "]", "\u{A2}", "\u{DC}"]
        for special in specials {
            for length in 0..<20 {
                for position in 0...length {
                    var characters = Array(repeating: "a", count: length)
                    characters.insert(special, at: position)
                    let text = characters.joined()
                    let literal = JSONStringLiteral.quoted(text)
                    #expect(try JSONDecoder().decode(String.self, from: Data(literal.utf8)) == text, "\(text.debugDescription)")
                    // One backslash per escaped byte, two for a backslash itself.
                    let backslashes = text.utf8.reduce(0) { count, byte in
                        count + (byte == UInt8(ascii: "\\") ? 2 : byte < 0x20 || byte == UInt8(ascii: "\"") ? 1 : 0)
                    }
                    #expect(literal.utf8.filter { $0 == UInt8(ascii: "\\") }.count == backslashes, "\(text.debugDescription)")
                }
            }
        }
    }

    @Test func labelSetPrintsLikeAlertmanager() {
        let labels: LabelSet = ["b": "two \"quoted\"\nline", "a": "back\\slash", "c": "中文"]
        #expect(labels.description == #"{a="back\\slash", b="two \"quoted\"\nline", c="中文"}"#)
        #expect(LabelSet().description == "{}")
    }
}
