import Foundation
import KlaxonCore
import KlaxonRules
import Testing

@Suite struct RuleLoaderTests {
    @Test func parsesEveryTopLevelKey() throws {
        let repo = try repository(
            baseRules + """

                server:
                  listen: 0.0.0.0:9095
                  body_limit: 512KiB
                  api_token: secret-api
                  public_url: https://klaxon.example.com
                store: sqlite:/var/lib/klaxon/klaxon.db
                inputs:
                  am:
                    type: alertmanager
                    token: t1
                  mail:
                    type: email
                    basic_auth: {username: mta, password: pw}
                severities:
                  label: level
                  default: warning
                  levels:
                    critical: {aliases: [P1, page], priority: 1, escalation: primary, voice: down, providers: [sim]}
                    warning: {priority: 5, escalation: primary, voice: down, providers: [sim]}
                    info: {drop: true}
                routes:
                  - match: {team: db}
                """
        )
        #expect(repo.server.listen == "0.0.0.0:9095")
        #expect(repo.server.bodyLimit == 512 * 1024)
        #expect(repo.server.apiToken == "secret-api")
        #expect(repo.store == "sqlite:/var/lib/klaxon/klaxon.db")
        #expect(repo.inputs["am"]?.type == .alertmanager)
        #expect(repo.inputs["am"]?.token == "t1")
        #expect(repo.inputs["mail"]?.basicAuth?.username == "mta")
        #expect(repo.providers.map(\.name) == ["sim"])
        #expect(repo.recipients["alice"]?.phone == "+8613700000001")
        #expect(repo.groups["oncall"]?.members == ["alice", "bob"])
        #expect(repo.voices["down"]?.params.count == 1)
        #expect(repo.escalations["primary"]?.steps.map(\.after) == [.zero, .seconds(600)])
        #expect(repo.severities.label == "level")
        #expect(repo.severities.normalize("p1") == "critical")
        #expect(repo.severities.normalize("PAGE") == "critical")
        #expect(repo.severities.normalize("whatever") == "warning")
        #expect(repo.severities.normalize(nil) == "warning")
        #expect(repo.routes.count == 1)
        #expect(repo.routes[0].name == "routes[0]")
    }

    @Test func unknownKeysSuggestTheClosestName() {
        let lines = errorLines(
            baseRules + """

                escalaton: {}
                routes:
                  - match: {team: db}
                    escalaton: primary
                    voice: down
                    providers: [sim]
                    escalation: primary
                """
        )
        #expect(lines.contains("22:1: unknown key \"escalaton\" in the top level (did you mean \"escalations\"?)"))
        #expect(lines.contains("25:5: unknown key \"escalaton\" in routes[0] (did you mean \"escalation\"?)"))
    }

