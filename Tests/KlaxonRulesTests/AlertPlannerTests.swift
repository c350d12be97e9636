import Foundation
import KlaxonCore
import KlaxonRules
import Testing

@Suite struct AlertPlannerTests {
    @Test func planCarriesPriorityDedupeKeyParamsAndUnrolledSteps() throws {
        let repo = try repository(
            baseRules.replacingOccurrences(of: "        notify: [bob]", with: "        notify: [bob]\n    repeat: 1\n    repeat_after: 5m")
                + """

                routes:
                  - name: db
                    match: {team: db}
                    voice: down
                    escalation: primary
                    providers: [sim]
                    priority: 2
                    dedupe: {by: [cluster]}
                """
        )
        let planner = AlertPlanner(repository: repo)
        let plans = planner.plan([
            alert(["team": "db", "cluster": "eu", "instance": "db-1", "alertname": "Down"]),
            alert(["team": "db", "cluster": "eu", "instance": "db-2", "alertname": "Down"]),
        ])
        let match = try #require(plans[0].matches.first)
        #expect(match.route == "db")
        #expect(match.priority == 2)
        #expect(match.dedupeKey == "db|cluster=eu")
        #expect(match.params == ["db-1"])
        #expect(match.providers == ["sim"])
        #expect(match.steps.map(\.step) == [1, 2, 3, 4])
        #expect(match.steps.map(\.after) == [.zero, .seconds(600), .seconds(900), .seconds(1500)])
        #expect(match.steps[0].recipients.map(\.name) == ["alice", "bob"])
        #expect(match.steps[1].recipients.map(\.name) == ["bob"])
        #expect(plans[1].matches[0].dedupeKey == match.dedupeKey)
    }

