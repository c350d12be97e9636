import Foundation

/// A matcher's regular expression, anchored at both ends and compiled once.
///
/// Patterns that are only literal words joined by `|` (`critical|page`, the most common
/// kind in routing rules) are kept as strings and compared directly, which is much faster
/// than running the regex engine and does not allocate. Everything else goes to
/// `NSRegularExpression` (ICU syntax, close to Go's RE2 for what rules use).
struct CompiledPattern: Sendable {
    private enum Engine: Sendable {
        case literals([String])
        // NSRegularExpression is immutable once made and is Sendable in this Foundation.
        case regex(NSRegularExpression)
    }

    private let engine: Engine

    /// - Throws: ``MatcherError`` at offset 0 whose message names the pattern and the reason.
    init(_ pattern: String) throws(MatcherError) {
        if let literals = Self.literalAlternatives(pattern) {
            engine = .literals(literals)
            return
        }
        do {
            // Compiled alone first so that unbalanced parentheses such as `a)|(b` are an error
            // rather than escaping the anchoring group (Go and Alertmanager accept them).
            _ = try NSRegularExpression(pattern: pattern)
            // \A and \z, not ^ and $: ICU's $ also matches before a final newline, Go's does not.
            engine = .regex(try NSRegularExpression(pattern: "\\A(?:" + Self.dotAsInRE2(pattern) + ")\\z"))
        } catch {
            let reason = Self.diagnose(pattern)
            throw MatcherError(message: "bad regex \(LabelMatcher.quote(pattern)): \(reason)", offset: 0)
        }
    }

    /// Whether the whole of `candidate` matches.
    func matches(_ candidate: String) -> Bool {
        switch engine {
        case .literals(let literals):
            for literal in literals where literal == candidate {
                return true
            }
            return false
        case .regex(let regex):
            let range = NSRange(location: 0, length: candidate.utf16.count)
            return regex.rangeOfFirstMatch(in: candidate, options: [], range: range).location != NSNotFound
        }
    }

    /// `pattern` with each `.` outside a character class written `[^\n]`: RE2's `.` matches
    /// anything but a newline, ICU's also leaves out `\r`, U+0085, U+2028 and U+2029, so a
    /// value ending in `\r` would miss `.*Disk.*`. A pattern that turns on `s` itself
    /// (`(?s)`, `(?is:…)`) is left as written.
    static func dotAsInRE2(_ pattern: String) -> String {
        guard pattern.contains("."), !setsDotAll(pattern) else { return pattern }
        let characters = Array(pattern)
        var result = ""
        var index = 0
        var depth = 0  // inside a character class (ICU nests them)
        // Copies from `index` through the next `first` `second` pair (or to the end).
        func copyThrough(_ first: Character, _ second: Character) {
            var end = index + 2
            while end + 1 < characters.count, !(characters[end] == first && characters[end + 1] == second) { end += 1 }
            let stop = min(characters.count, end + 2)
            result += String(characters[index..<stop])
            index = stop
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count {
                if characters[index + 1] == "Q" {
                    // \Q...\E is literal, dots and all.
                    copyThrough("\\", "E")
                    continue
                }
                result.append(character)
                result.append(characters[index + 1])
                index += 2
                continue
            }
            if depth > 0 {
                if character == "[", index + 1 < characters.count, characters[index + 1] == ":" {
                    // A POSIX class such as [:alpha:], up to its ":]".
                    copyThrough(":", "]")
                    continue
                }
                if character == "[" { depth += 1 }
                if character == "]" { depth -= 1 }
                result.append(character)
                index += 1
                continue
            }
            if character == "[" {
                depth = 1
                result.append(character)
                index += 1
                // A "]" first in the class (after any "^") is literal.
                if index < characters.count, characters[index] == "^" {
                    result.append("^")
                    index += 1
                }
                if index < characters.count, characters[index] == "]" {
                    result.append("]")
                    index += 1
                }
                continue
            }
            result += character == "." ? "[^\\n]" : String(character)
            index += 1
        }
        return result
    }

    /// Whether a flag group (`(?s)`, `(?is:`, not `(?-s)` or a plain `(?:`) turns on `s`.
    private static func setsDotAll(_ pattern: String) -> Bool {
        var rest = Substring(pattern)
        while let open = rest.range(of: "(?") {
            let flags = rest[open.upperBound...].prefix { $0.isLetter || $0 == "-" }
            if flags.prefix { $0 != "-" }.contains("s") { return true }
            rest = rest[open.upperBound...]
        }
        return false
    }

    /// The alternatives when `pattern` has no regex syntax beyond `|`, else nil.
    private static func literalAlternatives(_ pattern: String) -> [String]? {
        for byte in pattern.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            default:
                // Characters that are literal in both RE2 and ICU outside a class.
                guard "_-:/@ ,='\"%&<>!~;|".utf8.contains(byte) else { return nil }
            }
        }
        return pattern.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    }
}
