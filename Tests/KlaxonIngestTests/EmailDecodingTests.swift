import Foundation
import Testing

@testable import KlaxonIngest

/// Encoded-words, transfer encodings and charsets.
@Suite struct EmailDecodingTests {
    // MARK: - RFC 2047

    @Test func encodedWordsBAndQ() {
        #expect(EncodedWords.decode("=?UTF-8?B?ZGlzayBmdWxs?=") == "disk full")
        #expect(EncodedWords.decode("=?utf-8?q?disk_full_=E2=80=94_db-1?=") == "disk full — db-1")
        #expect(EncodedWords.decode("=?ISO-8859-1?Q?St=F6rung?= auf db-1") == "Störung auf db-1")
        #expect(EncodedWords.decode("plain text") == "plain text")
        #expect(EncodedWords.decode("=?UTF-8*en?Q?with_language?=") == "with language")
    }

    @Test func adjacentWordsAreJoinedWithoutTheWhitespaceBetweenThem() {
        #expect(EncodedWords.decode("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") == "ab")
        #expect(EncodedWords.decode("=?UTF-8?Q?a?=\r\n\t=?UTF-8?Q?b?=") == "ab")
        #expect(EncodedWords.decode("=?UTF-8?Q?a?= b =?UTF-8?Q?c?=") == "a b c")
        #expect(EncodedWords.decode("x =?UTF-8?Q?a?=  y") == "x a  y")
        // A multi-byte character split across two words: the bytes are joined before decoding.
        let euro = [UInt8]("€".utf8)
        let first = Data(euro[0..<1]).base64EncodedString()
        let second = Data(euro[1...]).base64EncodedString()
        #expect(EncodedWords.decode("=?UTF-8?B?\(first)?= =?UTF-8?B?\(second)?=") == "€")
    }

    @Test func mixedCharsets() {
        let gbk = Data([0xB4, 0xC5, 0xC5, 0xCC]).base64EncodedString()  // 磁盘
        let big5 = "=BA=CF=BA=D0"  // 磁碟
        #expect(EncodedWords.decode("=?GBK?B?\(gbk)?= =?Big5?Q?\(big5)?= =?iso-8859-1?q?=E9?=") == "磁盘磁碟é")
        #expect(EncodedWords.decode("=?gb2312?B?\(gbk)?=") == "磁盘")
        #expect(EncodedWords.decode("=?GB18030?B?\(gbk)?=") == "磁盘")
    }

    @Test func malformedWordsAreLeftAsWritten() {
        for text in [
            "=?UTF-8?B?not base64!?=", "=?UTF-8?X?abc?=", "=?UTF-8?Q?unterminated", "=?UTF-8?Q?a b?=", "=??Q?a?=", "=?UTF-8?Q",
            "=?x-klingon?Q?a?=", "=?", "=?UTF-8?B?", "==??==",
        ] {
            #expect(EncodedWords.decode(text) == text, "\(text)")
        }
        #expect(EncodedWords.decode("=?x-klingon?Q?a?= =?UTF-8?Q?b?=") == "=?x-klingon?Q?a?= b")
        #expect(EncodedWords.decode("=?UTF-8?Q?=ZZ=4?=") == "=ZZ=4")
    }

    @Test func wordCountIsBounded() {
        let many = Array(repeating: "=?UTF-8?Q?a?=", count: EncodedWords.maxWords + 3).joined(separator: " ")
        let decoded = EncodedWords.decode(many)
        #expect(decoded.hasPrefix(String(repeating: "a", count: EncodedWords.maxWords) + " =?UTF-8?Q?a?="))
    }

    // MARK: - Transfer encodings

    @Test func quotedPrintable() {
        func qp(_ text: String) -> String { String(decoding: TransferEncoding.quotedPrintable(Array(text.utf8)).bytes, as: UTF8.self) }
        #expect(qp("a=3Db") == "a=b")
        #expect(qp("lower =c3=a9") == "lower é")
        #expect(qp("soft=\r\nbreak") == "softbreak")
        #expect(qp("soft=\nbreak") == "softbreak")
        #expect(qp("soft=  \t\r\nbreak") == "softbreak")
        #expect(qp("at the end=") == "at the end")
        #expect(qp("trailing   \r\nspace\t\nend  ") == "trailing\r\nspace\nend")
        #expect(qp("kept=20\r\n") == "kept \r\n")
        #expect(qp("bad=G1 =4") == "bad=G1 =4")
        #expect(qp("= x") == "= x")
        #expect(qp("") == "")
    }