    /// Label values are escaped in the key, so two label sets cannot spell the same key;
    /// values without `,` or `\\` keep the key they always had.
    @Test func dedupeKeysOfDifferentValuesNeverCollide() throws {
        let repo = try repository(
            baseRules
                + """

                routes:
                  - name: r
                    voice: down
                    escalation: primary
                    providers: [sim]
                    dedupe: {by: [alertname, instance]}
                """
        )
        let planner = AlertPlanner(repository: repo)
        let keys = planner.plan([
            alert(["alertname": "X", "instance": "a,instance=b"]),
            alert(["alertname": "X,instance=a", "instance": "b"]),
            alert(["alertname": "X", "instance": #"a\"#]),
            alert(["alertname": "X", "instance": "db-1"]),
            // U+0600 joins the comma after it into one Character.
            alert(["alertname": "X\u{600},instance=a\u{600}", "instance": "b"]),
            alert(["alertname": "X\u{600}", "instance": "a\u{600},instance=b"]),
        ]).map { $0.matches[0].dedupeKey }
        #expect(Set(keys).count == 6, "\(keys)")
        #expect(keys[3] == "r|alertname=X,instance=db-1")
    }

    @Test func dedupeKeyFallsBackToGroupKeyThenFingerprint() throws {
        let repo = try repository(baseRules + "\nroutes:\n  - name: all\n    voice: down\n    escalation: primary\n    providers: [sim]\n")
        let planner = AlertPlanner(repository: repo)
        let grouped = planner.plan(alert(["a": "b"], groupKey: "{}:{alertname=\"X\"}"), count: 1)
        #expect(grouped.matches[0].dedupeKey == "all|{}:{alertname=\"X\"}")
        let plain = planner.plan(alert(["a": "b"]), count: 1)
        #expect(plain.matches[0].dedupeKey == "all|" + Fingerprint.of(["a": "b"]))
    }

    @Test func severityLevelsGiveDefaultsAndDrop() throws {
        let repo = try repository(
            baseRules + """

                severities:
                  default: warning
                  levels:
                    critical: {aliases: [P1], priority: 1, escalation: primary, voice: down, providers: [sim]}
                    warning: {priority: 6, escalation: primary, voice: down, providers: [sim]}
                    info: {drop: true}
                routes:
                  - name: all
                """
        )
        let planner = AlertPlanner(repository: repo)
        let critical = planner.plan(alert(["severity": "p1"]), count: 1)
        #expect(critical.severity == "critical")
        #expect(critical.matches.map(\.priority) == [1])
        let unknown = planner.plan(alert(["severity": "weird"]), count: 1)
        #expect(unknown.severity == "warning")
        #expect(unknown.matches.map(\.priority) == [6])
        let info = planner.plan(alert(["severity": "info"]), count: 1)
        #expect(info.dropped)
        #expect(info.matches.isEmpty)
    }

    /// The engine's plans (no voices rendered) reuse one alert's match for the next when
    /// route, key and severity agree; every decision must still be the alert's own.
    @Test func plansWithoutVoicesMakeTheSameDecisionsAlertByAlert() throws {
        let repo = try repository(
            baseRules + """

                severities:
                  levels:
                    critical: {priority: 1}
                    warning: {priority: 6}
                routes:
                  - name: db
                    match: {team: db}
                    voice: down
                    escalation: primary
                    providers: [sim]
                    continue: true
                  - name: all
                    voice: down
                    escalation: primary
                    providers: [sim]
                """
        )
        let planner = AlertPlanner(repository: repo)
        let labels: [LabelSet] = [
            ["team": "db", "severity": "critical"], ["team": "db", "severity": "critical", "x": "1"], ["team": "db", "severity": "warning"],
            ["team": "web", "severity": "warning"], ["team": "db", "severity": "warning"], ["team": "web", "severity": "critical"],
        ]
        let alerts = labels.enumerated().map { index, labels in alert(labels, groupKey: index == 3 ? "other" : "g") }
        let lean = planner.plan(alerts, renderVoices: false)
        let full = planner.plan(alerts)
        for (leanPlan, fullPlan) in zip(lean, full) {
            #expect(leanPlan.severity == fullPlan.severity)
            #expect(leanPlan.matches.count == fullPlan.matches.count)
            for (a, b) in zip(leanPlan.matches, fullPlan.matches) {
                #expect(a.route == b.route && a.dedupeKey == b.dedupeKey && a.priority == b.priority && a.voice == b.voice)
                #expect(a.providers == b.providers && a.escalation == b.escalation && a.steps == b.steps && a.dropped == b.dropped)
                #expect(a.params.isEmpty && !b.params.isEmpty)
            }
        }
        #expect(lean.map { $0.matches.map(\.priority) } == [[1, 1], [1, 1], [6, 6], [6], [6, 6], [1]])
    }

    /// A `drop` route drops firing alerts only: in a notification that mixes a recovery and
    /// a firing alert of one group, each keeps its own decision, in either order.
    @Test func aDropRouteDropsTheFiringAlertsOfAMixedNotification() throws {
        let repo = try repository(
            baseRules + """

                routes:
                  - name: staging
                    match: {env: staging}
                    drop: true
                  - name: all
                    voice: down
                    escalation: primary
                    providers: [sim]
                """
        )
        let planner = AlertPlanner(repository: repo)
        let resolved = alert(["env": "staging", "instance": "a"], status: .resolved, groupKey: "g")
        let firing = alert(["env": "staging", "instance": "b"], groupKey: "g")
        for alerts in [[resolved, firing], [firing, resolved]] {
            for renderVoices in [false, true] {
                let dropped = planner.plan(alerts, renderVoices: renderVoices).map { $0.matches.map(\.dropped) }
                #expect(dropped == alerts.map { [$0.status == .firing] }, "\(alerts.map(\.status)), voices \(renderVoices)")
            }
        }
    }

    @Test func paramsRenderEveryDocumentedVariableWithoutEscaping() throws {
        let repo = try repository(
            baseRules.replacingOccurrences(
                of: "params: [\"{{labels.instance}}\"]",
                with:
                    "params: [\"{{labels.instance}}\", \"{{annotations.summary}}\", \"{{severity}}/{{status}}/{{count}}\", \"{{startsAt}}\", \"{{externalURL}}\"]"
            ) + "\nroutes:\n  - name: all\n    voice: down\n    escalation: primary\n    providers: [sim]\n"
        )
        var firing = Alert(
            status: .firing,
            labels: ["instance": "a&b <db>"],
            annotations: ["summary": "5xx > 5%"],
            startsAt: Date(timeIntervalSince1970: 1_795_000_000),
            externalURL: "http://am:9093"
        )
        firing.severity = "critical"
        let plan = AlertPlanner(repository: repo).plan(firing, count: 3)
        #expect(plan.matches[0].params == ["a&b <db>", "5xx > 5%", "critical/firing/3", "2026-11-18T11:06:40Z", "http://am:9093"])
    }

    @Test func huaweiV2ParamsAreCutToTheVendorLimitWithAWarning() throws {
        let repo = try repository(
            """
            providers:
              hw:
                type: huawei-aicc
                app_key: k
                app_secret: s
            recipients:
              alice: {phone: "+8613700000001"}
            voices:
              down:
                params: ["{{labels.instance}}"]
                huawei-aicc: {template_id: "t1"}
            escalations:
              primary:
                steps: [{after: 0s, notify: [alice]}]
            routes:
              - voice: down
                escalation: primary
                providers: [hw]
            """
        )
        let planner = AlertPlanner(repository: repo)
        let plan = planner.plan(alert(["instance": "数据库-primary-cluster-node-0001.example.com"]), count: 1)
        let warning = try #require(plan.matches[0].warnings.first)
        #expect(warning.contains("cut to 32 bytes"))
        let voice = try #require(repo.voices["down"])
        let provider = try #require(repo.provider(named: "hw"))
        let context = ParamRenderer.context(for: plan.alert, severity: "", count: 1, route: "r")
        let rendered = try #require(ParamRenderer.render(voice, for: provider, context: context)).params
        #expect(rendered[0].utf8.count <= 32)
        #expect(rendered[0] == "数据库-primary-cluster-node-0")  // 9 + 22 + 1 = 32 bytes
    }
}

@Suite struct HuaweiV1VoiceContentTests {
    func repository(text: String) throws -> RuleRepository {
        try KlaxonRulesTests.repository(
            """
            providers:
              hw1: {type: huawei-aicc, app_key: k, app_secret: s, api_version: v1}
            recipients:
              alice: {phone: "+8613700000001"}
            voices:
              down:
                hw1:
                  play_list:
                    - voice_id: "1133"
                    - text: "\(text)"
                    - voice_id: "2225"
            escalations:
              primary:
                steps: [{after: 0s, notify: [alice]}]
            routes:
              - voice: down
                escalation: primary
                providers: [hw1]
            """
        )
    }

    func content(_ repo: RuleRepository, labels: LabelSet) throws -> (content: String, warnings: [String]) {
        let voice = try #require(repo.voices["down"])
        let provider = try #require(repo.provider(named: "hw1"))
        let context = ParamRenderer.context(for: alert(labels), severity: "critical", count: 1, route: "r")
        return ParamRenderer.huaweiV1VoiceContent(voice, for: provider, context: context)
    }

    @Test func joinsVoiceIdsAndTextWithTildes() throws {
        let result = try content(try repository(text: "{{labels.instance}} is down"), labels: ["instance": "db-1"])
        #expect(result.content == "1133~$db-1 is down$~2225")
        #expect(result.warnings.isEmpty)
    }

    @Test func separatorsInsideTextAreRemovedWithAWarning() throws {
        let result = try content(try repository(text: "{{labels.instance}}"), labels: ["instance": "a~b$c"])
        #expect(result.content == "1133~$abc$~2225")
        #expect(result.warnings.count == 1)
    }

    @Test func anOverlongContentIsCutTo1000Characters() throws {
        let result = try content(
            try repository(text: "{{annotations.x}}{{labels.instance}}"),
            labels: ["instance": String(repeating: "z", count: 2000)]
        )
        #expect(result.content.count == 1000)
        #expect(result.content.hasPrefix("1133~$zzz"))
        #expect(result.content.hasSuffix("z$~2225"))
        #expect(result.warnings.contains { $0.contains("cut to 1000 characters") })
    }

    /// Counted as Huawei's Java counts a string: in UTF-16 units, an emoji two. Cut between
    /// whole characters.
    @Test func theLimitCountsUTF16Units() throws {
        let result = try content(try repository(text: "{{labels.instance}}"), labels: ["instance": String(repeating: "🔥", count: 600)])
        #expect(result.content.utf16.count == 1000)
        #expect(result.content.count == 506)
        #expect(result.content.hasSuffix("🔥$~2225"))
    }
}
