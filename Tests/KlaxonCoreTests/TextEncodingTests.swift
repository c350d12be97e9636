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

    @Test func labelSetPrintsLikeAlertmanager() {
        let labels: LabelSet = ["b": "two \"quoted\"\nline", "a": "back\\slash", "c": "中文"]
        #expect(labels.description == #"{a="back\\slash", b="two \"quoted\"\nline", c="中文"}"#)
        #expect(LabelSet().description == "{}")
    }
}