    @Test func reportsEveryErrorOfOneRunSortedByLine() {
        let result = load(
            """
            recipients:
              alice:
                phone: "12345"
            escalations:
              primary:
                steps:
                  - after: 10m
                    notify: [alice]
                  - after: 5m
                    notify: [nobody]
                  - after: 20m
                    notify: []
            routes:
              - matchers: ['alertname=~"(unclosed"']
                escalation: primary
                voice: missing
                providers: [sim]
                priority: high
            """
        )
        let lines = result.errors.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        #expect(result.repository == nil)
        #expect(lines.contains { $0.hasPrefix("3:12: recipients.alice.phone: expected an E.164 number") })
        #expect(lines.contains { $0.hasPrefix("9:16: escalations.primary.steps[1].after: 5m must be later than the step before it (10m)") })
        #expect(lines.contains { $0.hasPrefix("10:18: escalations.primary.steps[1].notify: no recipient named \"nobody\"") })
        #expect(lines.contains { $0.hasPrefix("12:17: escalations.primary.steps[2].notify: a step must call someone") })
        #expect(lines.contains { $0.hasPrefix("14:29: routes[0].matchers: bad regex \"(unclosed\": missing closing )") })
        #expect(lines.contains { $0.hasPrefix("16:12: routes[0]: no voice named \"missing\"") })
        #expect(lines.contains { $0.hasPrefix("17:16: routes[0]: no provider named \"sim\"") })
        #expect(lines.contains("18:15: routes[0].priority: expected an integer, got \"high\""))
        let positions = result.errors.map { [$0.location.line, $0.location.column] }
        #expect(positions == positions.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// A level's name is matched like an alias: an alias (or another level's name) that
    /// takes it would turn `warning` into whatever level was read last, even one that drops.
    @Test func aliasesCannotTakeAnotherLevelsName() {
        let result = load(
            """
            severities:
              levels:
                warning: {aliases: [P2, warn]}
                info: {aliases: [P4, Warning], drop: true}
                Info: {}
            """
        )
        let lines = result.errors.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        #expect(result.repository == nil)
        #expect(lines.contains { $0.hasPrefix("4:26: severities.levels.info.aliases: \"Warning\" is the name of level \"warning\"") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("5:5: severities.levels.Info: level \"info\"") }, "\(lines)")
    }

    @Test func malformedYAMLHasItsPosition() {
        let lines = errorLines("routes:\n  - match: {team: db\n  - name: x\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("3:") == true || lines.first?.hasPrefix("2:") == true)
        #expect(lines.first?.contains("YAML:") == true)
    }

    @Test func duplicateKeysInOneMappingAreErrors() {
        let lines = errorLines("recipients:\n  alice: {phone: \"+8613700000001\"}\n  alice: {phone: \"+8613700000002\"}\n")
        #expect(lines.contains { $0.contains("duplicate key \"alice\"") })
    }

    @Test func wrongTypesNameTheField() {
        let lines = errorLines(baseRules + "\nroutes: {team: db}\n")
        #expect(lines == ["22:9: routes: expected a list, got a mapping"])
    }

    /// An empty secret, often a `${NAME}` set to nothing, would accept anyone: an empty
    /// bearer token matches `Bearer `, an empty HMAC key is one anyone can sign with.
    @Test func emptySecretsAreErrors() throws {
        let yaml = """
            server:
              api_token: ${API_TOKEN}
              source_token: ""
              callback_token: ${CALLBACK_TOKEN}
            inputs:
              am: {type: alertmanager, token: ""}
              mail:
                type: email
                basic_auth: {username: mta, password: "${MAIL_PASSWORD}"}
            providers:
              hw:
                type: huawei-aicc
                app_key: k
                app_secret: s
                callback_shared_key: ${HW_KEY}
            """
        let empty = ["API_TOKEN": "", "CALLBACK_TOKEN": "", "MAIL_PASSWORD": "", "HW_KEY": ""]
        let served = RuleLoader(environment: empty, mode: .serve).load(yaml: yaml)
        #expect(served.repository == nil)
        let errors = served.errors.map(\.description)
        for expected in [
            "rules.yaml:2:14: error: server.api_token: is empty",
            "rules.yaml:3:17: error: server.source_token: is empty",
            "rules.yaml:4:19: error: server.callback_token: is empty",
            "rules.yaml:6:35: error: inputs.am.token: is empty",
            "rules.yaml:9:43: error: inputs.mail.basic_auth.password: is empty",
            "rules.yaml:15:26: error: providers.hw.callback_shared_key: is empty",
        ] {
            #expect(errors.contains { $0.hasPrefix(expected) }, "\(expected) in \(errors)")
        }
        // `klaxon check` without the server's environment only warns about the references.
        let checked = RuleLoader(environment: [:], mode: .check).load(yaml: yaml)
        #expect(checked.errors.map(\.description).allSatisfy { $0.contains("source_token") || $0.contains("inputs.am.token") })
        #expect(checked.errors.count == 2)
    }

    /// The callback token is sent in the callback URL as it is: a `+` (as in base64) makes
    /// Huawei drop the URL, an `&` cuts it on the way back.
    @Test(arguments: ["ab+cd/ef==", "a&b", "50%", "x y"]) func aCallbackTokenTheURLCannotCarryIsAnError(token: String) {
        let yaml = "server:\n  callback_token: ${CALLBACK_TOKEN}\n"
        let loaded = RuleLoader(environment: ["CALLBACK_TOKEN": token], mode: .serve).load(yaml: yaml)
        let errors = loaded.errors.map(\.description)
        #expect(errors.contains { $0.hasPrefix("rules.yaml:2:19: error: server.callback_token: use only letters, digits") }, "\(errors)")
        #expect(!errors.contains { $0.contains(token) })
        let fine = RuleLoader(environment: ["CALLBACK_TOKEN": "Zt4-q_9.x~"], mode: .serve).load(yaml: yaml)
        #expect(fine.errors.isEmpty, "\(fine.errors)")
    }

    /// Huawei's callback URLs may hold no `=`: its token goes in the path, and a provider
    /// whose reports are signed needs none.
    @Test func callbackURLsCarryTheTokenAsEachVendorAllows() throws {
        let yaml = "server:\n  public_url: https://klaxon.example.com\n  callback_token: [cb-new, cb-old]\n"
        var repository = try #require(RuleLoader(environment: [:], mode: .serve).load(yaml: yaml).repository)
        let url = { (type: ProviderType, options: [String: String]) in
            repository.callbackURL(for: ProviderConfig(name: "p", type: type, options: options))
        }
        #expect(url(.aliyun, [:]) == "https://klaxon.example.com/callbacks/p?token=cb-new")
        #expect(url(.huaweiAICC, [:]) == "https://klaxon.example.com/callbacks/p/cb-new")
        #expect(url(.huaweiAICC, ["callback_shared_key": "k"]) == "https://klaxon.example.com/callbacks/p")
        repository.server.callbackTokens = []
        #expect(url(.bitel, [:]) == "https://klaxon.example.com/callbacks/p")
        repository.server.publicURL = nil
        #expect(url(.bitel, [:]) == nil)
        let tilde = RuleLoader(environment: [:], mode: .serve).load(yaml: "server:\n  callback_token: a~b\n")
        #expect(tilde.errors.isEmpty)
        #expect(tilde.warnings.map(\.description).contains { $0.hasPrefix("rules.yaml:2:19: warning: server.callback_token: Huawei refuses") })
    }

    /// A list of callback tokens, for a rotation: the first is given out, all are accepted.
    @Test func callbackTokensMayBeAList() {
        let loader = RuleLoader(environment: ["NEW": "cb-new", "OLD": "cb-old"], mode: .serve)
        let loaded = loader.load(yaml: "server:\n  callback_token:\n    - ${NEW}\n    - ${OLD}\n")
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        #expect(loaded.repository?.server.callbackTokens == ["cb-new", "cb-old"])
        #expect(loaded.repository?.server.callbackToken == "cb-new")
        #expect(loader.load(yaml: "server:\n  callback_token: cb-new\n").repository?.server.callbackTokens == ["cb-new"])
        #expect(
            loader.load(yaml: "server:\n  callback_token: []\n").errors.map(\.description) == [
                "rules.yaml:2:19: error: server.callback_token: is an empty list; name at least one, or leave the key out"
            ]
        )
        #expect(
            loader.load(yaml: "server:\n  callback_token:\n    - cb-new\n    - a&b\n").errors.map(\.description) == [
                "rules.yaml:4:7: error: server.callback_token: use only letters, digits, '-', '_', '.' and '~' (it is sent in the callback URL as it is)"
            ]
        )
    }

