import Foundation

/// Finds the readable text of a MIME entity (RFC 2045/2046): walks nested multiparts, decodes
/// transfer encodings and charsets, prefers text/plain and falls back to text/html, skips
/// attachments.
///
/// Choices, for a message that has to page someone even when its MIME is damaged:
/// - `multipart/alternative`: the first non-empty text/plain alternative, else the last
///   non-empty other one (RFC 2046 puts the richest last), HTML turned into text.
/// - Any other multipart (`mixed`, `related`, `signed`, `report`, …): the text of its inline
///   children joined by blank lines; when some children are plain text, HTML siblings are left out.
/// - Attachments: a part with `Content-Disposition: attachment`, any non-text part (images,
///   PDFs, `message/rfc822`, signatures), and text parts other than text/plain and text/html.
///   Their names go to ``EmailMessage/skippedAttachments``.
/// - A multipart whose boundary never appears (or that has no boundary parameter) is read as
///   one text/plain part with a note: its text is usually still the alert.
/// - A missing final boundary is tolerated (the last part runs to the end), with a note.
/// - The preamble and epilogue are ignored.
/// - Nesting deeper than ``EmailLimits/maxDepth`` or more than ``EmailLimits/maxParts`` parts is
///   an ``IngestError/Code/malformedMessage``: no real alert mail looks like that.
struct MIMEParser {
    struct Piece {
        var text: String
        var isHTML: Bool
        /// The charset its part declared (for a joined multipart, the first part's).
        var charset: String? = nil
    }

    let bytes: [UInt8]
    let limits: EmailLimits
    private(set) var notes: [String] = []
    private(set) var skipped: [String] = []
    private var partCount = 0

