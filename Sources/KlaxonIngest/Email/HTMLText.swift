/// Readable plain text from an HTML body, for mail that has no text/plain alternative.
///
/// Not an HTML parser, a careful tag stripper:
/// - `<script>`, `<style>`, `<head>` (with its `<title>`), comments, `<!DOCTYPE>` and
///   processing instructions are dropped with their content;
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
    private static let droppedTags: Set<String> = ["script", "style", "head", "title", "noscript", "template", "svg"]

    static func text(_ html: String) -> String {
        let scalars = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        out.reserveCapacity(scalars.count / 2)
        var index = 0
        var preDepth = 0
        var pendingSpace = false
        var trailingNewlines = 1

        func newline() {
            out.append("\n")
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
        func emit(_ scalar: Unicode.Scalar) {
            if pendingSpace {
                if trailingNewlines == 0, let last = out.last, last != " " { out.append(" ") }
                pendingSpace = false
            }
            out.append(scalar)
            trailingNewlines = 0
        }

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" {
                // Comment, declaration, processing instruction.
                if starts(scalars, at: index, with: "<!--") {
                    index = find(scalars, "-->", from: index + 4).map { $0 + 3 } ?? scalars.count
                    continue
                }
                if index + 1 < scalars.count, scalars[index + 1] == "!" || scalars[index + 1] == "?" {
                    index = find(scalars, ">", from: index + 2).map { $0 + 1 } ?? scalars.count
                    continue
                }
                guard let tag = readTag(scalars, at: index) else {
                    emit(scalar)
                    index += 1
                    continue
                }
                index = tag.end
                if !tag.isEnd, droppedTags.contains(tag.name), !tag.selfClosing {
                    // Skip to the matching end tag (no nesting for these).
                    index = findEndTag(scalars, tag.name, from: index) ?? scalars.count
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
            if scalar == "&" {
                if let (decoded, end) = entity(scalars, at: index) {
                    for piece in decoded.unicodeScalars {
                        if piece == "\u{A0}" {
                            pendingSpace = true
                        } else {
                            emit(piece)
                        }
                    }
                    index = end
                    continue
                }
                emit(scalar)
                index += 1
                continue
            }
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}" {
                if preDepth > 0 {
                    if scalar == "\r" {
                        if index + 1 < scalars.count, scalars[index + 1] == "\n" { index += 1 }
                        newline()
                    } else if scalar == "\n" {
                        newline()
                    } else {
                        out.append(scalar)
                        trailingNewlines = 0
                    }
                } else {
                    pendingSpace = true
                }
                index += 1
                continue
            }
            emit(scalar)
            index += 1
        }
        return tidy(String(out))
    }

    /// Lines trimmed, runs of blank lines reduced to one, no blank lines at either end.
    static func tidy(_ text: String) -> String {
        var lines: [String] = []
        var blank = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = String(line).trimmingWhitespace()
            if trimmed.isEmpty {
                blank = !lines.isEmpty
                continue
            }
            if blank { lines.append("") }
            blank = false
            lines.append(trimmed)
        }
        return lines.joined(separator: "\n")
    }

    private struct Tag {
        var name: String
        var isEnd: Bool
        var selfClosing: Bool
        var end: Int
    }

    /// The tag at `start` (`<name ...>` or `</name>`), honouring quoted attribute values;
    /// nil when `<` does not start a tag (`a < b`).
    private static func readTag(_ scalars: [Unicode.Scalar], at start: Int) -> Tag? {
        var index = start + 1
        var isEnd = false
        if index < scalars.count, scalars[index] == "/" {
            isEnd = true
            index += 1
        }
        var name = ""
        while index < scalars.count, scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index]) {
            name.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard !name.isEmpty, name.unicodeScalars.first!.isASCII else { return nil }
        var quote: Unicode.Scalar?
        var selfClosing = false
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "\"" || scalar == "'" {
                quote = scalar
            } else if scalar == ">" {
                return Tag(name: name.lowercased(), isEnd: isEnd, selfClosing: selfClosing, end: index + 1)
            } else {
                selfClosing = scalar == "/"
            }
            index += 1
        }
        return Tag(name: name.lowercased(), isEnd: isEnd, selfClosing: selfClosing, end: scalars.count)
    }

    private static func findEndTag(_ scalars: [Unicode.Scalar], _ name: String, from start: Int) -> Int? {
        let target = Array(("</" + name).unicodeScalars)
        var index = start
        while index + target.count <= scalars.count {
            if scalars[index] == "<", index + 1 < scalars.count, scalars[index + 1] == "/" {
                var matches = true
                for offset in 2..<target.count where lower(scalars[index + offset]) != target[offset] {
                    matches = false
                    break
                }
                let after = index + target.count
                if matches, after == scalars.count || !scalars[after].properties.isAlphabetic {
                    return find(scalars, ">", from: after).map { $0 + 1 } ?? scalars.count
                }
            }
            index += 1
        }
        return nil
    }

    private static func lower(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }

    private static func starts(_ scalars: [Unicode.Scalar], at index: Int, with text: String) -> Bool {
        var position = index
        for scalar in text.unicodeScalars {
            guard position < scalars.count, scalars[position] == scalar else { return false }
            position += 1
        }
        return true
    }

    private static func find(_ scalars: [Unicode.Scalar], _ text: String, from start: Int) -> Int? {
        let target = Array(text.unicodeScalars)
        var index = start
        while index + target.count <= scalars.count {
            if scalars[index] == target[0], starts(scalars, at: index, with: text) { return index }
            index += 1
        }
        return nil
    }

    /// The character reference at `start` (`&...;`) and the index after it.
    private static func entity(_ scalars: [Unicode.Scalar], at start: Int) -> (String, Int)? {
        var index = start + 1
        var name = ""
        while index < scalars.count, index - start <= 32, scalars[index] != ";" {
            let scalar = scalars[index]
            guard scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "#" else { return nil }
            name.unicodeScalars.append(scalar)
            index += 1
        }
        guard index < scalars.count, scalars[index] == ";", !name.isEmpty else { return nil }
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
