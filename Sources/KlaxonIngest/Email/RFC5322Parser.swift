/// Parses one RFC 5322 message (with MIME, RFC 2045–2047) into an ``EmailMessage``.
///
/// Contract:
/// - The size is checked first: more than ``EmailLimits/maxBytes`` bytes is
///   ``IngestError/Code/messageTooLarge`` before a single byte is looked at.
/// - Lines may end with CRLF or a bare LF. A leading mbox `From ` line is skipped.
/// - The header section must hold at least one field and end with a blank line; a line in it
///   that is neither `Name: value` nor a folded continuation (binary garbage, a body with no
///   blank line before it), a continuation before any field, or the end of input before the
///   blank line is ``IngestError/Code/malformedMessage`` with the line number.
/// - Header values are unfolded; Subject and From are decoded (RFC 2047 encoded-words, see
///   ``EncodedWords``); 8-bit header bytes are read as UTF-8, else in the charset of the
///   message's Content-Type, else ISO-8859-1.
/// - The body becomes text as ``MIMEParser`` describes: text/plain preferred, HTML made
///   readable, attachments skipped, repairs listed in ``EmailMessage/notes``.
/// - Never traps and never hangs: every loop is bounded by the input, nesting and part counts
///   by ``EmailLimits``.
public enum RFC5322Parser {
    public static func parse(_ bytes: [UInt8], limits: EmailLimits = .default) throws(IngestError) -> EmailMessage {
        guard bytes.count <= limits.maxBytes else {
            throw IngestError(
                code: .messageTooLarge,
                message: "the message is \(bytes.count) bytes, more than the limit of \(limits.maxBytes) bytes"
            )
        }
        let section: HeaderSection
        do {
            section = try HeaderSection.read(
                bytes,
                in: 0..<bytes.count,
                maxFields: limits.maxHeaderFields,
                allowMboxFrom: true,
                requireBlankLine: true
            )
        } catch {
            throw headerError(error, bytes: bytes)
        }
        guard !section.fields.isEmpty else {
            throw IngestError(code: .malformedMessage, message: "the message has no header fields", line: 1)
        }

        // The message's charset, for 8-bit header bytes written in it.
        var charset: String?
        if let raw = section.fields.first(where: { $0.name.lowercased() == "content-type" }) {
            charset = MIMEHeaderValue(HeaderText.decode(raw.value, charset: nil)).parameters["charset"]
        }
        let headers = EmailHeaders(section.fields.map { EmailHeaderField(name: $0.name, value: HeaderText.decode($0.value, charset: charset)) })

        var message = EmailMessage(headers: headers)
        message.subject = EncodedWords.decode(headers["Subject"] ?? "").trimmingWhitespace()
        if let from = headers["From"] {
            message.from = EncodedWords.decode(from).trimmingWhitespace()
            message.fromAddress = MailAddress.first(in: from)
        }
        message.returnPath = headers["Return-Path"].flatMap(MailAddress.returnPath)
        message.messageID = headers["Message-ID"].flatMap { MailAddress.messageIDs(in: $0).first }
        message.inReplyTo = headers["In-Reply-To"].flatMap { MailAddress.messageIDs(in: $0).first }
        message.references = headers.values("References").flatMap(MailAddress.messageIDs(in:))
        message.date = headers["Date"].flatMap(MailDate.parse)

        var mime = MIMEParser(bytes: bytes, limits: limits)
        let body = section.bodyStart..<bytes.count
        if let piece = try mime.text(headers: headers, body: body, depth: 0, path: "") {
            message.text = piece.text
            message.textIsFromHTML = piece.isHTML
            // A multipart declares no charset of its own; a mailer that writes 8-bit subjects
            // (GBK, say) writes them in its text's, which Latin-1 would garble past routing.
            if charset == nil, let partCharset = piece.charset,
                !["utf-8", "utf8", "us-ascii", "ascii"].contains(TextCharset.normalize(partCharset)),
                let raw = section.fields.first(where: { $0.name.lowercased() == "subject" })?.value
            {
                message.subject = EncodedWords.decode(HeaderText.decode(raw, charset: partCharset)).trimmingWhitespace()
            }
        }
        message.skippedAttachments = mime.skipped
        message.notes = mime.notes
        return message
    }

    private static func headerError(_ failure: HeaderSection.Failure, bytes: [UInt8]) -> IngestError {
        switch failure {
        case .notAField(let line):
            return IngestError(
                code: .malformedMessage,
                message: "not a header field (Name: value) and no blank line before it; this is not an RFC 5322 message",
                line: line
            )
        case .continuationFirst(let line):
            return IngestError(code: .malformedMessage, message: "the header section starts with a folded continuation line", line: line)
        case .unterminated(let lines):
            return IngestError(
                code: .malformedMessage,
                message: "the header section never ends: no blank line separates it from a body",
                line: max(1, lines)
            )
        case .tooManyFields(let limit):
            return IngestError(code: .malformedMessage, message: "more than \(limit) header fields")
        }
    }
}
