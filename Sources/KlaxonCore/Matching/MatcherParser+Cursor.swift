extension MatcherParser {
    /// A position in the input, counted in Unicode scalars so offsets match YAML columns.
    struct Cursor {
        private let scalars: [Unicode.Scalar]
        private(set) var position = 0

        init(_ text: String) {
            scalars = Array(text.unicodeScalars)
        }

        var peek: Unicode.Scalar? { peek(at: 0) }

        func peek(at distance: Int) -> Unicode.Scalar? {
            position + distance < scalars.count ? scalars[position + distance] : nil
        }

        mutating func advance(by count: Int = 1) {
            position = min(position + count, scalars.count)
        }

        mutating func skipWhitespace() {
            while let scalar = peek, scalar.properties.isWhitespace { advance() }
        }

        /// Consumes and returns the longest run of scalars satisfying `predicate`.
        mutating func scan(while predicate: (Unicode.Scalar) -> Bool) -> String {
            var text = String.UnicodeScalarView()
            while let scalar = peek, predicate(scalar) {
                text.append(scalar)
                advance()
            }
            return String(text)
        }

        /// Consumes a double-quoted string at the cursor and returns its unescaped content.
        ///
        /// `\"`, `\\` and `\n` are escapes; a backslash before anything else stays literal,
        /// as in Alertmanager's classic parser, so regexes like `"\d+"` need no doubling.
        mutating func scanQuoted(what: String) throws(MatcherError) -> String {
            let start = position
            advance()  // the opening quote
            var text = String.UnicodeScalarView()
            while let scalar = peek {
                advance()
                switch scalar {
                case "\"":
                    return String(text)
                case "\\":
                    guard let escaped = peek else { break }
                    advance()
                    switch escaped {
                    case "n": text.append("\n")
                    case "\"", "\\": text.append(escaped)
                    default: text.append(contentsOf: ["\\", escaped])
                    }
                default:
                    text.append(scalar)
                }
            }
            throw MatcherError(message: "unterminated quoted \(what)", offset: start)
        }
    }
}
