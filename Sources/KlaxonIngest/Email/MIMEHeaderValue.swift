/// A structured MIME header value: `value *(";" name "=" parameter)` as Content-Type and
/// Content-Disposition carry it (RFC 2045 section 5.1, RFC 2183).
///
/// Parameter names are lower-cased; values may be tokens or quoted strings (backslash
/// escapes honoured, unterminated quotes run to the end); `(comments)` outside quotes are
/// ignored. RFC 2231 extended parameters are joined and decoded: `name*0`, `name*1`, … in
/// order, and `name*=charset'lang'percent-encoded`. Nothing here throws: a value that does not
/// parse yields what could be read.
struct MIMEHeaderValue {
    /// The main value, lower-cased and trimmed (`multipart/mixed`, `attachment`).
    var value: String
    var parameters: [String: String]

    init(_ text: String) {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var pieces: [(name: String, value: String)] = []
        var main = ""

        func skipSpaceAndComments() {
            while index < scalars.count {
                let scalar = scalars[index]
                if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
                    index += 1
                } else if scalar == "(" {
                    var depth = 0
                    while index < scalars.count {
                        if scalars[index] == "\\" {
                            index += 2
                            continue
                        }
                        if scalars[index] == "(" { depth += 1 }
                        if scalars[index] == ")" {
                            depth -= 1
                            if depth == 0 {
                                index += 1
                                break
                            }
                        }
                        index += 1
                    }
                } else {
                    return
                }
            }
        }

        func token(stoppingAt stops: Set<Unicode.Scalar>) -> String {
            var out = String.UnicodeScalarView()
            while index < scalars.count, !stops.contains(scalars[index]), scalars[index] != "(" {
                out.append(scalars[index])
                index += 1
            }
            var result = String(out)
            while let last = result.last, last == " " || last == "\t" { result.removeLast() }
            return result
        }

        skipSpaceAndComments()
        main = token(stoppingAt: [";"])
        while index < scalars.count {
            // At ";" or at a comment.
            if scalars[index] == ";" { index += 1 }
            skipSpaceAndComments()
            guard index < scalars.count else { break }
            let name = token(stoppingAt: ["=", ";"]).lowercased()
            skipSpaceAndComments()
            guard index < scalars.count, scalars[index] == "=" else {
                if index < scalars.count, scalars[index] != ";" { index += 1 }
                continue
            }
            index += 1
            skipSpaceAndComments()
            var value = ""
            if index < scalars.count, scalars[index] == "\"" {
                index += 1
                var out = String.UnicodeScalarView()
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    out.append(scalars[index])
                    index += 1
                }
                index += 1
                value = String(out)
                skipSpaceAndComments()
                // Anything up to the next ";" after a quoted string is junk.
                _ = token(stoppingAt: [";"])
            } else {
                value = token(stoppingAt: [";"])
            }
            if !name.isEmpty { pieces.append((name, value)) }
        }
        self.value = main.trimmingWhitespace().lowercased()
        self.parameters = Self.joinExtended(pieces)
    }

    /// Applies RFC 2231: continuations joined in order, `*`-suffixed values percent-decoded.
    private static func joinExtended(_ pieces: [(name: String, value: String)]) -> [String: String] {
        var plain: [String: String] = [:]
        var sections: [String: [(Int, String, Bool)]] = [:]
        for (name, value) in pieces {
            var base = Substring(name)
            var encoded = false
            if base.hasSuffix("*") {
                encoded = true
                base = base.dropLast()
            }
            if let star = base.lastIndex(of: "*"), let number = Int(base[base.index(after: star)...]), number >= 0, number < 1000 {
                sections[String(base[..<star]), default: []].append((number, value, encoded))
            } else if encoded {
                sections[String(base), default: []].append((0, value, true))
            } else if plain[name] == nil {
                plain[name] = value
            }
        }
        for (name, parts) in sections {
            let ordered = parts.sorted { $0.0 < $1.0 }
            var charset: String?
            var bytes: [UInt8] = []
            for (position, (_, value, encoded)) in ordered.enumerated() {
                guard encoded else {
                    bytes += Array(value.utf8)
                    continue
                }
                var text = Substring(value)
                if position == 0 {
                    let quoteParts = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if quoteParts.count == 3 {
                        charset = String(quoteParts[0])
                        text = quoteParts[2]
                    }
                }
                bytes += percentDecoded(text)
            }
            // The extended form wins over a plain parameter of the same name (RFC 2231 section 4).
            plain[name] = TextCharset.decode(bytes, charset: charset).text
        }
        return plain
    }

    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = TransferEncoding.hexValue(bytes[index + 1]), let low = TransferEncoding.hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
