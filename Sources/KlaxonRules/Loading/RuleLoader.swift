import Foundation
import KlaxonCore
import Yams

/// Reads a rule repository (a directory of YAML files merged in path order, or one file)
/// into a ``RuleRepository``, reporting every problem it finds with its file, line and column.
public struct RuleLoader: Sendable {
    /// What a load produced: the repository when there were no errors, and every diagnostic.
    public struct Result: Sendable {
        public var repository: RuleRepository?
        /// Sorted by path, line and column.
        public var diagnostics: [Diagnostic]

        public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
        public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    }

    /// Whether the load is for `serve` (a missing `${NAME}` is an error) or for `check`
    /// (CI checks rules without secrets, so it is a warning).
    public enum Mode: Sendable {
        case serve
        case check
    }

    public var environment: [String: String]
    public var mode: Mode
    /// Why a provider cannot call a number (nil when it can): the vendors' own rules, which
    /// live with the vendor clients. Given, a person a route's escalation calls whom none
    /// of its providers can call is an error.
    public var numberProblem: (@Sendable (_ phone: String, _ provider: ProviderConfig) -> String?)?

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        mode: Mode = .serve,
        numberProblem: (@Sendable (_ phone: String, _ provider: ProviderConfig) -> String?)? = nil
    ) {
        self.environment = environment
        self.mode = mode
        self.numberProblem = numberProblem
    }

    static let topLevelKeys = [
        "server", "store", "inputs", "providers", "recipients", "groups", "voices", "severities", "escalations", "routes",
    ]

    /// Loads every `*.yaml`/`*.yml` under each path (directories walked in path order).
    public func load(paths: [String]) -> Result {
        let context = LoadContext(environment: environment, missingVariable: mode == .serve ? .error : .warning)
        var documents: [(file: String, root: ConfigNode)] = []
        var files: [String] = []
        for path in paths {
            for file in Self.ruleFiles(at: path, context: context) {
                files.append(file)
                if let root = Self.parse(file: file, context: context) { documents.append((file, root)) }
            }
        }
        let builder = RepositoryBuilder(context: context)
        for document in documents { builder.add(document.root) }
        var repository: RuleRepository? = builder.build(files: files)
        checkNumbers(repository, context: context)
        if context.hasErrors { repository = nil }
        return Result(repository: repository, diagnostics: context.diagnostics.sorted())
    }

    /// Loads rules from YAML text, as if it were the file `name` (tests and tools).
    public func load(yaml: String, name: String = "rules.yaml") -> Result {
        let context = LoadContext(environment: environment, missingVariable: mode == .serve ? .error : .warning)
        let builder = RepositoryBuilder(context: context)
        if let root = Self.parse(text: yaml, file: name, context: context) { builder.add(root) }
        var repository: RuleRepository? = builder.build(files: [name])
        checkNumbers(repository, context: context)
        if context.hasErrors { repository = nil }
        return Result(repository: repository, diagnostics: context.diagnostics.sorted())
    }

    /// Errors in `check`, which CI runs before the rules go out; warnings in `serve`: one
    /// person who cannot be called must not keep klaxon from paging everyone else.
    private func checkNumbers(_ repository: RuleRepository?, context: LoadContext) {
        guard let numberProblem, let repository else { return }
        for var diagnostic in repository.unreachableRecipients(problem: numberProblem) {
            if mode == .serve { diagnostic.severity = .warning }
            context.diagnostics.append(diagnostic)
        }
    }

    static func ruleFiles(at path: String, context: LoadContext) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            context.error(SourceLocation(file: path, line: 1, column: 1), "no such file or directory")
            return []
        }
        guard isDirectory.boolValue else { return [path] }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var files: [String] = []
        for case let relative as String in walker where relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
            // Hidden files and folders are no rules (`.github/workflows/ci.yml`, `.git`).
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            files.append(base + "/" + relative)
        }
        if files.isEmpty {
            context.error(SourceLocation(file: path, line: 1, column: 1), "no *.yaml or *.yml files in this directory")
        }
        return files.sorted()
    }

    static func parse(file: String, context: LoadContext) -> ConfigNode? {
        guard let data = FileManager.default.contents(atPath: file) else {
            context.error(SourceLocation(file: file, line: 1, column: 1), "cannot read file")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            context.error(SourceLocation(file: file, line: 1, column: 1), "file is not valid UTF-8")
            return nil
        }
        return parse(text: text, file: file, context: context)
    }

    static func parse(text: String, file: String, context: LoadContext) -> ConfigNode? {
        do {
            guard let node = try Yams.compose(yaml: text) else { return nil }
            return ConfigNode(node, file: file, context: context)
        } catch let error as YamlError {
            let (mark, message) = describe(error)
            context.error(SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1), "YAML: \(message)")
        } catch {
            context.error(SourceLocation(file: file, line: 1, column: 1), "YAML: \(error)")
        }
        return nil
    }

    private static func describe(_ error: YamlError) -> (Mark?, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _):
            return (mark, [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .parser(let context, let problem, let mark, _):
            return (mark, [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .composer(let context, let problem, let mark, _):
            return (mark, [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return (context.mark, "duplicate key \(keys) in one mapping")
        default:
            return (nil, "\(error)")
        }
    }
}
