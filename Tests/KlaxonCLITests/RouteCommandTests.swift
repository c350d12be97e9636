import Foundation
import Testing

@Suite struct RouteCommandTests {
    /// `klaxon route --json` output, parsed.
    func route(_ arguments: [String], stdin: Data? = nil) async throws -> [[String: Any]] {
        let output = try await KlaxonProcess.run(["route", "--config", "rules", "--json"] + arguments, stdin: stdin)
        #expect(output.status == 0, "\(output.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return try #require(object?["alerts"] as? [[String: Any]])
    }

    @Test func alertmanagerFiringTakesTheCheckoutRouteWithTheFullPlan() async throws {
        let alerts = try await route(["examples/alerts/alertmanager-firing.json"])
        #expect(alerts.count == 3)
        for alert in alerts {
            #expect(alert["status"] as? String == "firing")
            #expect(alert["severity"] as? String == "critical")
            #expect((alert["labels"] as? [String: String])?["service"] == "checkout")
            let matches = try #require(alert["matches"] as? [[String: Any]])
            #expect(matches.count == 1)
            let match = matches[0]
            #expect(match["route"] as? String == "checkout-critical")
            #expect(match["priority"] as? Int == 1)
            #expect(
                match["dedupe_key"] as? String
                    == "checkout-critical|{}/{oncall=\"voice\"}:{alertname=\"CheckoutHighErrorRate\", service=\"checkout\"}"
            )
            #expect(match["voice"] as? String == "checkout-down")
            #expect(match["params"] as? [String] == ["checkout", "eu-west-1", "3"])
            #expect(match["providers"] as? [String] == ["sim"])
            let steps = try #require(match["escalation"] as? [[String: Any]])
            #expect(steps.map { $0["step"] as? Int } == [1, 2, 3, 4, 5, 6])
            #expect(steps.map { $0["after_seconds"] as? Int } == [0, 600, 1500, 2100, 3000, 3600])
            #expect(steps[0]["recipients"] as? [String] == ["alice", "bob"])
            #expect(steps[1]["recipients"] as? [String] == ["erin"])
        }
    }

    @Test func theJSONShapeIsExactlyTheDocumentedOne() async throws {
        let output = try await KlaxonProcess.run(["route", "--json", "examples/alerts/alertmanager-firing.json"])
        #expect(
            output.stdout.hasPrefix(
                #"{"alerts":[{"status":"firing","labels":{"alertname":"CheckoutHighErrorRate","cluster":"eu-west-1","instance":"10.0.1.17:8080","#
            )
        )
        #expect(output.stdout.contains(#""severity":"critical","matches":[{"route":"checkout-critical","priority":1,"dedupe_key":"#))
        #expect(
            output.stdout.contains(
                #""voice":"checkout-down","params":["checkout","eu-west-1","3"],"providers":["sim"],"escalation":[{"step":1,"after_seconds":0,"recipients":["alice","bob"]},"#
            )
        )
    }

    @Test func resolvedAlertsStillShowTheirRoute() async throws {
        let alerts = try await route(["examples/alerts/alertmanager-resolved.json"])
        #expect(alerts.count == 3)
        #expect(alerts.allSatisfy { $0["status"] as? String == "resolved" })
        #expect(alerts.allSatisfy { (($0["matches"] as? [[String: Any]])?.first?["route"] as? String) == "checkout-critical" })
    }

    @Test func readsStandardInputAndDetectsTheFormat() async throws {
        let body = #"{"labels": {"alertname": "DiskFull", "team": "db", "cluster": "c1", "instance": "db-7", "severity": "P1"}}"#
        let alerts = try await route(["-"], stdin: Data(body.utf8))
        let match = try #require((alerts.first?["matches"] as? [[String: Any]])?.first)
        #expect(alerts.first?["severity"] as? String == "critical")
        #expect(match["route"] as? String == "db-critical")
        #expect(match["dedupe_key"] as? String == "db-critical|alertname=DiskFull,cluster=c1")
        #expect(match["params"] as? [String] == ["db-7", "c1"])
        let steps = try #require(match["escalation"] as? [[String: Any]])
        #expect(steps.map { $0["recipients"] as? [String] } == [["carol"], ["dave"], ["erin"], ["carol"], ["dave"], ["erin"]])
    }

    @Test func droppedSeveritiesAndDroppedRoutesAreMarked() async throws {
        let body =
            #"[{"labels": {"alertname": "Noise", "severity": "info"}}, {"labels": {"alertname": "Watchdog", "severity": "none"}}, {"labels": {"alertname": "Watchdog", "severity": "critical"}}]"#
        let alerts = try await route(["-"], stdin: Data(body.utf8))
        #expect(alerts[0]["dropped"] as? Bool == true)
        #expect((alerts[0]["matches"] as? [Any])?.isEmpty == true)
        #expect(alerts[1]["dropped"] as? Bool == true)
        let watchdog = try #require((alerts[2]["matches"] as? [[String: Any]])?.first)
        #expect(watchdog["route"] as? String == "watchdog")
        #expect(watchdog["dropped"] as? Bool == true)
    }

    @Test func anAlertNoRouteTakesHasNoMatches() async throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-route-\(UUID().uuidString).yaml")
        try """
        providers: {sim: {type: simulator}}
        recipients: {alice: {phone: "+8613700000001"}}
        voices: {v: {text: hi}}
        escalations: {e: {steps: [{after: 0s, notify: [alice]}]}}
        routes:
          - match: {team: db}
            voice: v
            escalation: e
            providers: [sim]
        """.write(to: repo, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: repo) }
        let output = try await KlaxonProcess.run(["route", "--config", repo.path, "--json", "-"], stdin: Data(#"{"labels":{"team":"web"}}"#.utf8))
        #expect(output.stdout == #"{"alerts":[{"status":"firing","labels":{"team":"web"},"severity":"","matches":[]}]}"# + "\n")
    }

    @Test func theTableMasksPhoneNumbers() async throws {
        let output = try await KlaxonProcess.run(["route", "examples/alerts/alertmanager-firing.json"])
        #expect(output.status == 0)
        #expect(output.stdout.contains("route       checkout-critical  priority 1"))
        #expect(output.stdout.contains("alice (+86137****0001), bob (+86137****0002)"))
        #expect(!output.stdout.contains("+8613700000001"))
    }

    @Test func malformedPayloadsExitOneWithThePosition() async throws {
        let output = try await KlaxonProcess.run(["route", "-"], stdin: Data(#"{"alerts": [{"labels": {"a": "b"}, }"#.utf8))
        #expect(output.status == 1)
        #expect(output.stderr.contains("stdin:"))
        #expect(output.stderr.contains("byte"))
    }
}

@Suite struct RouteInputMappingTests {
    func plan(_ input: String, _ file: String) async throws -> [[String: Any]] {
        let output = try await KlaxonProcess.run([
            "route", "--config", "rules", "--config", "examples/inputs/\(input).yaml", "--input", input, "--json", file,
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return try #require(object?["alerts"] as? [[String: Any]])
    }

    @Test func zabbixProblemAndRecoveryLandOnTheSameIncident() async throws {
        let problem = try await plan("zabbix", "examples/alerts/zabbix-problem.json")
        let resolved = try await plan("zabbix", "examples/alerts/zabbix-resolved.json")
        #expect(problem.count == 1 && resolved.count == 1)
        #expect(problem[0]["status"] as? String == "firing")
        #expect(resolved[0]["status"] as? String == "resolved")
        #expect(problem[0]["severity"] as? String == "critical")
        let labels = try #require(problem[0]["labels"] as? [String: String])
        #expect(labels["instance"] == "db-1")
        #expect(labels["source"] == "zabbix")
        let match = try #require((problem[0]["matches"] as? [[String: Any]])?.first)
        #expect(match["route"] as? String == "default")
        #expect(match["dedupe_key"] as? String == "default|8412395")
        #expect(match["params"] as? [String] == ["Free disk space is less than 5% on /var/lib/postgresql", "db-1", "critical"])
        let resolvedMatch = try #require((resolved[0]["matches"] as? [[String: Any]])?.first)
        #expect(resolvedMatch["dedupe_key"] as? String == "default|8412395")
    }

    @Test func grafanaWebhookThroughItsMapping() async throws {
        let alerts = try await plan("grafana", "examples/alerts/grafana-firing.json")
        #expect(alerts.map { $0["status"] as? String } == ["firing", "resolved"])
        let labels = try #require(alerts[0]["labels"] as? [String: String])
        #expect(labels["source"] == "grafana")
        #expect(labels["grafana_org"] == "1")
        let match = try #require((alerts[0]["matches"] as? [[String: Any]])?.first)
        #expect(match["dedupe_key"] as? String == "default|3c8e2b7f0d1a9e54")
        #expect(match["priority"] as? Int == 1)
    }

    @Test func grafanaBodyIsAlsoAcceptedAsAlertmanager() async throws {
        let output = try await KlaxonProcess.run(["route", "--format", "alertmanager", "--json", "examples/alerts/grafana-firing.json"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(
            output.stdout.contains(#""dedupe_key":"default|{}/{team=\"dba\"}:{alertname=\"PostgresReplicationLag\", grafana_folder=\"Databases\"}""#)
        )
    }

    @Test func genericExamplePayload() async throws {
        let output = try await KlaxonProcess.run(["route", "--json", "examples/alerts/generic-firing.json"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains(#""matches":[{"route":"#))
    }

    @Test func anUnknownInputIsAUsageError() async throws {
        let output = try await KlaxonProcess.run(["route", "--input", "nope", "examples/alerts/generic-firing.json"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("no input named \"nope\""))
    }
}

@Suite struct RouteEmailTests {
    func plan(_ file: String) async throws -> [String: Any] {
        let output = try await KlaxonProcess.run([
            "route", "--config", "rules", "--config", "examples/inputs/zabbix-mail.yaml", "--input", "zabbix-mail", "--json", file,
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return try #require((object?["alerts"] as? [[String: Any]])?.first)
    }

    @Test func aZabbixProblemMailAndItsRecoveryShareAnIncident() async throws {
        let problem = try await plan("examples/emails/zabbix-problem.eml")
        let recovery = try await plan("examples/emails/zabbix-recovery.eml")
        #expect(problem["status"] as? String == "firing")
        #expect(recovery["status"] as? String == "resolved")
        #expect(problem["severity"] as? String == "critical")
        #expect((problem["labels"] as? [String: String])?["host"] == "web-07")
        let problemKey = ((problem["matches"] as? [[String: Any]])?.first?["dedupe_key"]) as? String
        let recoveryKey = ((recovery["matches"] as? [[String: Any]])?.first?["dedupe_key"]) as? String
        #expect(problemKey == "default|20260303140212.81327.4f2e@zabbix.example.com")
        #expect(recoveryKey == problemKey)
    }

    @Test func theFormatOfAMailIsDetected() async throws {
        let output = try await KlaxonProcess.run(["route", "--json", "examples/emails/alertmanager-0.25-firing.eml"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains(#""status":"firing""#))
    }
}

extension RouteInputMappingTests {
    /// The shipped Alertmanager mail mapping: every mail of one group is one alert, whatever
    /// order its alerts are listed in, so a second mail does not page again and the
    /// "[RESOLVED]" one resolves what the first opened.
    @Test func alertmanagerMailOfOneGroupIsOneAlertInAnyOrder() async throws {
        let file = "examples/emails/alertmanager-0.25-firing.eml"
        let original = try String(contentsOf: KlaxonProcess.packageRoot.appendingPathComponent(file), encoding: .utf8)
        let swapped = original.replacingOccurrences(of: "db-1", with: "db-X").replacingOccurrences(of: "db-2", with: "db-1")
            .replacingOccurrences(of: "db-X", with: "db-2")
        #expect(swapped != original)
        let reordered = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-am-mail-\(UUID().uuidString).eml")
        try swapped.write(to: reordered, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: reordered) }
        let first = try await plan("alertmanager-mail", file)
        let second = try await plan("alertmanager-mail", reordered.path)
        let key = { (alerts: [[String: Any]]) in (alerts.first?["matches"] as? [[String: Any]])?.first?["dedupe_key"] as? String }
        #expect(key(first) != nil && key(first) == key(second))
        #expect((first.first?["labels"] as? [String: String])?["alertname"] == "DiskFull")
        #expect(first.first?["severity"] as? String == "critical")
    }
}
