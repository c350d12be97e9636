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
        for text in Self.texts(placing: specials, upTo: 20) {
            let literal = JSONStringLiteral.quoted(text)
            #expect(try JSONDecoder().decode(String.self, from: Data(literal.utf8)) == text, "\(text.debugDescription)")
            // One backslash per escaped byte, two for a backslash itself.
            let backslashes = text.utf8.reduce(0) { count, byte in
                count + (byte == UInt8(ascii: "\\") ? 2 : byte < 0x20 || byte == UInt8(ascii: "\"") ? 1 : 0)
            }
            #expect(literal.utf8.filter { $0 == UInt8(ascii: "\\") }.count == backslashes, "\(text.debugDescription)")
        }
    }

    /// Each special at every offset of runs of "a" shorter than `length`.
    private static func texts(placing specials: [String], upTo length: Int) -> [String] {
        specials.flatMap { special in
            (0..<length).flatMap { count in
                (0...count).map { position in
                    var characters = Array(repeating: "a", count: count)
                    characters.insert(special, at: position)
                    return characters.joined()
                }
            }
        }
    }

    /// Go's escapes: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes, at every offset.
    @Test func jsonStringLiteralEscapesHTMLAsGoDoes() throws {
        let specials = ["<", ">", "&", "\u{2028}", "\u{2029}", "\u{2027}", "\u{202A}", "\"", "\n", "\u{01}", "é", "🚨"]
        for text in Self.texts(placing: specials, upTo: 8) {
            var bytes: [UInt8] = []
            JSONStringLiteral.append(text, to: &bytes, escapingHTML: true)
            let literal = String(decoding: bytes, as: UTF8.self)
            #expect(try JSONDecoder().decode(String.self, from: Data(bytes)) == text, "\(text.debugDescription)")
            #expect(!literal.contains(where: { "<>&\u{2028}\u{2029}".contains($0) }), "\(literal)")
        }
        var bytes: [UInt8] = []
        JSONStringLiteral.append("a<b>&\u{2028}\u{2029}", to: &bytes, escapingHTML: true)
        #expect(String(decoding: bytes, as: UTF8.self) == #""a\u003cb\u003e\u0026\u2028\u2029""#)
        #expect(JSONStringLiteral.quoted("a<b>&\u{2028}\u{2029}") == "\"a<b>&\u{2028}\u{2029}\"")
    }

    @Test func labelSetJSONSortsNamesAndReadsBack() throws {
        let labels: LabelSet = ["b": "two \"quoted\"\nline", "a": "back\\slash", "c": "中文", "A": "\u{1}"]
        #expect(labels.json == #"{"A":"\u0001","a":"back\\slash","b":"two \"quoted\"\nline","c":"中文"}"#)
        #expect(LabelSet(["x": "1 > 0 & 2 < 3"]).json == #"{"x":"1 \u003e 0 \u0026 2 \u003c 3"}"#)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(labels.json.utf8)) == labels.storage)
        #expect(LabelSet().json == "{}")
    }

    /// A set that keeps its sender's text gives that text, is equal to the same set without
    /// it, and forgets it on any change.
    @Test func labelSetKeepsItsSourceTextUntilChanged() {
        var labels = LabelSet(["a": "1", "b": "2"], json: #"{"a":"1","b":"2"}"#)
        #expect(labels.json == #"{"a":"1","b":"2"}"#)
        #expect(labels == LabelSet(["a": "1", "b": "2"]))
        #expect(labels.hashValue == LabelSet(["a": "1", "b": "2"]).hashValue)
        labels["c"] = "3"
        #expect(labels.json == #"{"a":"1","b":"2","c":"3"}"#)
        labels["c"] = nil
        #expect(labels.json == #"{"a":"1","b":"2"}"#)
    }

    @Test func labelSetPrintsLikeAlertmanager() {
        let labels: LabelSet = ["b": "two \"quoted\"\nline", "a": "back\\slash", "c": "中文"]
        #expect(labels.description == #"{a="back\\slash", b="two \"quoted\"\nline", c="中文"}"#)
        #expect(LabelSet().description == "{}")
    }

    /// Printed from the sender's text or from the names and values, a set reads the same.
    @Test(
        arguments: [
            [:],
            ["alertname": "HighErrorRate", "instance": "10.0.0.1:8080", "pod": "checkout-7d9f8b6c5-x2x9z", "seq": "w1-1"],
            ["a": "", "b": "=", "c": ",", "d": ":", "e": "{}", "f": " spaced "],
            ["b": "two \"quoted\"\nline", "a": "back\\slash", "c": "中文"],
            ["x": "1 > 0 & 2 < 3", "y": "\u{1}"],
        ] as [[String: String]]
    )
    func labelSetPrintsTheSameFromItsSourceText(_ storage: [String: String]) {
        let written = LabelSet(storage)
        #expect(LabelSet(storage, json: written.json).description == written.description)
    }
}
