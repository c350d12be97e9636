import ArgumentParser
import Foundation
import KlaxonProviders
import KlaxonRules

/// `klaxon check [PATH]...`: validates rule repositories for CI.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate rule repositories.",
        discussion: """
            Prints one line per error on stdout as path:line:col: error: message and exits 1;
            warnings go to stderr. Exits 0 when every repository is valid, 2 on usage errors.
            A missing ${NAME} environment variable is a warning here (CI has no secrets).
            """
    )

    @Argument(help: "Rule directories or files (default: rules).")
    var paths: [String] = []

    func run() throws {
        let paths = paths.isEmpty ? ["rules"] : paths
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            StandardError.print("klaxon check: no such file or directory: \(path)")
            throw ExitCode(2)
        }
        let result = RuleLoader(mode: .check, numberProblem: VendorNumbers.numberProblem).load(paths: paths)
        for warning in result.warnings { StandardError.print(warning.description) }
        for error in result.errors { print(error.description) }
        if !result.errors.isEmpty { throw ExitCode(1) }
    }
}
