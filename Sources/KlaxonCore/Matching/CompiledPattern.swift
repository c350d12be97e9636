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
            engine = .regex(try NSRegularExpression(pattern: "\\A(?:" + pattern + ")\\z"))
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
