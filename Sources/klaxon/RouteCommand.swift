import ArgumentParser
import Foundation
import KlaxonCore
import KlaxonIngest
import KlaxonRules

/// `klaxon route`: the dry run. Shows for each alert of a payload the route, severity,
/// priority, dedupe key, voice, params and escalation plan, without calling anyone.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show who would be called for an alert payload (dry run)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case alertmanager, json, email
    }

    @Option(help: "Rule directory or file; repeat to merge several (default: rules).")
    var config: [String] = []

    private var configPaths: [String] { config.isEmpty ? ["rules"] : config }

    @Option(help: "Apply this input's type and mapping from the rules.")
    var input: String?

    @Option(help: "Payload format (default: detected from the payload).")
    var format: Format?

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Argument(help: "Payload file, or - for standard input.")
    var file: String = "-"

    func validate() throws {
        if input != nil && format != nil { throw ValidationError("give --input or --format, not both") }
    }

    func run() throws {
        for path in configPaths where !FileManager.default.fileExists(atPath: path) {
            StandardError.print("klaxon route: no such file or directory: \(path)")
            throw ExitCode(2)
        }
        let loaded = RuleLoader(mode: .check).load(paths: configPaths)
        for warning in loaded.warnings { StandardError.print(warning.description) }
        guard let repository = loaded.repository else {
            for error in loaded.errors { StandardError.print(error.description) }
            throw ExitCode(1)
        }
        let bytes = try readPayload()
        let alerts: [Alert]
        do {
            alerts = try decode(bytes, repository: repository)
        } catch let error as IngestError {
            StandardError.print("klaxon route: \(file == "-" ? "stdin" : file): \(error)")
            throw ExitCode(1)
        }
        let plans = AlertPlanner(repository: repository).plan(alerts)
        for plan in plans {
            for match in plan.matches { for warning in match.warnings { StandardError.print("warning: \(warning)") } }
        }
        print(json ? RouteOutput.json(plans) : RouteOutput.table(plans), terminator: "")
    }

    private func readPayload() throws -> [UInt8] {
        if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file) else {
            StandardError.print("klaxon route: cannot read \(file)")
            throw ExitCode(2)
        }
        return Array(data)
    }

    private func decode(_ bytes: [UInt8], repository: RuleRepository) throws -> [Alert] {
        var kind: AlertSource.Kind
        var mapping: FieldMapping?
        var emailMapping = EmailMapping.default
        var inputName = "default"
        if let input {
            guard let config = repository.inputs[input] else {
                StandardError.print("klaxon route: no input named \"\(input)\" in \(configPaths.joined(separator: ", "))")
                throw ExitCode(2)
            }
            kind = config.type
            mapping = config.mapping
            emailMapping = config.emailMapping ?? .default
            inputName = input
        } else if let format {
            kind = AlertSource.Kind(rawValue: format.rawValue)!
        } else {
            kind = AlertSource.Kind(rawValue: PayloadFormat.detect(bytes).rawValue) ?? .json
        }
        switch kind {
        case .alertmanager:
            return try AlertmanagerAdapter.alerts(from: bytes, input: inputName)
        case .json:
            return try GenericJSONAdapter.alerts(from: bytes, mapping: mapping, input: inputName)
        case .email:
            return try EmailAdapter.alerts(from: bytes, mapping: emailMapping, input: inputName)
        }
    }
}
