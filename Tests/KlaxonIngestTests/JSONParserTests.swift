import Foundation
import Testing

@testable import KlaxonIngest

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws(IngestError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    /// The error for `bytes`, failing the test when they parse.
    private func failure(_ bytes: [UInt8], sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        do {
            let value = try JSONParser.parse(bytes)
            Issue.record("parsed as \(value)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.code == .malformedJSON, sourceLocation: sourceLocation)
            return error
        }
    }

    private func failure(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        failure(Array(text.utf8), sourceLocation: sourceLocation)
    }

    @Test func scalars() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse(" false ") == .bool(false))
        #expect(try parse("\"x\"") == .string("x"))
        #expect(try parse("\"\"") == .string(""))
    }

    @Test func numbersKeepTheirText() throws {
        #expect(try parse("4") == .number(4, text: "4"))
        #expect(try parse("-0") == .number(0, text: "-0"))
        #expect(try parse("12.5") == .number(12.5, text: "12.5"))
        #expect(try parse("12.50").scalarText == "12.50")
        #expect(try parse("-1.5e3") == .number(-1500, text: "-1.5e3"))
        #expect(try parse("1E+2").doubleValue == 100)
        #expect(try parse("1e-2").doubleValue == 0.01)
        #expect(try parse("123456789012345678901").doubleValue == 123456789012345678901.0)
        #expect(try parse("9007199254740993").scalarText == "9007199254740993")
        #expect(try parse("-123456789012345").doubleValue == -123_456_789_012_345)
    }

    @Test func containers() throws {
        let value = try parse(#" { "a" : [1, "two", {"three": null}, []], "b": {} } "#)
        #expect(value["a"]?[0] == 1)
        #expect(value["a"]?[1] == "two")
        #expect(value["a"]?[2]?["three"] == .null)
        #expect(value["a"]?[3] == .array([]))
        #expect(value["b"] == .object(JSONObject()))
        #expect(value["missing"] == nil)
        #expect(value["a"]?[9] == nil)
        #expect(try parse("[]") == [])
        #expect(try parse("[[[]]]") == [[[]]])
    }

    @Test func duplicateKeysLastWins() throws {
        let value = try parse(#"{"k": 1, "other": true, "k": "last"}"#)
        #expect(value["k"] == "last")
        #expect(value.objectValue?.members.count == 3)
        #expect(value.objectValue?.dictionary == ["k": "last", "other": true])
        #expect(value == ["other": true, "k": "last"])
    }

    @Test func escapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u20AC""#) == .string("Aé€"))
        #expect(try parse(#""\u003e 5%""#) == .string("> 5%"))
        #expect(try parse(#""\ud83d\ude00 smile""#) == .string("😀 smile"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse(#""plain then \n escaped""#) == .string("plain then \n escaped"))
    }

    @Test func utf8PassesThrough() throws {
        #expect(try parse("\"héllo wörld €𝄞 告警\"") == .string("héllo wörld €𝄞 告警"))
        #expect(try parse("{\"键\": \"值\"}")["键"] == "值")
        // A byte order mark before the document is ignored.
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
    }

    @Test func badEscapes() {
        #expect(failure(#""\x""#)?.message == "invalid escape sequence '\\x' in string")
        #expect(failure(#""\u12""#)?.message == "invalid \\u escape, expected 4 hex digits")
        #expect(failure(#""\u12G4""#)?.message == "invalid \\u escape, expected 4 hex digits")
        #expect(failure(#""\ud83d""#)?.message == "unpaired UTF-16 surrogate in \\u escape")
        #expect(failure(#""\ud83d\u0041""#)?.message == "unpaired UTF-16 surrogate in \\u escape")
        #expect(failure(#""\ude00""#)?.message == "unpaired UTF-16 surrogate in \\u escape")
        #expect(failure(#""abc\"#)?.message == "unterminated escape sequence in string")
    }

    @Test func invalidUTF8() {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22],  // never valid
            [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
            [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-16 surrogate D800
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xC3, 0x22],  // truncated sequence
            [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
            [0x22, 0x80, 0x22],  // lone continuation byte
            [0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22],  // bad continuation after an escape
        ]
        for bytes in cases {
            let error = failure(bytes)
            #expect(error?.message.contains("UTF-8") == true, "\(bytes): \(String(describing: error))")
        }
        #expect(failure([0x22, 0xFF, 0x22])?.offset == 1)
    }

    @Test func controlCharactersMustBeEscaped() {
        #expect(failure("\"a\nb\"")?.message == "unescaped control character 0x0A in string")
        #expect(failure("\"a\tb\"")?.message == "unescaped control character 0x09 in string")
        #expect(failure([0x22, 0x00, 0x22])?.offset == 1)
    }

    @Test func numbersFollowTheGrammar() {
        #expect(failure("01")?.message == "leading zeros are not allowed in numbers")
        #expect(failure("-01")?.message == "leading zeros are not allowed in numbers")
        #expect(failure("1.")?.message == "invalid number, expected a digit after '.'")
        #expect(failure(".5")?.message == "unexpected character '.', expected a value")
        #expect(failure("1e")?.message == "invalid number, expected a digit in the exponent")
        #expect(failure("-")?.message == "unexpected end of input in number")
        #expect(failure("-x")?.message == "invalid number, expected a digit")
        #expect(failure("+1")?.message == "unexpected character '+', expected a value")
        #expect(failure("1e999")?.message == "number 1e999 is out of range")
        #expect(failure("NaN") != nil)
        #expect(failure("Infinity") != nil)
    }

    @Test func literalsAndStructure() {
        #expect(failure("")?.message == "empty input")
        #expect(failure("   ")?.message == "no JSON value, only whitespace")
        #expect(failure("tru")?.message == "unexpected end of input in literal 'true'")
        #expect(failure("nul!")?.message == "invalid literal, expected 'null'")
        #expect(failure("[1,]")?.message == "unexpected character ']', expected a value")
        #expect(failure("[1 2]")?.message == "unexpected character '2' in array, expected ',' or ']'")
        #expect(failure(#"{"a" 1}"#)?.message == "unexpected character '1' after object key, expected ':'")
        #expect(failure(#"{"a":1,}"#)?.message == "unexpected character '}' in object, expected a string key")
        #expect(failure("{a:1}")?.message == "unexpected character 'a' in object, expected a string key")
        #expect(failure("// comment\n1") != nil)
    }

    @Test func trailingGarbage() {
        let error = failure("{} x")
        #expect(error?.message == "unexpected character 'x' after the JSON value")
        #expect(error?.offset == 3)
        #expect(failure("1 2") != nil)
        #expect(failure("[]]") != nil)
        #expect(failure([0x5B, 0x5D, 0x00])?.message == "unexpected byte 0x00 after the JSON value")
    }

    @Test func errorsGiveByteOffsetLineAndColumn() {
        let error = failure("{\n  \"a\": [1,\n    tru]\n}")
        #expect(error?.offset == 20)
        #expect(error?.line == 3)
        #expect(error?.column == 8)
        #expect(error?.description == "malformed JSON at byte 20 (line 3, column 8): invalid literal, expected 'true'")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let open = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        let error = failure(open)
        #expect(error?.message == "nesting deeper than 512 levels")
        #expect(error?.offset == 512)
        let objects = [UInt8](String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(failure(objects)?.message == "nesting deeper than 512 levels")
    }

    @Test func nestingUpToTheLimitParses() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONParser.parse(Array(text.utf8)) }
        let deeper = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(failure(deeper) != nil)
        #expect(throws: Never.self) { try JSONParser.parse(Array(deeper.utf8), maxDepth: 600) }
    }

    /// Every strict prefix of a real payload must throw, never trap or succeed.
    @Test func everyTruncationOfARealPayloadThrows() async throws {
        var bytes = try Fixtures.payload("alertmanager-0.25-1-alert")
        // The captured file ends with a newline; every cut before the closing brace is incomplete.
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        #expect(bytes.count == 1349)
        #expect(throws: Never.self) { try JSONParser.parse(bytes) }
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            #expect(throws: IngestError.self, "prefix of \(length) bytes") { try JSONParser.parse(prefix) }
            #expect(throws: IngestError.self, "prefix of \(length) bytes") { try AlertmanagerAdapter.decode(prefix) }
            if length % 64 == 0 { await Task.yield() }
        }
    }

    /// Corrupting any single byte of a real payload gives a value or an error, never a trap.
    @Test func everySingleByteCorruptionIsHandled() async throws {
        let bytes = try Fixtures.payload("alertmanager-0.25-1-alert")
        var errors = 0
        for position in bytes.indices {
            if position % 32 == 0 { await Task.yield() }
            for replacement: UInt8 in [0x00, 0x22, 0x5C, 0x7B, 0x5D, 0xFF, 0xC3] where bytes[position] != replacement {
                var corrupted = bytes
                corrupted[position] = replacement
                do {
                    _ = try AlertmanagerAdapter.decode(corrupted)
                } catch {
                    errors += 1
                    #expect(error.description.isEmpty == false)
                }
            }
        }
        #expect(errors > bytes.count)
    }

    @Test func truncatedStringNamesTheOffset() throws {
        let bytes = try Fixtures.payload("alertmanager-0.25-1-alert")
        let cut = Array(bytes[..<100])
        let error = failure(cut)
        #expect(error?.offset == 100)
        #expect(error?.message.hasPrefix("unterminated string") == true)
        #expect(error?.description.hasPrefix("malformed JSON at byte 100 (line 1, column 101): unterminated string") == true)
    }

    @Test func parsesTheRealPayloads() throws {
        for name in ["alertmanager-0.25-firing", "alertmanager-0.25-resolved", "alertmanager-0.25-1-alert", "alertmanager-0.25-100-alerts"] {
            let value = try JSONParser.parse(try Fixtures.payload(name))
            #expect(value["version"] == "4", "\(name)")
            // Matches Foundation's reading of the same bytes.
            let foundation = try JSONSerialization.jsonObject(with: Data(try Fixtures.payload(name))) as? [String: Any]
            #expect((foundation?["alerts"] as? [Any])?.count == value["alerts"]?.arrayValue?.count)
        }
    }

    @Test func scalarTextForLabels() {
        #expect(JSONValue.string("a").scalarText == "a")
        #expect(JSONValue.number(4, text: "4").scalarText == "4")
        #expect(JSONValue.bool(true).scalarText == "true")
        #expect(JSONValue.bool(false).scalarText == "false")
        #expect(JSONValue.null.scalarText == nil)
        #expect(JSONValue.array([]).scalarText == nil)
        #expect(JSONValue.number(12.5).scalarText == "12.5")
        #expect(JSONValue.number(4).scalarText == "4")
    }
}