    @Test func theShutdownTimeoutIsAPositiveDuration() {
        let loader = RuleLoader(environment: [:], mode: .serve)
        #expect(loader.load(yaml: "server: {}\n").repository?.server.shutdownTimeout == .seconds(25))
        #expect(loader.load(yaml: "server:\n  shutdown_timeout: 1m\n").repository?.server.shutdownTimeout == .seconds(60))
        for (text, error) in [
            ("0s", "rules.yaml:2:21: error: server.shutdown_timeout: must be longer than 0s"),
            ("soon", "rules.yaml:2:21: error: server.shutdown_timeout:"),
        ] {
            let errors = loader.load(yaml: "server:\n  shutdown_timeout: \(text)\n").errors.map(\.description)
            #expect(errors.contains { $0.hasPrefix(error) }, "\(errors)")
        }
    }

    /// Quiet and active hours that leave no minute of the week to call in would hold (or
    /// skip) every step of the route: every page lost. That is an error, at the window.
    static let neverFree = #"route "db": quiet_hours and active_hours leave no minute of the week to call in: every step would be"#
    static let windowCases: [(windows: String, error: String?)] = [
        (#"    quiet_hours: {times: ["00:00-24:00"]}"#, "rules.yaml:28:18: error: \(neverFree) held forever"),
        ("    quiet_hours: {days: [mon-sun], action: skip}", "rules.yaml:28:18: error: \(neverFree) skipped"),
        (#"    quiet_hours: {times: ["08:00-18:00"]}"# + "\n" + #"    active_hours: {times: ["09:00-17:00"]}"#, "rules.yaml:29:19: error"),
        (#"    quiet_hours: {times: ["22:00-08:00"]}"# + "\n" + #"    active_hours: {times: ["09:00-18:00"], days: [mon]}"#, nil),
        (#"    quiet_hours: {times: ["18:00-09:00"]}"# + "\n" + #"    active_hours: {times: ["09:00-18:00"], days: [sat]}"#, nil),
        // 09:00-17:00 in Berlin is 16:00-24:00 (15:00-23:00 in summer) in Shanghai: all quiet there.
        (
            #"    quiet_hours: {timezone: Asia/Shanghai, times: ["15:00-24:00"]}"# + "\n"
                + #"    active_hours: {timezone: Europe/Berlin, times: ["09:00-17:00"]}"#,
            "rules.yaml:29:19: error: \(neverFree)"
        ),
        (
            #"    quiet_hours: {timezone: Asia/Shanghai, times: ["18:00-08:00"]}"# + "\n"
                + #"    active_hours: {timezone: Europe/Berlin, times: ["09:00-17:00"]}"#,
            nil
        ),
    ]

    @Test(arguments: windowCases) func windowsThatNeverLetACallThroughAreAnError(windows: String, error: String?) {
        let route = "\nroutes:\n  - name: db\n    match: {team: db}\n    voice: down\n    escalation: primary\n    providers: [sim]\n"
        let errors = RuleLoader(environment: [:], mode: .serve).load(yaml: baseRules + route + windows + "\n").errors.map(\.description)
        if let error {
            #expect(errors.count == 1 && errors[0].hasPrefix(error), "\(errors)")
        } else {
            #expect(errors.isEmpty, "\(errors)")
        }
    }

    /// A window without a timezone is read in UTC: "22:00-08:00" written in Shanghai would
    /// hold pages through its working day. A load warns, at the window.
    @Test func aWindowWithoutATimezoneIsAWarning() {
        let route = "\nroutes:\n  - name: db\n    voice: down\n    escalation: primary\n    providers: [sim]\n"
        let loader = RuleLoader(environment: [:], mode: .serve)
        let bare = loader.load(yaml: baseRules + route + #"    quiet_hours: {times: ["22:00-08:00"]}"# + "\n")
        #expect(bare.errors.isEmpty, "\(bare.errors)")
        #expect(
            bare.warnings.map(\.description) == [
                #"rules.yaml:27:18: warning: route "db".quiet_hours: no timezone, so its days and times are UTC; add one (timezone: Asia/Shanghai), or timezone: UTC to say so"#
            ]
        )
        let zoned = loader.load(yaml: baseRules + route + #"    quiet_hours: {timezone: UTC, times: ["22:00-08:00"]}"# + "\n")
        #expect(zoned.warnings.isEmpty, "\(zoned.warnings)")
    }

    /// Without a route that takes every alert, an alert no route matches calls nobody: a
    /// load warns, at the last route. A route with a severity filter takes only those.
    @Test func routesThatLeaveAlertsUnroutedAreAWarning() {
        let route = "    voice: down\n    escalation: primary\n    providers: [sim]\n"
        let narrow = baseRules + "\nroutes:\n  - name: db\n    match: {team: db}\n" + route + "  - name: pages\n    severities: [critical]\n" + route
        let warnings = RuleLoader(environment: [:], mode: .serve).load(yaml: narrow).warnings.map(\.description)
        #expect(warnings.count == 1 && warnings[0].contains("warning: routes: none takes every alert"), "\(warnings)")
        #expect(RuleLoader(environment: [:], mode: .serve).load(yaml: narrow + "  - name: rest\n" + route).warnings.isEmpty)
    }

    /// A route without a name is called by its place in the list, which the incidents it
    /// opens are keyed by: a load warns, at the route.
    @Test func aRouteWithoutANameIsAWarning() {
        let route = "    voice: down\n    escalation: primary\n    providers: [sim]\n"
        let yaml =
            baseRules + "\nroutes:\n  - name: all\n    match: {team: db}\n" + route + "  - match: {team: web}\n" + route + "  - name: rest\n" + route
        let loaded = RuleLoader(environment: [:], mode: .serve).load(yaml: yaml)
        #expect(loaded.errors.isEmpty, "\(loaded.errors)")
        let warnings = loaded.warnings.map(\.description)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(
            warnings.first?.hasPrefix("rules.yaml:28:5: warning: routes[1]: the route has no name, so it is called routes[1]") == true,
            "\(warnings)"
        )
    }

    @Test func environmentVariablesAreSubstituted() throws {
        let yaml = """
            providers:
              ali:
                type: aliyun
                access_key_id: ${AK_ID}
                access_key_secret: ${AK_SECRET}
                region_id: ${REGION:-cn-hangzhou}
            """
        let served = RuleLoader(environment: ["AK_ID": "id1", "AK_SECRET": "s3cret"], mode: .serve).load(yaml: yaml)
        let provider = try #require(served.repository?.providers.first)
        #expect(provider.options["access_key_id"] == "id1")
        #expect(provider.options["access_key_secret"] == "s3cret")
        #expect(provider.options["region_id"] == "cn-hangzhou")

        let missingAtServe = RuleLoader(environment: [:], mode: .serve).load(yaml: yaml)
        #expect(missingAtServe.repository == nil)
        #expect(missingAtServe.errors.map(\.description).contains("rules.yaml:4:20: error: environment variable AK_ID is not set"))

        let missingAtCheck = RuleLoader(environment: [:], mode: .check).load(yaml: yaml)
        #expect(missingAtCheck.errors.isEmpty)
        #expect(missingAtCheck.warnings.map(\.description).contains("rules.yaml:5:24: warning: environment variable AK_SECRET is not set"))
    }

    /// A required key with nothing after it is missing, said at the key: it passed `check`
    /// and serve refused it without a place. A header whose `${NAME}` is set to nothing is
    /// an error, not a request every call of which gets 401. `${NAME:-default}` takes the
    /// default for a variable set to nothing, as the shell does.
    @Test func emptyCredentialsAreRefusedAndDefaultsFillEmptyVariables() throws {
        let yaml = """
            providers:
              ali:
                type: aliyun
                access_key_id: id
                access_key_secret:
                region_id: ${REGION:-cn-hangzhou}
              chat:
                type: webhook
                url: https://chat.example.com/hook
                headers:
                  Authorization: Bearer ${CHAT_TOKEN}
            """
        let loaded = RuleLoader(environment: ["REGION": "", "CHAT_TOKEN": ""], mode: .serve).load(yaml: yaml, name: "test.yaml")
        #expect(
            loaded.errors.map(\.description) == [
                "test.yaml:5:5: error: providers.ali.access_key_secret: has no value; provider type aliyun requires one",
                "test.yaml:11:22: error: providers.chat.headers.Authorization: environment variable CHAT_TOKEN is empty; a credential needs a value",
            ]
        )
        let filled = RuleLoader(environment: ["REGION": "", "CHAT_TOKEN": "t0ken"], mode: .serve)
            .load(yaml: yaml.replacingOccurrences(of: "access_key_secret:", with: "access_key_secret: s"), name: "test.yaml")
        #expect(filled.errors.isEmpty, "\(filled.errors)")
        #expect(filled.repository?.providers.first { $0.name == "ali" }?.options["region_id"] == "cn-hangzhou")
        #expect(filled.repository?.providers.first { $0.name == "chat" }?.maps["headers"] == ["Authorization": "Bearer t0ken"])
    }

    /// `klaxon check` in CI has no secrets: a store, public URL or phone from an unset
    /// `${NAME}` is warned about and not judged (it was refused as empty); serve judges it.
    @Test func checkDoesNotJudgeValuesOfUnsetVariables() throws {
        let yaml =
            baseRules.replacingOccurrences(of: "phone: \"+8613700000002\"", with: "phone: ${BOB_PHONE}") + """

                store: ${KLAXON_STORE}
                server:
                  public_url: ${PUBLIC_URL}
                """
        let checked = RuleLoader(environment: [:], mode: .check).load(yaml: yaml, name: "test.yaml")
        #expect(checked.errors.isEmpty, "\(checked.errors)")
        #expect(checked.warnings.filter { $0.message.contains("is not set") }.count == 3, "\(checked.warnings)")
        let served = RuleLoader(environment: ["BOB_PHONE": "555", "KLAXON_STORE": "klaxon.db", "PUBLIC_URL": "klaxon.example.com"], mode: .serve)
            .load(yaml: yaml, name: "test.yaml")
        #expect(served.errors.count == 3, "\(served.errors)")
    }

    /// A `match:` whose only line was commented out takes every alert, and a route after a
    /// sibling that takes every alert never matches: both are warned about.
    @Test func routesThatTakeEveryAlertOrNeverMatchAreWarnedAbout() {
        let yaml =
            baseRules + """

                routes:
                  - name: db
                    match:
                      # team: db
                    escalation: primary
                    voice: down
                    providers: [sim]
                  - name: web
                    match: {team: web}
                    escalation: primary
                    voice: down
                    providers: [sim]
                """
        let warnings = load(yaml).warnings.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        #expect(
            warnings.contains("24:5: route \"db\".match: is empty, so the route takes every alert; remove the key if that is meant"),
            "\(warnings)"
        )
        #expect(
            warnings.contains("29:5: route \"web\": never matches: route \"db\" before it takes every alert and has no continue: true"),
            "\(warnings)"
        )
        let fixed = load(yaml.replacingOccurrences(of: "      # team: db", with: "      team: db")).warnings
        #expect(!fixed.contains { $0.message.contains("never matches") || $0.message.contains("is empty") }, "\(fixed)")
    }

    /// A person none of a route's providers can call (here through a severity level's
    /// providers) is an error for `check` and a warning for `serve`, which must not stop
    /// paging everyone else for one number.
    @Test func aPersonNoProviderCanCallIsAnErrorInCheckAndAWarningInServe() {
        let yaml =
            baseRules.replacingOccurrences(of: "phone: \"+8613700000002\"", with: "phone: \"+4915112345678\"") + """

                severities:
                  default: critical
                  levels:
                    critical: {providers: [sim]}
                routes:
                  - {name: all, escalation: primary, voice: down}
                """
        let germanOnly: @Sendable (String, ProviderConfig) -> String? = { phone, _ in phone.hasPrefix("+49") ? "calls +86 only" : nil }
        let message = "recipients.bob: route \"all\" calls bob through sim, and none of them can call this number (sim: calls +86 only)"
        let checked = RuleLoader(environment: [:], mode: .check, numberProblem: germanOnly).load(yaml: yaml)
        #expect(checked.errors.map(\.message) == [message])
        let served = RuleLoader(environment: [:], mode: .serve, numberProblem: germanOnly).load(yaml: yaml)
        #expect(served.errors.isEmpty && served.repository != nil)
        #expect(served.warnings.map(\.message).contains(message), "\(served.warnings)")
    }

    /// An unknown group member is reported where it is written, not at the group's name.
    @Test func anUnknownGroupMemberIsReportedAtTheMember() {
        let lines = errorLines(baseRules.replacingOccurrences(of: "oncall: [alice, bob]", with: "oncall: [alice, bobb]"))
        #expect(lines.contains { $0.hasPrefix("10:19: groups.oncall: no recipient named \"bobb\"") }, "\(lines)")
    }

    @Test func durationsParseAndBadOnesPointAtTheValue() throws {
        let repo = try repository(
            baseRules.replacingOccurrences(of: "after: 10m", with: "after: 1h30m") + "\n"
        )
        #expect(repo.escalations["primary"]?.steps[1].after == .seconds(5400))
        let lines = errorLines(baseRules.replacingOccurrences(of: "after: 10m", with: "after: 10 minutes") + "\n")
        #expect(lines.contains { $0.hasPrefix("20:16: escalations.primary.steps[1].after:") })
    }

    @Test func providersAreValidatedForTheirType() {
        let lines = errorLines(
            """
            providers:
              a:
                type: aliyn
              b:
                type: aliyun
                access_key_id: x
                volume: 200
                out_id_prefix: klaxon-
              c:
                type: huawei-aicc
                app_key: k
                app_secret: s
                api_version: v3
                play_times: 9
              d:
                type: infin8linx
                appid: a
                accesskey: k
                nationcode: cn
              e:
                type: bitel
                token: t
                voice: x
            """
        )
        #expect(
            lines.contains(
                "3:11: providers.a.type: unknown provider type \"aliyn\" (did you mean \"aliyun\"?); expected one of aliyun, huawei-aicc, bitel, infin8linx, webhook, simulator"
            )
        )
        #expect(lines.contains("5:5: providers.b: provider type aliyun requires \"access_key_secret\""))
        #expect(lines.contains("7:13: providers.b.volume: expected an integer 0–100, got \"200\""))
        #expect(lines.contains { $0.hasPrefix("8:20: providers.b.out_id_prefix: Aliyun's OutId holds at most 15 bytes") })
        #expect(lines.contains("13:18: providers.c.api_version: \"v3\" is not one of v1, v2"))
        #expect(lines.contains("14:17: providers.c.play_times: expected an integer 1–5, got \"9\""))
        #expect(lines.contains("19:17: providers.d.nationcode: \"cn\" is not one of in, id, ph, mx, co, tha"))
        #expect(lines.contains { $0.hasPrefix("23:5: unknown key \"voice\" in providers.e") })
    }

    @Test func aNameDefinedTwiceAcrossFilesNamesBothPlaces() throws {
        let directory = fixtures.appendingPathComponent("duplicate").path
        let result = RuleLoader(environment: [:], mode: .check).load(paths: [directory])
        let messages = result.errors.map(\.description)
        #expect(messages.contains("\(directory)/b.yaml:2:3: error: recipient \"alice\" is already defined at \(directory)/a.yaml:2:3"))
        #expect(
            messages.contains("\(directory)/b.yaml:5:1: error: \"severities\" is already set at \(directory)/a.yaml:5:1; set it in one file only")
        )
    }

    @Test func aDirectoryIsMergedInPathOrder() throws {
        let directory = fixtures.appendingPathComponent("merged").path
        let result = RuleLoader(environment: [:], mode: .check).load(paths: [directory])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let repo = try #require(result.repository)
        #expect(repo.files == ["\(directory)/10-people.yaml", "\(directory)/20-routes.yaml", "\(directory)/nested/30-more-routes.yml"])
        #expect(repo.routes.map(\.name) == ["first", "second", "routes[2]"])
    }

    /// A rule repository's hidden folders (`.github/workflows/ci.yml`, `.git`) are no
    /// rules: read, a CI workflow's `on:` was an unknown key and a correct repository refused.
    @Test func aDirectorysHiddenFoldersAreNotRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-rules-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let workflows = directory.appendingPathComponent(".github/workflows")
        try FileManager.default.createDirectory(at: workflows, withIntermediateDirectories: true)
        try "on: push\njobs: {}\n".write(to: workflows.appendingPathComponent("ci.yml"), atomically: true, encoding: .utf8)
        try baseRules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let result = RuleLoader(environment: [:], mode: .check).load(paths: [directory.path])
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.repository?.files == [directory.path + "/rules.yaml"])
    }
}
