/// Readable plain text from an HTML body, for mail that has no text/plain alternative.
///
/// Not an HTML parser, a careful tag stripper:
/// - `<script>`, `<style>`, `<title>`, `<noscript>`, `<template>`, `<svg>`, comments,
///   `<!DOCTYPE>` and processing instructions are dropped with their content. `<head>` is not
///   dropped whole: its end tag is optional (minifiers leave it out), and what it may hold
///   besides those is text-free (`<meta>`, `<link>`, `<base>`);
/// - a dropped element without its end tag ends where the body starts (`</head>`, `<body>`),
///   or, with neither after it, only its tag is dropped: stray CSS in an alert is better than
///   a lost alert text;
/// - `<br>` is a line break; `<tr>`, `<li>`, `<div>` and the other block elements start a new
///   line; `<p>`, `<h1>`–`<h6>`, `<table>`, `<ul>`, `<ol>`, `<hr>`, `<blockquote>` and `<pre>`
///   (opening or closing) start a new paragraph after one blank line; `<td>` and `<th>` are
///   separated by a space;
/// - whitespace runs collapse to one space outside `<pre>`; lines are trimmed and runs of
///   blank lines become one;
/// - character references are decoded: numeric (`&#233;`, `&#xE9;`) and the common named ones
///   (`&amp;`, `&nbsp;`, `&eacute;`, …); an unknown or unterminated one stays as written.
///
/// Linear in the input; an unterminated tag or comment ends the text.
enum HTMLText {
    private static let lineTags: Set<String> = [
        "div", "tr", "li", "section", "article", "header", "footer", "dl", "dt", "dd", "tbody", "thead", "tfoot", "center",
        "address", "form", "caption",
    ]
    private static let paragraphTags: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "blockquote"]
    private static let droppedTags: Set<String> = ["script", "style", "title", "noscript", "template", "svg"]

    static func text(_ html: String) -> String {
        // HTML syntax is ASCII, so the scan runs over UTF-8 bytes; other bytes are copied through.
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        var index = 0
        var preDepth = 0
        var pendingSpace = false
        var trailingNewlines = 1
        // The next occurrence of each tag searched for (nil: none left). The scan only moves
        // forward, so an answer stays right until it is passed, and a run of unterminated
        // `<title>`s stays linear.
        var nextTag: [String: Int?] = [:]
        func findTag(_ prefix: String, from start: Int) -> Int? {
            if let known = nextTag[prefix], known.map({ $0 >= start }) ?? true { return known }
            let found = findTagStart(bytes, prefix, from: start)
            nextTag[prefix] = found
            return found
        }

        func newline() {
            out.append(0x0A)
            trailingNewlines += 1
            pendingSpace = false
        }
        func lineBreak() {
            if trailingNewlines == 0 { newline() }
            pendingSpace = false
        }
        func paragraphBreak() {
            while trailingNewlines < 2 { newline() }
        }
        func emit(_ byte: UInt8) {
            if pendingSpace {
                if trailingNewlines == 0, let last = out.last, last != 0x20 { out.append(0x20) }
                pendingSpace = false
            }
            out.append(byte)
            trailingNewlines = 0
        }

        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                // Comment, declaration, processing instruction.
                if starts(bytes, at: index, with: "<!--") {
                    index = find(bytes, "-->", from: index + 4).map { $0 + 3 } ?? bytes.count
                    continue
                }
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "!") || bytes[index + 1] == UInt8(ascii: "?") {
                    index = find(bytes, ">", from: index + 2).map { $0 + 1 } ?? bytes.count
                    continue
                }
                guard let tag = readTag(bytes, at: index) else {
                    emit(byte)
                    index += 1
                    continue
                }
                index = tag.end
                if !tag.isEnd, droppedTags.contains(tag.name), !tag.selfClosing {
                    // Skip to the matching end tag (no nesting for these).
                    if let end = findTag("</" + tag.name, from: index) {
                        index = find(bytes, ">", from: end).map { $0 + 1 } ?? bytes.count
                    } else if let bodyStart = [findTag("</head", from: index), findTag("<body", from: index)].compactMap({ $0 }).min() {
                        index = bodyStart
                    }
                    continue
                }
                switch tag.name {
                case "br":
                    newline()
                case "td", "th":
                    pendingSpace = true
                case "pre":
                    preDepth = max(0, preDepth + (tag.isEnd ? -1 : 1))
                    paragraphBreak()
                default:
                    if paragraphTags.contains(tag.name) {
                        paragraphBreak()
                    } else if lineTags.contains(tag.name) {
                        lineBreak()
                    }
                }
                continue
            }
            if byte == UInt8(ascii: "&") {
                if let (decoded, end) = entity(bytes, at: index) {
                    for scalar in decoded.unicodeScalars {
                        if scalar == "\u{A0}" || scalar == " " {
                            pendingSpace = true
                        } else {
                            for unit in String(scalar).utf8 { emit(unit) }
                        }
                    }
                    index = end
                    continue
                }
                emit(byte)
                index += 1
                continue
            }
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C {
                if preDepth > 0 {
                    if byte == 0x0D {
                        if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                        newline()
                    } else if byte == 0x0A {
                        newline()
                    } else {
                        out.append(byte)
                        trailingNewlines = 0
                    }
                } else {
                    pendingSpace = true
                }
                index += 1
                continue
            }
            emit(byte)
            index += 1
        }
        return String(decoding: tidy(out), as: UTF8.self)
    }

    /// Lines trimmed (of spaces, tabs and CRs), runs of blank lines reduced to one, no blank
    /// lines at either end.
    static func tidy(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var blank = false
        var lineStart = 0
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var first = lineStart
            var last = lineEnd
            while first < last, bytes[first] == 0x20 || bytes[first] == 0x09 || bytes[first] == 0x0D { first += 1 }
            while last > first, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09 || bytes[last - 1] == 0x0D { last -= 1 }
            if first == last {
                blank = !out.isEmpty
            } else {
                if !out.isEmpty { out.append(0x0A) }
                if blank { out.append(0x0A) }
                blank = false
                out.append(contentsOf: bytes[first..<last])
            }
            lineStart = lineEnd + 1
        }
        return out
    }

    private struct Tag {
        var name: String
        var isEnd: Bool
        var selfClosing: Bool
        var end: Int
    }

    /// The tag at `start` (`<name ...>` or `</name>`), honouring quoted attribute values;
    /// nil when `<` does not start a tag (`a < b`).
    private static func readTag(_ bytes: [UInt8], at start: Int) -> Tag? {
        var index = start + 1
        var isEnd = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            isEnd = true
            index += 1
        }
        let nameStart = index
        guard index < bytes.count, isASCIILetter(bytes[index]) else { return nil }
        while index < bytes.count, isASCIILetter(bytes[index]) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            index += 1
        }
        let name = String(decoding: bytes[nameStart..<index].map(lower), as: UTF8.self)
        var quote: UInt8?
        var selfClosing = false
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                return Tag(name: name, isEnd: isEnd, selfClosing: selfClosing, end: index + 1)
            } else {
                selfClosing = byte == UInt8(ascii: "/")
            }
            index += 1
        }
        return Tag(name: name, isEnd: isEnd, selfClosing: selfClosing, end: bytes.count)
    }

    /// Where the next tag starting with `prefix` (`</title`, `<body`; lower case) is, matched
    /// case-insensitively and only as a whole name (`<bodyx` is not `<body`).
    private static func findTagStart(_ bytes: [UInt8], _ prefix: String, from start: Int) -> Int? {
        let target = Array(prefix.utf8)
        var index = start
        while index + target.count <= bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                var matches = true
                for offset in 1..<target.count where lower(bytes[index + offset]) != target[offset] {
                    matches = false
                    break
                }
                let after = index + target.count
                if matches, after == bytes.count || !isASCIILetter(bytes[after]) { return index }
            }
            index += 1
        }
        return nil
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    private static func starts(_ bytes: [UInt8], at index: Int, with text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return text.withUTF8Buffer { buffer in
            for offset in 0..<count where bytes[index + offset] != buffer[offset] { return false }
            return true
        }
    }

    private static func find(_ bytes: [UInt8], _ text: StaticString, from start: Int) -> Int? {
        let count = text.utf8CodeUnitCount
        return text.withUTF8Buffer { buffer -> Int? in
            var index = start
            while index + count <= bytes.count {
                if bytes[index] == buffer[0] {
                    var matches = true
                    for offset in 1..<max(1, count) where bytes[index + offset] != buffer[offset] {
                        matches = false
                        break
                    }
                    if matches { return index }
                }
                index += 1
            }
            return nil
        }
    }

    /// The character reference at `start` (`&...;`) and the index after it.
    private static func entity(_ bytes: [UInt8], at start: Int) -> (String, Int)? {
        var index = start + 1
        while index < bytes.count, index - start <= 32, bytes[index] != UInt8(ascii: ";") {
            let byte = bytes[index]
            guard isASCIILetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "#") else { return nil }
            index += 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ";"), index > start + 1 else { return nil }
        let name = String(decoding: bytes[(start + 1)..<index], as: UTF8.self)
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value: UInt32?
            if digits.first == "x" || digits.first == "X" {
                value = UInt32(digits.dropFirst(), radix: 16)
            } else {
                value = UInt32(digits)
            }
            guard let value else { return nil }
            let scalar = Unicode.Scalar(value).flatMap { $0.value == 0 ? nil : $0 } ?? "\u{FFFD}"
            return (String(scalar), index + 1)
        }
        guard let named = HTMLEntities.named[name] else { return nil }
        return (named, index + 1)
    }
}
