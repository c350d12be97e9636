import Foundation
import KlaxonCore
import Yams

/// Collects diagnostics and the environment while one rule repository loads.
///
/// Used only during a load, on one task; never shared.
final class LoadContext {
    var diagnostics: [Diagnostic] = []
    let environment: [String: String]
    /// `serve` treats a missing `${NAME}` as an error; `check` (CI without secrets) as a warning.
    let missingVariable: Diagnostic.Severity

    init(environment: [String: String], missingVariable: Diagnostic.Severity) {
        self.environment = environment
        self.missingVariable = missingVariable
    }

    func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: location, message))
    }

    func warning(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.warning, at: location, message))
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// A YAML node with the file it came from, read with typed accessors that report
/// every mismatch at the node's own line and column and return nil.
struct ConfigNode {
    let node: Node
    let location: SourceLocation
    let context: LoadContext

    init(_ node: Node, file: String, context: LoadContext) {
        self.node = node
        let mark = node.mark
        self.location = SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
        self.context = context
    }

    private func child(_ node: Node) -> ConfigNode {
        ConfigNode(node, file: location.file, context: context)
    }

    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// True when the scalar was written in quotes; a matcher's offsets shift by one then.
    var isQuoted: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .singleQuoted || scalar.style == .doubleQuoted
    }

    private var kindName: String {
        switch node {
        case .scalar: isNull ? "null" : "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private func mismatch(_ what: String, expected: String) {
        context.error(location, "\(what): expected \(expected), got \(kindName)")
    }

    /// The scalar as written, without `${NAME}` substitution.
    func rawString(_ what: String) -> String? {
        guard case .scalar(let scalar) = node, !isNull else {
            mismatch(what, expected: "a string")
            return nil
        }
        return scalar.string
    }

    /// The scalar with `${NAME}` and `${NAME:-default}` replaced from the environment.
    func string(_ what: String) -> String? {
        guard let raw = rawString(what) else { return nil }
        return substituteEnvironment(in: raw)
    }

    /// A token, password or key: like ``string(_:)``, but empty is an error, since an empty
    /// secret (often a `${NAME}` set to nothing) would let anyone in.
    func secret(_ what: String) -> String? {
        guard let raw = rawString(what) else { return nil }
        let value = substituteEnvironment(in: raw)
        // `klaxon check` runs without the server's environment and warns about what it lacks.
        let unresolvable = raw.contains("${") && context.missingVariable == .warning
        if value.isEmpty && !unresolvable {
            context.error(location, "\(what): is empty (an empty ${NAME}?); a secret needs a value, or leave the key out")
            return nil
        }
        return value
    }

    func int(_ what: String, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = string(what) else { return nil }
        guard let value = Int(text) else {
            context.error(location, "\(what): expected an integer, got \"\(text)\"")
            return nil
        }
        if let range, !range.contains(value) {
            context.error(location, "\(what): \(value) is out of range \(range.lowerBound)–\(range.upperBound)")
            return nil
        }
        return value
    }

    func bool(_ what: String) -> Bool? {
        guard let text = string(what) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            context.error(location, "\(what): expected true or false, got \"\(text)\"")
            return nil
        }
    }

    func duration(_ what: String) -> Duration? {
        guard let text = string(what) else { return nil }
        do {
            return try DurationParser.parse(text)
        } catch {
            context.error(location.advanced(by: (isQuoted ? 1 : 0) + error.offset), "\(what): \(error.message)")
            return nil
        }
    }

    func sequence(_ what: String) -> [ConfigNode]? {
        guard case .sequence(let items) = node else {
            mismatch(what, expected: "a list")
            return nil
        }
        return items.map(child)
    }

    /// A list of strings; a single string is taken as a list of one.
    func stringList(_ what: String) -> [(String, ConfigNode)]? {
        if case .scalar = node, !isNull {
            return string(what).map { [($0, self)] }
        }
        guard let items = sequence(what) else { return nil }
        return items.compactMap { item in item.string(what).map { ($0, item) } }
    }

    /// Secrets (``secret(_:)``) as a list; a single one is taken as a list of one. An empty
    /// list is an error: it would read as "no secret", and let anyone in.
    func secretList(_ what: String) -> [(String, ConfigNode)]? {
        if case .scalar = node, !isNull {
            return secret(what).map { [($0, self)] }
        }
        guard let items = sequence(what) else { return nil }
        if items.isEmpty { context.error(location, "\(what): is an empty list; name at least one, or leave the key out") }
        return items.compactMap { item in item.secret(what).map { ($0, item) } }
    }

    /// A mapping whose keys must be among `keys`; unknown keys are reported with a suggestion.
    func mapping(_ what: String, keys: [String]) -> MappingReader? {
        guard let entries = entries(what) else { return nil }
        var values: [String: (key: SourceLocation, value: ConfigNode)] = [:]
        for entry in entries {
            if keys.contains(entry.key) {
                values[entry.key] = (entry.keyLocation, entry.value)
            } else {
                context.error(entry.keyLocation, "unknown key \"\(entry.key)\" in \(what)\(Suggestion.hint(for: entry.key, in: keys))")
            }
        }
        return MappingReader(node: self, what: what, values: values)
    }

    /// A mapping of free-form names (people, voices, labels...) to values, in file order.
    func entries(_ what: String) -> [(key: String, keyLocation: SourceLocation, value: ConfigNode)]? {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else {
            mismatch(what, expected: "a mapping")
            return nil
        }
        var result: [(key: String, keyLocation: SourceLocation, value: ConfigNode)] = []
        for (key, value) in mapping {
            let keyNode = child(key)
            guard case .scalar(let scalar) = key else {
                context.error(keyNode.location, "\(what): keys must be strings")
                continue
            }
            result.append((scalar.string, keyNode.location, child(value)))
        }
        return result
    }

    /// A mapping of names to strings (labels, headers, value maps).
    func stringMap(_ what: String) -> [String: String]? {
        guard let entries = entries(what) else { return nil }
        var result: [String: String] = [:]
        for entry in entries {
            if let value = entry.value.string("\(what).\(entry.key)") { result[entry.key] = value }
        }
        return result
    }

    private func substituteEnvironment(in text: String) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                result += rest[start.lowerBound...]
                rest = ""
                break
            }
            let reference = rest[start.upperBound..<end]
            let (name, fallback) = Self.splitDefault(reference)
            let column = text.distance(from: text.startIndex, to: start.lowerBound) + (isQuoted ? 1 : 0)
            if name.isEmpty || !name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                context.error(location.advanced(by: column), "invalid environment reference \"${\(reference)}\"")
            } else if let value = context.environment[String(name)], !(value.isEmpty && fallback != nil) {
                // As the shell reads `${NAME:-default}`: set to nothing, it takes the default.
                result += value
            } else if let fallback {
                result += fallback
            } else {
                let message = "environment variable \(name) is not set"
                switch context.missingVariable {
                case .error: context.error(location.advanced(by: column), message)
                case .warning: context.warning(location.advanced(by: column), message)
                }
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// Whether `klaxon check` (which runs without the server's environment and only warns
    /// about it) met a `${NAME}` here that is not set: the value is unknown, so it is not
    /// checked either; serve, which has the environment, checks it.
    var isUnresolvedInCheck: Bool {
        guard context.missingVariable == .warning, case .scalar(let scalar) = node, !isNull, scalar.string.contains("${") else { return false }
        var rest = Substring(scalar.string)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            let (name, fallback) = Self.splitDefault(rest[start.upperBound..<end])
            if fallback == nil, context.environment[String(name)] == nil { return true }
            rest = rest[rest.index(after: end)...]
        }
        return false
    }

    /// The `${NAME}`s (without a default) of the scalar that the environment sets to
    /// nothing: `Bearer ${TOKEN}` is not empty with TOKEN empty, but no credential either.
    func variablesSetEmpty() -> [String] {
        guard case .scalar(let scalar) = node, !isNull, scalar.string.contains("${") else { return [] }
        var names: [String] = []
        var rest = Substring(scalar.string)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            let (name, fallback) = Self.splitDefault(rest[start.upperBound..<end])
            if fallback == nil, context.environment[String(name)] == "" { names.append(String(name)) }
            rest = rest[rest.index(after: end)...]
        }
        return names
    }

    private static func splitDefault(_ reference: Substring) -> (Substring, String?) {
        guard let separator = reference.range(of: ":-") else { return (reference, nil) }
        return (reference[..<separator.lowerBound], String(reference[separator.upperBound...]))
    }
}

/// The known keys of one mapping, looked up by name.
struct MappingReader {
    let node: ConfigNode
    let what: String
    let values: [String: (key: SourceLocation, value: ConfigNode)]

    subscript(key: String) -> ConfigNode? {
        guard let value = values[key]?.value, !value.isNull else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { values[key] != nil }

    func keyLocation(_ key: String) -> SourceLocation? { values[key]?.key }

    /// The value of a key that must be present; reports its absence at the mapping.
    func required(_ key: String) -> ConfigNode? {
        if let value = self[key] { return value }
        node.context.error(node.location, "\(what): missing required key \"\(key)\"")
        return nil
    }
}
