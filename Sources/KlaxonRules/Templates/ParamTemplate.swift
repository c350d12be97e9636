import Foundation
import KlaxonCore
import Mustache

/// A Mustache template over an alert, parsed once at load time.
///
/// Rendering never HTML-escapes (vendor parameters are plain text) and never fails: an
/// unknown name renders empty, which is why `klaxon check` validates names up front. A
/// template of a JSON document (a webhook's body) escapes what `{{x}}` puts in as the
/// inside of a JSON string: a `"`, `\` or line break in a label or annotation would
/// otherwise make the document invalid, and the vendor refuse the page.
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

    /// How `{{x}}` escapes what it puts in (`{{{x}}}` never does).
    public enum Escaping: Sendable {
        case text
        /// As the inside of a JSON string.
        case jsonString
    }

    private static func pragma(_ escaping: Escaping) -> String {
        switch escaping {
        case .text:
            return "{{% CONTENT_TYPE: TEXT}}"
        case .jsonString:
            registerJSONString
            return "{{% CONTENT_TYPE: \(JSONStringContentType.name)}}"
        }
    }

    private static let registerJSONString: Void = MustacheContentTypes.register(JSONStringContentType(), named: JSONStringContentType.name)

    public struct ParseError: Error, Sendable {
        public var message: String
        public var line: Int
        public var column: Int
    }

    public init(_ source: String, location: SourceLocation, escaping: Escaping = .text) throws(ParseError) {
        self.source = source
        self.location = location
        let pragma = Self.pragma(escaping)
        do {
            self.template = try MustacheTemplate(string: pragma + source)
        } catch let error as MustacheTemplate.ParserError {
            let column =
                error.context.lineNumber == 1
                ? max(1, error.context.columnNumber - pragma.count) : error.context.columnNumber
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

    /// Each tag's name that resolves against the alert, with its character offset in the
    /// source, for `check`. Names inside a section over `labels`, `annotations` or
    /// `recipients` are the keys of its items (`{{#recipients}}{{name}}`) and are left out,
    /// as are section closers, comments and the implicit iterator `.`. Inside any other
    /// section (over a value: `{{^annotations.summary}}`) a name resolves against the alert
    /// as outside, and a typo there would render nothing just the same.
    public var referencedNames: [(name: String, offset: Int)] {
        var names: [(String, Int)] = []
        // Whether each open section's items have keys of their own, and how many do.
        var sections: [Bool] = []
        var depth = 0
        var index = source.startIndex
        while let open = source[index...].range(of: "{{") {
            guard let close = source[open.upperBound...].range(of: "}}") else { break }
            var tag = source[open.upperBound..<close.lowerBound]
            index = close.upperBound
            if tag.hasPrefix("{") { tag = tag.dropFirst() }
            guard let first = tag.first else { continue }
            if first == "/" {
                if sections.popLast() == true { depth -= 1 }
                continue
            }
            if "!%=>".contains(first) { continue }
            let opensSection = first == "#" || first == "^"
            if "#^&".contains(first) { tag = tag.dropFirst() }
            let name = tag.trimmingCharacters(in: .whitespaces)
            if depth == 0 && !name.isEmpty && name != "." {
                names.append((name, source.distance(from: source.startIndex, to: open.lowerBound)))
            }
            if opensSection {
                let keyed = first == "#" && ["labels", "annotations", "recipients"].contains(name)
                sections.append(keyed)
                if keyed { depth += 1 }
            }
        }
        return names
    }

    public func render(_ context: [String: Any]) -> String {
        template.render(context)
    }
}

/// Escapes text as the inside of a JSON string (RFC 8259 §7).
private struct JSONStringContentType: MustacheContentType {
    static let name = "KLAXON_JSON_STRING"

    func escapeText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" || $0.value < 0x20 }) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped.append(contentsOf: #"\""#.unicodeScalars)
            case "\\": escaped.append(contentsOf: #"\\"#.unicodeScalars)
            case "\n": escaped.append(contentsOf: #"\n"#.unicodeScalars)
            case "\r": escaped.append(contentsOf: #"\r"#.unicodeScalars)
            case "\t": escaped.append(contentsOf: #"\t"#.unicodeScalars)
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
