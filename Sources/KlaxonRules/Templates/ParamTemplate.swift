import Foundation
import KlaxonCore
import Mustache

/// A Mustache template over an alert, parsed once at load time.
///
/// Rendering never HTML-escapes (vendor parameters are plain text) and never fails: an
/// unknown name renders empty, which is why `klaxon check` validates names up front.
public struct ParamTemplate: Sendable {
    /// The template as written in the rules.
    public var source: String
    public var location: SourceLocation
    private let template: MustacheTemplate

    /// The names a template may use at its top level.
    public static let variables: [String] = [
        "labels", "annotations", "severity", "status", "startsAt", "endsAt", "count",
        "externalURL", "fingerprint", "generatorURL", "route",
    ]

    private static let pragma = "{{% CONTENT_TYPE: TEXT}}"

    public struct ParseError: Error, Sendable {
        public var message: String
        public var line: Int
        public var column: Int
    }

    public init(_ source: String, location: SourceLocation) throws(ParseError) {
        self.source = source
        self.location = location
        do {
            self.template = try MustacheTemplate(string: Self.pragma + source)
        } catch let error as MustacheTemplate.ParserError {
            let column =
                error.context.lineNumber == 1
                ? max(1, error.context.columnNumber - Self.pragma.count) : error.context.columnNumber
            throw ParseError(message: "template: \(error.error)", line: error.context.lineNumber, column: column)
        } catch {
            throw ParseError(message: "template: \(error)", line: 1, column: 1)
        }
    }

    /// The text outside tags: what every rendering contains at least.
    public var literalText: String {
        var text = ""
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            text += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { return text }
            rest = rest[close.upperBound...]
        }
        return text + rest
    }

    /// Each top-level tag's name with its character offset in the source, for `check`.
    /// Names inside a section are relative to the section's item (`{{#recipients}}{{name}}`)
    /// and are left out, as are section closers, comments and the implicit iterator `.`.
    public var referencedNames: [(name: String, offset: Int)] {
        var names: [(String, Int)] = []
        var depth = 0
        var index = source.startIndex
        while let open = source[index...].range(of: "{{") {
            guard let close = source[open.upperBound...].range(of: "}}") else { break }
            var tag = source[open.upperBound..<close.lowerBound]
            index = close.upperBound
            if tag.hasPrefix("{") { tag = tag.dropFirst() }
            guard let first = tag.first else { continue }
            if first == "/" {
                depth = max(0, depth - 1)
                continue
            }
            if "!%=>".contains(first) { continue }
            let opensSection = first == "#" || first == "^"
            if "#^&".contains(first) { tag = tag.dropFirst() }
            let name = tag.trimmingCharacters(in: .whitespaces)
            if depth == 0 && !name.isEmpty && name != "." {
                names.append((name, source.distance(from: source.startIndex, to: open.lowerBound)))
            }
            if opensSection { depth += 1 }
        }
        return names
    }

    public func render(_ context: [String: Any]) -> String {
        template.render(context)
    }
}
