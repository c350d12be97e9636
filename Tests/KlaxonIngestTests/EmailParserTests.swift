import Foundation
import Testing

@testable import KlaxonIngest

@Suite struct EmailParserTests {
    private func parse(_ text: String, limits: EmailLimits = .default) throws(IngestError) -> EmailMessage {
        try RFC5322Parser.parse(Array(text.utf8), limits: limits)
    }

    private func failure(_ text: String, limits: EmailLimits = .default, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        do {
            let message = try parse(text, limits: limits)
            Issue.record("accepted as \(message)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Header section

    @Test func foldedHeadersAreUnfolded() throws {
        let message = try parse(
            "Subject: a long subject\r\n  that was folded\r\n\ttwice\r\nX-Empty:\r\nFrom: ops@example.com\r\nReferences: <a@x>\r\n <b@x>\r\n\t<c@x>\r\n\r\nbody\r\n"
        )
        #expect(message.subject == "a long subject  that was folded\ttwice")
        #expect(message.headers["x-empty"] == "")
        #expect(message.headers["SUBJECT"] == "a long subject  that was folded\ttwice")
        #expect(message.references == ["a@x", "b@x", "c@x"])
        #expect(message.threadRoot == "a@x")
        #expect(message.text == "body")
    }

    @Test func crlfAndBareLFGiveTheSameMessage() throws {
        let lf = "From: ops@example.com\nSubject: Disk\n full\nContent-Type: text/plain\n\nline 1\nline 2\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        let a = try parse(lf)
        let b = try parse(crlf)
        #expect(a.subject == "Disk full")
        #expect(a.text == "line 1\nline 2")
        #expect(a.subject == b.subject)
        #expect(a.text == b.text)
        #expect(a.headers == b.headers)
    }

    @Test func repeatedFieldsKeepEveryValue() throws {
        let message = try parse("Received: one\nReceived: two\nSubject: x\n\n")
        #expect(message.headers.values("received") == ["one", "two"])
        #expect(message.headers["Received"] == "one")
        #expect(message.headers.count == 3)
    }

    @Test func obsoleteWhitespaceBeforeTheColonAndMboxFromLine() throws {
        let message = try parse("From alerts@example.com Tue Mar  3 14:05:09 2026\nSubject : spaced\nFrom: a@example.com\n\nbody")
        #expect(message.subject == "spaced")
        #expect(message.fromAddress == "a@example.com")
    }

    @Test func headerSectionErrorsHaveTheirLine() throws {
        #expect(
            failure("Subject: x\nFrom: y")?.description
                == "malformed message at line 2: the header section never ends: no blank line separates it from a body"
        )
        #expect(
            failure(" folded first\nSubject: x\n\n")?.description
                == "malformed message at line 1: the header section starts with a folded continuation line"
        )
        #expect(failure("\n\nbody only")?.description == "malformed message at line 1: the message has no header fields")
        #expect(failure("")?.code == .malformedMessage)
        #expect(failure("Subject x\n\n")?.line == 1)
        #expect(failure(": no name\n\n")?.line == 1)
        #expect(failure("Sub\u{1}ject: x\n\n")?.line == 1)
        let many = String(repeating: "X-A: b\n", count: 11) + "\n"
        #expect(failure(many, limits: EmailLimits(maxHeaderFields: 10))?.description == "more than 10 header fields")
    }

    @Test func whitespaceOnlyLineEndsTheHeaderSection() throws {
        let message = try parse("Subject: x\n \nbody")
        #expect(message.text == "body")
    }

    @Test func sizeLimitIsExactAndComesFirst() throws {
        let text = "Subject: x\n\n" + String(repeating: "a", count: 88)
        #expect(try parse(text, limits: EmailLimits(maxBytes: 100)).text.count == 88)
        let error = failure(text + "a", limits: EmailLimits(maxBytes: 100))
        #expect(error?.code == .messageTooLarge)
        #expect(error?.description == "the message is 101 bytes, more than the limit of 100 bytes")
    }

    @Test func eightBitHeadersUseTheMessageCharset() throws {
        var bytes = Array("Subject: ".utf8)
        bytes += [0xB4, 0xC5, 0xC5, 0xCC]  // 磁盘 in GBK
        bytes += Array(" full\nContent-Type: text/plain; charset=gbk\n\nx".utf8)
        #expect(try RFC5322Parser.parse(bytes).subject == "磁盘 full")
        // Raw UTF-8 (RFC 6532) is read as UTF-8; other 8-bit bytes without a charset as ISO-8859-1.
        #expect(try parse("Subject: Störung\n\n").subject == "Störung")
        let latin = Array("Subject: St".utf8) + [0xF6] + Array("rung\n\n".utf8)
        #expect(try RFC5322Parser.parse(latin).subject == "Störung")
    }

    // MARK: - Identity fields

    @Test func addressesAndIDs() throws {
        let message = try parse(
            """
            From: "Doe, Jane (Ops)" <Jane.Doe@Example.COM> (comment)
            Return-Path: <bounce+123@mail.example.com>
            Message-ID:   <abc.123@host>  
            In-Reply-To: Your message of Tuesday <root@host> <parent@host>
            References: <root@host>
             <parent@host>
            Date: Tue, 3 Mar 2026 14:05:09 +0800 (CST)


            """
        )
        #expect(message.from == "\"Doe, Jane (Ops)\" <Jane.Doe@Example.COM> (comment)")
        #expect(message.fromAddress == "jane.doe@example.com")
        #expect(message.returnPath == "bounce+123@mail.example.com")
        #expect(message.messageID == "abc.123@host")
        #expect(message.inReplyTo == "root@host")
        #expect(message.references == ["root@host", "parent@host"])
        #expect(message.date?.timeIntervalSince1970 == 1_772_517_909)
        #expect(message.text == "")
    }

    @Test func addressForms() {
        #expect(MailAddress.first(in: "ops@example.com") == "ops@example.com")
        #expect(MailAddress.first(in: "ops@example.com (Ops Team)") == "ops@example.com")
        #expect(MailAddress.first(in: "Ops <ops@example.com>, Other <other@example.com>") == "ops@example.com")
        #expect(MailAddress.first(in: "\"a <fake@evil.example>\" <real@example.com>") == "real@example.com")
        #expect(MailAddress.first(in: "Team: a@example.com, b@example.com;") == "a@example.com")
        #expect(MailAddress.first(in: "<@relay.example:user@example.com>") == "user@example.com")
        #expect(MailAddress.first(in: "undisclosed-recipients:;") == nil)
        #expect(MailAddress.first(in: "") == nil)
        #expect(MailAddress.returnPath("<>") == "")
        #expect(MailAddress.returnPath(" <MAILER-DAEMON@Example.com> ") == "mailer-daemon@example.com")
        #expect(MailAddress.messageIDs(in: "bare@id other@id") == ["bare@id", "other@id"])
        #expect(MailAddress.messageIDs(in: "<unterminated@id") == [])
    }

    @Test func dates() {
        func seconds(_ text: String) -> Double? { MailDate.parse(text)?.timeIntervalSince1970 }
        #expect(seconds("Tue, 03 Mar 2026 14:05:09 +0000") == 1_772_546_709)
        #expect(seconds("3 Mar 2026 14:05:09 +0000") == 1_772_546_709)
        #expect(seconds("Tue, 3 Mar 2026 09:05:09 -0500") == 1_772_546_709)
        #expect(seconds("Tue, 3 Mar 2026 09:05:09 EST") == 1_772_546_709)
        #expect(seconds("Tue, 3 Mar 2026 14:05:09 GMT") == 1_772_546_709)
        #expect(seconds("Tue, 3 Mar 26 14:05 UT") == 1_772_546_700)
        #expect(seconds("Tue, 3 Mar 2026 14:05:09") == 1_772_546_709)
        #expect(seconds("Thu, 29 Feb 2024 00:00:00 +0000") == 1_709_164_800)
        #expect(seconds("Mon, 1 Jan 1900 00:00:00 +0000") == -2_208_988_800)
        #expect(seconds("yesterday") == nil)
        #expect(seconds("Tue, 3 Foo 2026 14:05:09 +0000") == nil)
        #expect(seconds("Tue, 3 Mar 2026 25:05:09 +0000") == nil)
        #expect(seconds("Tue, 3 Mar 2026 14:05:09 +08") == nil)
        #expect(seconds("") == nil)
    }

    // MARK: - MIME

    @Test func contentTypeParameters() {
        let value = MIMEHeaderValue(#"Multipart/Mixed; boundary="a \"quoted\" (b)"; charset=UTF-8 (comment); x=y"#)
        #expect(value.value == "multipart/mixed")
        #expect(value.parameters["boundary"] == #"a "quoted" (b)"#)
        #expect(value.parameters["charset"] == "UTF-8")
        #expect(value.parameters["x"] == "y")
        let continued = MIMEHeaderValue("attachment; filename*0*=UTF-8''r%C3%A9; filename*1=sum%; filename*2*=%C3%A9.txt; filename=fallback.txt")
        #expect(continued.value == "attachment")
        #expect(continued.parameters["filename"] == "résum%é.txt")
        #expect(MIMEHeaderValue("").value == "")
        #expect(MIMEHeaderValue("text/plain; charset=\"unterminated").parameters["charset"] == "unterminated")
        #expect(MIMEHeaderValue(";;=;a;b=;(").parameters == ["b": ""])
    }

    @Test func alternativePrefersPlainTextWhereverItIs() throws {
        let html = """
            From: a@example.com
            Subject: x
            Content-Type: multipart/alternative; boundary=XX

            --XX
            Content-Type: text/html

            <p>html version</p>
            --XX
            Content-Type: text/plain

            plain version
            --XX--
            """
        let message = try parse(html)
        #expect(message.text == "plain version")
        #expect(!message.textIsFromHTML)
    }

    @Test func htmlOnlyBodyBecomesText() throws {
        let message = try parse(
            """
            From: a@example.com
            Subject: x
            Content-Type: text/html

            <html><head><title>T</title><style>p {color: red}</style></head><body>
            <h1>Disk&nbsp;full</h1><p>host: db-1<br>used: 93&#37; &amp; rising</p>
            <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
            <ul><li>one</li><li>two</li></ul><script>alert("x")</script><!-- hidden --></body></html>
            """
        )
        #expect(message.textIsFromHTML)
        #expect(message.text == "Disk full\n\nhost: db-1\nused: 93% & rising\n\na b\n1 2\n\none\ntwo")
    }

    @Test func htmlEdgeCases() {
        #expect(HTMLText.text("a < b and c > d") == "a < b and c > d")
        #expect(HTMLText.text("<a href=\"x>y\">link</a> text") == "link text")
        #expect(HTMLText.text("&unknown; &#x41;&#66;&#0; &amp") == "&unknown; AB\u{FFFD} &amp")
        #expect(HTMLText.text("<pre>  keep\n    indent</pre>after") == "keep\nindent\n\nafter")
        #expect(HTMLText.text("<SCRIPT type=x>if (a<b) {}</SCRIPT >visible") == "visible")
        // No end tag and no body after it: the text is kept rather than lost.
        #expect(HTMLText.text("<script>never closed") == "never closed")
        #expect(HTMLText.text("<!-- never closed") == "")
        #expect(HTMLText.text("<p") == "")
        #expect(HTMLText.text("") == "")
    }

    @Test func partsWithoutHeadersOrBlankLines() throws {
        let message = try parse(
            """
            From: a@example.com
            Subject: x
            Content-Type: multipart/mixed; boundary=b

            --b

            part with no headers
            --b
            Content-Type: text/plain
            --b
            no header fields here
            second line
            --b--
            """
        )
        #expect(message.text == "part with no headers\n\nno header fields here\nsecond line")
    }

    @Test func boundaryMustBeAWholeLine() throws {
        let message = try parse(
            """
            From: a@example.com
            Subject: x
            Content-Type: multipart/mixed; boundary=b

            preamble --b
            --b\t
            Content-Type: text/plain

            text mentioning
            --bb is not a boundary
            --b--trailing
            --b--   
            epilogue
            """
        )
        #expect(message.text == "text mentioning\n--bb is not a boundary\n--b--trailing")
        #expect(message.notes.isEmpty)
    }

    @Test func nonTextPartsAndAttachmentsAreSkipped() throws {
        let message = try parse(
            """
            From: a@example.com
            Subject: x
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain

            the body
            --b
            Content-Type: text/plain
            Content-Disposition: attachment; filename="=?UTF-8?Q?log=C3=A9.txt?="

            attached text
            --b
            Content-Type: message/rfc822

            Subject: forwarded

            forwarded body
            --b
            Content-Type: text/calendar; name=invite.ics

            BEGIN:VCALENDAR
            --b--
            """
        )
        #expect(message.text == "the body")
        #expect(message.skippedAttachments == ["logé.txt", "message/rfc822", "invite.ics"])
    }

    @Test func tooManyPartsIsMalformed() throws {
        var text = "From: a@example.com\nSubject: x\nContent-Type: multipart/mixed; boundary=b\n\n"
        for _ in 0..<20 { text += "--b\n\npart\n" }
        let error = failure(text, limits: EmailLimits(maxParts: 10))
        #expect(error?.code == .malformedMessage)
        #expect(error?.description == "malformed message at line 5: more than 10 MIME parts")
    }

    @Test func multipartWithoutBoundaryAndUnknownTransferEncoding() throws {
        let message = try parse("From: a@example.com\nSubject: x\nContent-Type: multipart/mixed\nContent-Transfer-Encoding: x-uuencode\n\nplain")
        #expect(message.text == "plain")
        #expect(message.notes == ["the message body: multipart/mixed without a boundary, read as text/plain"])
        let other = try parse("From: a@example.com\nSubject: x\nContent-Transfer-Encoding: x-uuencode\n\nplain")
        #expect(other.notes == ["the message body: unknown Content-Transfer-Encoding \"x-uuencode\", read as is"])
        #expect(other.text == "plain")
    }

    @Test func htmlCharsetFromMetaWhenTheHeaderHasNone() throws {
        var bytes = Array("From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<meta charset=\"gb2312\"><p>".utf8)
        bytes += [0xB4, 0xC5, 0xC5, 0xCC]
        bytes += Array("</p>".utf8)
        #expect(try RFC5322Parser.parse(bytes).text == "磁盘")
    }
}
