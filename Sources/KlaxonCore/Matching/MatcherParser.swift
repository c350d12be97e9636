/// Parses Alertmanager's matcher syntax into ``LabelMatcher``s.
///
/// Accepts what both Alertmanager parsers (the classic `pkg/labels` one and the UTF-8
/// `matchers/parse` one of 0.27+) agree on:
///
/// - a matcher is `name op value` with `op` one of `=`, `!=`, `=~`, `!~`, and any whitespace
///   around the three parts;
/// - `name` is a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`), or any non-empty text in
///   double quotes;
/// - `value` is either in double quotes, where `\"`, `\\` and `\n` are escapes and any other
///   backslash is kept as written (so `"\d+"` is the regex `\d+`), or unquoted, running to the
///   next `,` or `}` or the end, with trailing whitespace dropped; it may be empty;
/// - a list is matchers separated by commas, optionally inside `{` `}`, with an optional
///   trailing comma.
///
/// Every error carries the offset, in Unicode scalars, of the exact spot in the input.
public enum MatcherParser {
    /// Parses exactly one matcher, such as `severity=~"critical|page"`.
    public static func parseMatcher(_ text: String) throws(MatcherError) -> LabelMatcher {
        var cursor = Cursor(text)
        cursor.skipWhitespace()
        if cursor.peek == "{" {
            throw MatcherError(message: "a single matcher is written without { }", offset: cursor.position)
        }
        let matcher = try parseOne(&cursor)
        cursor.skipWhitespace()
        if let extra = cursor.peek {
            throw MatcherError(message: "unexpected \(quoted(extra)) after matcher", offset: cursor.position)
        }
        return matcher
    }

    /// Parses a comma-separated list such as `{team="db", env!="staging"}` or `a=b, c!=d,`.
    ///
    /// An empty input, or `{}`, is an empty list.
    public static func parseMatchers(_ text: String) throws(MatcherError) -> [LabelMatcher] {
        var cursor = Cursor(text)
        var matchers: [LabelMatcher] = []
        cursor.skipWhitespace()
        let openBrace = cursor.peek == "{" ? cursor.position : nil
        if openBrace != nil { cursor.advance() }

        while true {
            cursor.skipWhitespace()
            guard let next = cursor.peek else {
                if let openBrace {
                    throw MatcherError(message: "missing } to close the { at offset \(openBrace)", offset: cursor.position)
                }
                return matchers
            }
            if next == "}" {
                guard openBrace != nil else {
                    throw MatcherError(message: "unexpected } without an opening {", offset: cursor.position)
                }
                cursor.advance()
                cursor.skipWhitespace()
                if let extra = cursor.peek {
                    throw MatcherError(message: "unexpected \(quoted(extra)) after }", offset: cursor.position)
                }
                return matchers
            }
            matchers.append(try parseOne(&cursor))
            cursor.skipWhitespace()
            switch cursor.peek {
            case ",":
                cursor.advance()
            case "}", nil:
                break
            case let other?:
                let expected = openBrace == nil ? "," : ", or }"
                throw MatcherError(
                    message: "expected \(expected) after matcher, found \(quoted(other))",
                    offset: cursor.position
                )
            }
        }
    }

    /// Parses `name op value` starting at the cursor (whitespace already skipped) and leaves
    /// the cursor after the value.
    private static func parseOne(_ cursor: inout Cursor) throws(MatcherError) -> LabelMatcher {
        let nameStart = cursor.position
        let name: String
        let isQuotedName = cursor.peek == "\""
        if isQuotedName {
            name = try cursor.scanQuoted(what: "label name")
            if name.isEmpty {
                throw MatcherError(message: "empty label name", offset: nameStart)
            }
        } else {
            name = cursor.scan { !isReserved($0) }
            if name.isEmpty {
                let found = cursor.peek.map { "found \(quoted($0))" } ?? "found end of input"
                throw MatcherError(message: "expected a label name, \(found)", offset: nameStart)
            }
            if !LabelMatcher.isValidLabelName(name) {
                throw MatcherError(message: "invalid label name \(LabelMatcher.quote(name))", offset: nameStart)
            }
        }

        cursor.skipWhitespace()
        let type = try scanOperator(&cursor, after: name)
        cursor.skipWhitespace()

        let valueStart = cursor.position
        let value: String
        let contentStart: Int
        if cursor.peek == "\"" {
            value = try cursor.scanQuoted(what: "value")
            contentStart = valueStart + 1
        } else {
            value = try scanUnquotedValue(&cursor)
            contentStart = valueStart
        }

        // LabelMatcher reports a bad regex at offset 0 of the value; point at the value here.
        do throws(MatcherError) {
            return try LabelMatcher(anyName: name, type: type, value: value)
        } catch {
            throw MatcherError(message: error.message, offset: contentStart + error.offset)
        }
    }

    private static func scanOperator(_ cursor: inout Cursor, after name: String) throws(MatcherError) -> LabelMatcher.MatchType {
        let start = cursor.position
        switch (cursor.peek, cursor.peek(at: 1)) {
        case ("=", "~"):
            cursor.advance(by: 2)
            return .regexMatch
        case ("=", _):
            cursor.advance()
            return .equal
        case ("!", "="):
            cursor.advance(by: 2)
            return .notEqual
        case ("!", "~"):
            cursor.advance(by: 2)
            return .regexNoMatch
        default:
            throw MatcherError(
                message: "expected one of =, !=, =~, !~ after label name \(LabelMatcher.quote(name))",
                offset: start
            )
        }
    }

    /// An unquoted value runs to `,`, `}` or the end; trailing whitespace is not part of it.
    private static func scanUnquotedValue(_ cursor: inout Cursor) throws(MatcherError) -> String {
        var scalars = String.UnicodeScalarView()
        var lengthWithoutTrailingSpace = 0
        while let scalar = cursor.peek, scalar != ",", scalar != "}" {
            if scalar == "\"" {
                throw MatcherError(
                    message: "unexpected \" in unquoted value; put the whole value in double quotes",
                    offset: cursor.position
                )
            }
            scalars.append(scalar)
            if !scalar.properties.isWhitespace { lengthWithoutTrailingSpace = scalars.count }
            cursor.advance()
        }
        return String(String.UnicodeScalarView(scalars.prefix(lengthWithoutTrailingSpace)))
    }

    /// Characters that end an unquoted label name, as in Alertmanager's UTF-8 lexer.
    private static func isReserved(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || "{}!=~,\"'`".unicodeScalars.contains(scalar)
    }

    private static func quoted(_ scalar: Unicode.Scalar) -> String {
        LabelMatcher.quote(String(scalar))
    }
}
