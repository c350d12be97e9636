import Foundation
import KlaxonCore
import KlaxonIngest
import KlaxonRules
import Testing

/// `inputs.NAME.mapping` for `type: email`.
@Suite struct EmailMappingConfigTests {
    private static let goodInput = """

        inputs:
          zabbix-mail:
            type: email
            mapping:
              senders: [Zabbix@Example.com, "@alerts.example.org"]
              subject_patterns:
                - '^(?:Problem|Resolved[^:]*): (?<alertname>.+?) on (?<host_name>\\S+)$'
              body_patterns: ['Original problem ID: (?<event_id>\\d+)']
              label_keys: [Host, service]
              annotation_keys: [Operational data]
              fields: annotation
              severity_map: {Disaster: critical, High: critical, Average: warning}
              static_labels: {team: ops}
              require_match: true
              dedupe: labels
              dedupe_label: event_id
          plain-mail:
            type: email
          hook:
            type: json
        """

    /// A `severity_map` value no level claims is an error at the value: it would take the
    /// default level, and a disaster would ring the default's escalation, quiet hours and all.
    @Test func aSeverityMapValueNoLevelClaimsIsRefused() {
        let yaml =
            baseRules + """

                severities:
                  default: warning
                  levels:
                    critical: {aliases: [P1]}
                    warning: {}
                inputs:
                  mail:
                    type: email
                    mapping:
                      severity_map: {Disaster: critcal, High: p1, Average: warning}
                  hook:
                    type: json
                    mapping:
                      severity: $.level
                      severity_map: {sev1: Critical, sev3: info}
                """
        #expect(
            errorLines(yaml) == [
                "31:32: inputs.mail.mapping.severity_map.Disaster: no severity level \"critcal\" (did you mean \"critical\"?); use one of critical, warning or an alias",
                "36:44: inputs.hook.mapping.severity_map.sev3: no severity level \"info\"; use one of critical, warning or an alias",
            ]
        )
    }

    @Test func parsesEveryKey() throws {
        let repo = try repository(baseRules + Self.goodInput)
        let mapping = try #require(repo.inputs["zabbix-mail"]?.emailMapping)
        #expect(mapping.senders == ["zabbix@example.com", "@alerts.example.org"])
        #expect(mapping.subjectPatterns.map(\.labelNames) == [["alertname", "host_name"]])
        #expect(mapping.bodyPatterns.map(\.source) == [#"Original problem ID: (?<event_id>\d+)"#])
        #expect(mapping.labelKeys == ["host", "service"])
        #expect(mapping.annotationKeys == ["operational_data"])
        #expect(mapping.fields == .annotation)
        #expect(mapping.severityMap == ["Disaster": "critical", "High": "critical", "Average": "warning"])
        #expect(mapping.staticLabels == ["team": "ops"])
        #expect(mapping.requireMatch)
        #expect(mapping.dedupe == .labels)
        #expect(mapping.dedupeLabel == "event_id")
        #expect(repo.inputs["plain-mail"]?.emailMapping == .default)
        #expect(repo.inputs["hook"]?.emailMapping == nil)
        #expect(repo.inputs["hook"]?.mapping == nil)

        // The loaded mapping drives the adapter.
        let message = """
            From: Zabbix <zabbix@example.com>
            Subject: Problem: Disk full on db-1
            Message-ID: <p1@zabbix.example.com>

            Host: db-1
            Severity: Disaster
            Operational data: 97 %
            Original problem ID: 4711

            """
        let alert = try EmailAdapter.alerts(from: Array(message.utf8), mapping: mapping, input: "zabbix-mail")[0]
        #expect(alert.labels == ["alertname": "Disk full", "host_name": "db-1", "event_id": "4711", "host": "db-1", "team": "ops"])
        #expect(alert.fingerprint == "4711")
        #expect(alert.severity == "critical")
        #expect(alert.annotations["operational_data"] == "97 %")
        #expect(alert.annotations["original_problem_id"] == "4711")
    }

    @Test func badRegexesPointAtThePattern() {
        let lines = errorLines(
            baseRules + """

                inputs:
                  mail:
                    type: email
                    mapping:
                      subject_patterns:
                        - '(?<alertname>unclosed'
                        - ok (?<x>\\w+)
                      body_patterns: "(?<1st>x)"
                """
        )
        #expect(
            lines == [
                #"27:12: inputs.mail.mapping.subject_patterns: bad regex "(?<alertname>unclosed": missing closing )"#,
                #"29:23: inputs.mail.mapping.body_patterns: bad regex "(?<1st>x)": the group name "1st" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"#,
            ]
        )
    }

    @Test func unknownKeysAndValuesSuggestTheClosestName() {
        let lines = errorLines(
            baseRules + """

                inputs:
                  mail:
                    type: email
                    mapping:
                      subjet_patterns: ['x']
                      fields: labels
                      dedupe: thraed
                      senders: [ops@example.com, example.com, "Ops <ops@example.com>"]
                      label_keys: [host, "--"]
                      annotation_keys: [Host]
                      static_labels: {team-name: ops}
                      dedupe_label: bad-name
                      require_match: true
                  am:
                    type: alertmanager
                    mapping: {labels: x}
                """
        )
        #expect(
            lines == [
                #"26:7: unknown key "subjet_patterns" in inputs.mail.mapping (did you mean "subject_patterns"?)"#,
                #"27:15: inputs.mail.mapping.fields: "labels" is not one of ignore, label, annotation (did you mean "label"?)"#,
                #"28:15: inputs.mail.mapping.dedupe: "thraed" is not one of thread, labels (did you mean "thread"?)"#,
                #"29:34: inputs.mail.mapping.senders: "example.com" is neither an address (user@example.com) nor a domain (@example.com)"#,
                #"29:47: inputs.mail.mapping.senders: "Ops <ops@example.com>" is neither an address (user@example.com) nor a domain (@example.com)"#,
                #"30:26: inputs.mail.mapping.label_keys: "--" has no letters or digits to make a label name of"#,
                #"31:25: inputs.mail.mapping.annotation_keys: "Host" is also in label_keys; a body key is either a label or an annotation"#,
                #"32:23: inputs.mail.mapping.static_labels: "team-name" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"#,
                #"33:21: inputs.mail.mapping.dedupe_label: "bad-name" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"#,
                #"34:22: inputs.mail.mapping.require_match: needs subject_patterns or body_patterns to match"#,
                #"37:14: inputs.am.mapping: only inputs of type json or email take a mapping"#,
            ]
        )
    }

    @Test func aDedupeLabelNothingSetsIsAWarning() throws {
        let result = load(
            baseRules + """

                inputs:
                  mail:
                    type: email
                    mapping:
                      subject_patterns: ['(?<alertname>\\w+)']
                      dedupe_label: ticket
                """
        )
        #expect(result.errors.isEmpty)
        #expect(
            result.warnings.filter { $0.message.hasPrefix("inputs.") }.map { "\($0.location.line):\($0.location.column): \($0.message)" } == [
                "27:21: inputs.mail.mapping.dedupe_label: no pattern captures \"ticket\" and no body key becomes it, so the dedupe key always comes from dedupe: thread"
            ]
        )
    }
}