    init(bytes: [UInt8], limits: EmailLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// The text of the entity whose headers are `headers` and whose body is `body`.
    /// `path` names the part in notes (`1.2`; "" for the message itself).
    mutating func text(headers: EmailHeaders, body: Range<Int>, depth: Int, path: String) throws(IngestError) -> Piece? {
        let contentType = MIMEHeaderValue(headers["Content-Type"] ?? "text/plain")
        var mediaType = contentType.value
        if !mediaType.contains("/") { mediaType = "text/plain" }
        let disposition = headers["Content-Disposition"].map(MIMEHeaderValue.init)
        let name = disposition?.parameters["filename"] ?? contentType.parameters["name"]
        let label = path.isEmpty ? "the message body" : "part \(path)"

        if mediaType.hasPrefix("multipart/") {
            return try multipart(mediaType, contentType, body: body, depth: depth, path: path, label: label)
        }
        if disposition?.value == "attachment" || !(mediaType == "text/plain" || mediaType == "text/html") {
            skipped.append(name.map(EncodedWords.decode) ?? mediaType)
            return nil
        }
        let isHTML = mediaType == "text/html"
        var decoded = Array(bytes[body])
        let encoding = MIMEHeaderValue(headers["Content-Transfer-Encoding"] ?? "7bit").value
        switch encoding {
        case "quoted-printable":
            decoded = TransferEncoding.quotedPrintable(decoded).bytes
        case "base64":
            let result = TransferEncoding.base64(decoded)
            decoded = result.bytes
            if result.skipped > 0 {
                notes.append("\(label): skipped \(result.skipped) characters that are not base64")
            }
        case "7bit", "8bit", "binary", "":
            break
        default:
            notes.append("\(label): unknown Content-Transfer-Encoding \(IngestError.quote(encoding)), read as is")
        }
        var charset = contentType.parameters["charset"]
        if charset == nil, isHTML { charset = Self.metaCharset(decoded) }
        // Line ends are normalized on the bytes: CR and LF are never part of a multi-byte
        // sequence in the ASCII-compatible charsets mail uses (UTF-16/32 excepted).
        let wide =
            charset.map { ["utf-16", "utf-32", "ucs-2", "ucs-4", "utf16", "utf32"].contains(where: TextCharset.normalize($0).hasPrefix) } ?? false
        if !wide { decoded = Self.normalizingLineEnds(decoded) }
        let result = TextCharset.decode(decoded, charset: charset)
        if !result.isKnown, let charset {
            notes.append("\(label): unknown charset \(IngestError.quote(charset)), read as UTF-8")
        }
        if result.replacedSequencesLimitReached {
            notes.append("\(label): more than \(TextCharset.maxInvalidSequences) byte sequences invalid in its charset; the rest was dropped")
        }
        let text = wide ? result.text.normalizingLineEnds() : result.text
        if isHTML {
            return Piece(text: HTMLText.text(text), isHTML: true, charset: charset)
        }
        return Piece(text: Self.trimTrailingBlankLines(text), isHTML: false, charset: charset)
    }

    private mutating func multipart(
        _ mediaType: String,
        _ contentType: MIMEHeaderValue,
        body: Range<Int>,
        depth: Int,
        path: String,
        label: String
    ) throws(IngestError) -> Piece? {
        guard depth < limits.maxDepth else {
            throw IngestError(
                code: .malformedMessage,
                message: "multipart nesting deeper than \(limits.maxDepth) levels at \(label)",
                line: lineNumber(at: body.lowerBound)
            )
        }
        guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty else {
            notes.append("\(label): \(mediaType) without a boundary, read as text/plain")
            return asPlainText(body)
        }
        let split = Self.split(bytes, body, boundary: Array(boundary.utf8))
        guard let parts = split.parts else {
            notes.append("\(label): the boundary \(IngestError.quote(boundary)) never appears, read as text/plain")
            return asPlainText(body)
        }
        if !split.closed {
            notes.append("\(label): no closing boundary, the last part runs to the end")
        }
        partCount += parts.count
        guard partCount <= limits.maxParts else {
            throw IngestError(
                code: .malformedMessage,
                message: "more than \(limits.maxParts) MIME parts",
                line: lineNumber(at: body.lowerBound)
            )
        }
        var pieces: [Piece] = []
        for (offset, part) in parts.enumerated() {
            let childPath = path.isEmpty ? "\(offset + 1)" : "\(path).\(offset + 1)"
            let (headers, childBody) = partHeaders(part)
            if let piece = try text(headers: headers, body: childBody, depth: depth + 1, path: childPath),
                !piece.text.trimmingWhitespace().isEmpty
            {
                pieces.append(piece)
            }
        }
        if mediaType == "multipart/alternative" {
            return pieces.first { !$0.isHTML } ?? pieces.last
        }
        let plain = pieces.filter { !$0.isHTML }
        let chosen = plain.isEmpty ? pieces : plain
        guard !chosen.isEmpty else { return nil }
        return Piece(text: chosen.map(\.text).joined(separator: "\n\n"), isHTML: plain.isEmpty, charset: chosen.first?.charset)
    }

    private func asPlainText(_ body: Range<Int>) -> Piece {
        let text = TextCharset.decode(Self.normalizingLineEnds(Array(bytes[body])), charset: nil).text
        return Piece(text: Self.trimTrailingBlankLines(text), isHTML: false)
    }

    /// A part's own headers and its body. Lenient: a part that does not start with header
    /// fields is all body; header fields running to the end without a blank line are headers
    /// with an empty body.
    private func partHeaders(_ part: Range<Int>) -> (EmailHeaders, Range<Int>) {
        let section: HeaderSection
        do {
            section = try HeaderSection.read(bytes, in: part, maxFields: limits.maxHeaderFields, allowMboxFrom: false, requireBlankLine: false)
        } catch {
            return (EmailHeaders(), part)
        }
        let fields = section.fields.map { EmailHeaderField(name: $0.name, value: HeaderText.decode($0.value, charset: nil)) }
        return (EmailHeaders(fields), section.bodyStart..<part.upperBound)
    }

    /// The parts between delimiter lines `--boundary` (RFC 2046 section 5.1.1): nil parts when
    /// no delimiter line appears. A delimiter line may carry trailing whitespace; the line
    /// break before it belongs to the delimiter.
    static func split(_ bytes: [UInt8], _ range: Range<Int>, boundary: [UInt8]) -> (parts: [Range<Int>]?, closed: Bool) {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [Range<Int>] = []
        var partStart: Int?
        var sawDelimiter = false
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            let (contentEnd, next) = HeaderSection.lineEnd(bytes, from: lineStart, limit: range.upperBound)
            if contentEnd - lineStart >= delimiter.count, bytes[lineStart] == UInt8(ascii: "-"),
                bytes[lineStart..<(lineStart + delimiter.count)].elementsEqual(delimiter)
            {
                var rest = lineStart + delimiter.count
                var isClose = false
                if contentEnd - rest >= 2, bytes[rest] == UInt8(ascii: "-"), bytes[rest + 1] == UInt8(ascii: "-") {
                    isClose = true
                    rest += 2
                }
                if bytes[rest..<contentEnd].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = partStart {
                        var end = lineStart
                        if end > start, bytes[end - 1] == 0x0A { end -= 1 }
                        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                        parts.append(start..<max(start, end))
                    }
                    sawDelimiter = true
                    if isClose { return (parts, true) }
                    partStart = next
                }
            }
            lineStart = next
        }
        guard sawDelimiter else { return (nil, false) }
        if let start = partStart { parts.append(start..<max(start, range.upperBound)) }
        return (parts, false)
    }

    /// The 1-based line of a byte offset in the message.
    func lineNumber(at offset: Int) -> Int {
        var line = 1
        for byte in bytes[..<min(offset, bytes.count)] where byte == 0x0A { line += 1 }
        return line
    }

    /// A `<meta charset=...>` or `<meta http-equiv content="...; charset=...">` in the first 2 KiB.
    static func metaCharset(_ html: [UInt8]) -> String? {
        let head = String(decoding: html.prefix(2048), as: UTF8.self).lowercased()
        guard let range = head.range(of: "charset=") else { return nil }
        var name = ""
        for character in head[range.upperBound...].drop(while: { $0 == "\"" || $0 == "'" || $0 == " " }) {
            guard character.isLetter || character.isNumber || character == "-" || character == "_" || character == "." else { break }
            name.append(character)
        }
        return name.isEmpty ? nil : name
    }

    /// CRLF and lone CR turned into LF.
    static func normalizingLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                out.append(0x0A)
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }

    static func trimTrailingBlankLines(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, last == "\n" || last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
