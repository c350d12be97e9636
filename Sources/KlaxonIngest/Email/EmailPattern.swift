import Foundation
import KlaxonCore

/// A regular expression of an e-mail mapping whose named captures become labels.
///
/// Syntax is ICU's (`NSRegularExpression`), unanchored: the pattern is searched for, and the
/// first match counts. Named groups are written `(?<name>…)`; the name must be a label name
/// (`[a-zA-Z_][a-zA-Z0-9_]*`, so `job_name` works although ICU itself forbids `_` in group
/// names), and `\k<name>` refers back to one. A group that did not take part in the match, or
/// captured only whitespace, sets no label; captured values are trimmed.
public struct EmailPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written in the configuration.
    public let source: String
    /// The label names of the named groups, in the order they appear.
    public let labelNames: [String]
    // NSRegularExpression is immutable once made and is Sendable in this Foundation.
    private let regex: NSRegularExpression
    /// ICU group name → label name.
    private let groups: [(group: String, label: String)]

    /// - Throws: ``IngestError`` with code ``IngestError/Code/invalidPattern``, the pattern in
    ///   ``IngestError/subject`` and the reason in ``IngestError/message``.
    public init(_ source: String) throws(IngestError) {
        let rewritten = try Self.rewriteNamedGroups(source)
        do {
            regex = try NSRegularExpression(pattern: rewritten.pattern)
        } catch {
            throw IngestError(code: .invalidPattern, message: RegexSyntax.explain(rewritten.pattern), subject: source)
        }
        self.source = source
        self.groups = rewritten.groups
        self.labelNames = rewritten.groups.map(\.label)
    }

    public var description: String { source }

    public static func == (lhs: EmailPattern, rhs: EmailPattern) -> Bool { lhs.source == rhs.source }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    /// The labels the first match captures (possibly none), or nil when the pattern does not match.
    public func captures(in text: String) -> [String: String]? {
        let whole = NSRange(text.startIndex..<text.endIndex, in: text)
        guard let match = regex.firstMatch(in: text, options: [], range: whole) else { return nil }
        var labels: [String: String] = [:]
        for (group, label) in groups {
            let range = match.range(withName: group)
            guard range.location != NSNotFound, let swiftRange = Range(range, in: text) else { continue }
            let value = String(text[swiftRange]).trimmingWhitespace()
            if !value.isEmpty, labels[label] == nil { labels[label] = value }
        }
        return labels
    }

    /// Replaces `(?<label_name>` with ICU-legal `(?<kN>` (and `\k<label_name>` likewise), skipping
    /// escapes, `\Q…\E` and character classes.
    private static func rewriteNamedGroups(_ pattern: String) throws(IngestError) -> (pattern: String, groups: [(group: String, label: String)]) {
        let scalars = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var groups: [(group: String, label: String)] = []
        var index = 0
        var classDepth = 0

        func readName(from start: Int) -> (String, Int)? {
            var end = start
            while end < scalars.count, scalars[end] != ">" { end += 1 }
            guard end < scalars.count else { return nil }
            return (String(String.UnicodeScalarView(scalars[start..<end])), end + 1)
        }
        func fail(_ message: String) -> IngestError {
            IngestError(code: .invalidPattern, message: message, subject: pattern)
        }

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\" {
                guard index + 1 < scalars.count else { throw fail("trailing backslash at end of expression") }
                let next = scalars[index + 1]
                if next == "Q" {
                    // Quoted literal text up to \E.
                    var end = index + 2
                    while end + 1 < scalars.count, !(scalars[end] == "\\" && scalars[end + 1] == "E") { end += 1 }
                    end = min(scalars.count, end + 2)
                    out.append(contentsOf: scalars[index..<end])
                    index = end
                    continue
                }
                if next == "k", classDepth == 0, index + 2 < scalars.count, scalars[index + 2] == "<", let (name, end) = readName(from: index + 3) {
                    guard let group = groups.first(where: { $0.label == name })?.group else {
                        throw fail("\\k<\(name)> refers to no earlier group (?<\(name)>…)")
                    }
                    out.append(contentsOf: "\\k<\(group)>".unicodeScalars)
                    index = end
                    continue
                }
                out.append(scalar)
                out.append(next)
                index += 2
                continue
            }
            if scalar == "[" {
                classDepth += 1
                out.append(scalar)
                index += 1
                // A `]` right after `[` or `[^` is a member, not the end.
                if index < scalars.count, scalars[index] == "^" {
                    out.append(scalars[index])
                    index += 1
                }
                if index < scalars.count, scalars[index] == "]" {
                    out.append(scalars[index])
                    index += 1
                }
                continue
            }
            if scalar == "]", classDepth > 0 {
                classDepth -= 1
            } else if scalar == "(", classDepth == 0, index + 2 < scalars.count, scalars[index + 1] == "?" {
                if scalars[index + 2] == "P", index + 3 < scalars.count, scalars[index + 3] == "<" {
                    throw fail("write named groups as (?<name>…), not (?P<name>…)")
                }
                if scalars[index + 2] == "<", index + 3 < scalars.count, scalars[index + 3] != "=", scalars[index + 3] != "!" {
                    guard let (name, end) = readName(from: index + 3) else { throw fail("unterminated group name") }
                    guard LabelMatcher.isValidLabelName(name) else {
                        throw fail("the group name \(IngestError.quote(name)) is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)")
                    }
                    guard !groups.contains(where: { $0.label == name }) else {
                        throw fail("the group name \(IngestError.quote(name)) is used twice")
                    }
                    let group = "k\(groups.count)"
                    groups.append((group, name))
                    out.append(contentsOf: "(?<\(group)>".unicodeScalars)
                    index = end
                    continue
                }
            }
            out.append(scalar)
            index += 1
        }
        return (String(out), groups)
    }
}