    @Test func base64SkipsJunkAndToleratesTruncation() {
        func b64(_ text: String) -> (String, Int) {
            let result = TransferEncoding.base64(Array(text.utf8))
            return (String(decoding: result.bytes, as: UTF8.self), result.skipped)
        }
        #expect(b64("aGVsbG8gd29ybGQ=") == ("hello world", 0))
        #expect(b64("aGVs\r\nbG8g\r\nd29y\r\nbGQ=") == ("hello world", 0))
        #expect(b64("aGVs!!bG8g*d29y#bGQ=") == ("hello world", 4))
        #expect(b64("aGVsbG8gd29ybGQ") == ("hello world", 0))
        #expect(b64("aGVsbG8gd29ybG") == ("hello worl", 0))
        #expect(b64("aGVsbG8gd29ybGQ=aGk=") == ("hello worldhi", 0))
        #expect(b64("a") == ("", 0))
        #expect(b64("") == ("", 0))
    }

    // MARK: - Charsets

    @Test func charsets() {
        func decode(_ bytes: [UInt8], _ charset: String?) -> (String, Bool) {
            let result = TextCharset.decode(bytes, charset: charset)
            return (result.text, result.isKnown)
        }
        #expect(decode(Array("é".utf8), "UTF-8") == ("é", true))
        #expect(decode(Array("é".utf8), nil) == ("é", true))
        #expect(decode([0xE9], "\"ISO-8859-1\"") == ("é", true))
        #expect(decode([0xE9], "latin1") == ("é", true))
        #expect(decode(Array("é".utf8), "us-ascii") == ("é", true))
        #expect(decode([0xE9], "us-ascii") == ("é", true))
        #expect(decode([0xB4, 0xC5, 0xC5, 0xCC], "GB2312") == ("磁盘", true))
        #expect(decode([0xB4, 0xC5, 0xC5, 0xCC], "gbk") == ("磁盘", true))
        #expect(decode([0x81, 0x30, 0x81, 0x30], "GB18030") == ("\u{80}", true))
        #expect(decode([0xBA, 0xCF, 0xBA, 0xD0], "big5") == ("磁碟", true))
        #expect(decode([0xE4], "windows-1252") == ("ä", true))
        #expect(decode([0x82, 0xA0], "Shift_JIS") == ("あ", true))
        // Bad bytes become U+FFFD and decoding goes on; a truncated sequence at the end too.
        #expect(decode([0x41, 0xFF, 0x42], "gbk") == ("A\u{FFFD}B", true))
        #expect(decode([0x41, 0xB4], "gbk") == ("A\u{FFFD}", true))
        #expect(decode(Array("ok".utf8) + [0xFF], "x-klingon") == ("ok\u{FFFD}", false))
        #expect(decode([0x41], "UTF-8//TRANSLIT") == ("A", false))
        // Longer than one iconv output chunk.
        let long: [UInt8] = (0..<6000).map { $0 % 2 == 0 ? 0xB4 : 0xC5 }
        #expect(decode(long, "gbk").0 == String(repeating: "磁", count: 3000))
    }

    // MARK: - HTML

    /// `</head>` is optional in HTML5 and minifiers drop it; the body must survive.
    @Test func htmlWithoutItsHeadEndTagKeepsTheBody() throws {
        let minified = "<html><head><meta charset=utf-8><body><p>Disk full on db1 Severity: Disaster"
        #expect(HTMLText.text(minified) == "Disk full on db1 Severity: Disaster")
        #expect(HTMLText.text("<head><title>Alert</title><link rel=stylesheet href=x.css><p>Disk full") == "Disk full")
        // Head children without their end tags end where the body starts.
        #expect(HTMLText.text("<head><title>Alert<style>p {color: red}</head><p>Disk full") == "Disk full")
        #expect(HTMLText.text("<HEAD><STYLE>p {color: red}<BODY class=x><p>Disk full</p>") == "Disk full")
        #expect(HTMLText.text("<style>p {}<bodyx>kept</style>text") == "text")
        // With no body after it, an unterminated element's text is kept.
        #expect(HTMLText.text("<p>Disk full</p><title>on db1") == "Disk full\n\non db1")

        let message = try RFC5322Parser.parse(Array("From: z@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n\(minified)\r\n".utf8))
        #expect(message.text == "Disk full on db1 Severity: Disaster")
    }

    /// Unterminated dropped tags are searched for once, not once per tag.
    @Test func unterminatedDroppedTagsStayLinear() {
        let hostile = String(repeating: "<title>x</head>", count: 60_000) + "end"
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(HTMLText.text(hostile) == "end") }
        #expect(elapsed < .seconds(2))
    }
}
