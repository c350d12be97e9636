import Foundation
import KlaxonCore
import KlaxonRules
import Testing

/// A small valid repository that tests extend with the piece they exercise.
let baseRules = """
    providers:
      sim:
        type: simulator
    recipients:
      alice:
        phone: "+8613700000001"
      bob:
        phone: "+8613700000002"
    groups:
      oncall: [alice, bob]
    voices:
      down:
        text: "{{labels.alertname}} is down"
        params: ["{{labels.instance}}"]
    escalations:
      primary:
        steps:
          - after: 0s
            notify: [group:oncall]
          - after: 10m
            notify: [bob]
    """

func load(_ yaml: String, environment: [String: String] = [:], mode: RuleLoader.Mode = .check) -> RuleLoader.Result {
    RuleLoader(environment: environment, mode: mode).load(yaml: yaml, name: "test.yaml")
}

/// Loads and requires success, printing the diagnostics otherwise.
func repository(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> RuleRepository {
    let result = load(yaml)
    #expect(result.errors.isEmpty, "\(result.errors.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
    return try #require(result.repository, sourceLocation: sourceLocation)
}

/// The error lines as `line:col: message`, without the file name.
func errorLines(_ yaml: String) -> [String] {
    load(yaml).errors.map { "\($0.location.line):\($0.location.column): \($0.message)" }
}

func alert(_ labels: LabelSet, status: AlertStatus = .firing, groupKey: String? = nil) -> Alert {
    Alert(status: status, labels: labels, groupKey: groupKey)
}

let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
