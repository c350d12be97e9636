import KlaxonCore
import KlaxonRules
import Testing

@Suite struct AlertRouterTests {
    static let rules =
        baseRules + """

            severities:
              default: warning
              levels:
                critical: {aliases: [P1, page, crit], priority: 1}
                warning: {aliases: [P2], priority: 5}
                info: {drop: true}
            routes:
              - name: watchdog
                match: {alertname: Watchdog}
                drop: true
              - name: db
                match: {team: db}
                voice: down
                escalation: primary
                providers: [sim]
                priority: 3
                routes:
                  - name: db-critical
                    severities: [critical]
                    priority: 1
                    dedupe: {by: [alertname, cluster]}
                  - name: db-prod
                    matchers: ['env=~"prod|production"']
                    continue: true
                  - name: db-eu
                    matchers: ['region=~"eu-.*"']
              - name: audit
                matchers: ['alertname!=""']
                continue: true
                voice: down
                escalation: primary
                providers: [sim]
              - name: fallback
                voice: down
                escalation: primary
                providers: [sim]
            """

    func routes(_ labels: LabelSet) throws -> [String] {
        let router = AlertRouter(repository: try repository(Self.rules))
        return router.matchingRoutes(for: alert(labels)).map(\.name)
    }

    @Test func firstMatchWins() throws {
        #expect(try routes(["alertname": "Watchdog", "team": "db"]) == ["watchdog"])
    }

    @Test func nestedRoutesTakeTheAlertAndInherit() throws {
        let repo = try repository(Self.rules)
        let router = AlertRouter(repository: repo)
        let matched = router.matchingRoutes(for: alert(["alertname": "Down", "team": "db", "severity": "P1"]))
        #expect(matched.map(\.name) == ["db-critical"])
        #expect(matched[0].effective.voice == "down")
        #expect(matched[0].effective.providers == ["sim"])
        #expect(matched[0].effective.escalation == "primary")
        #expect(matched[0].effective.priority == 1)
    }

    @Test func continueKeepsLookingAtLaterSiblings() throws {
        #expect(try routes(["alertname": "Down", "team": "db", "env": "prod", "region": "eu-west-1"]) == ["db-prod", "db-eu"])
        #expect(try routes(["alertname": "Down", "team": "db", "env": "staging", "region": "eu-west-1"]) == ["db-eu"])
    }

    @Test func aParentWithoutMatchingChildrenTakesTheAlertItself() throws {
        #expect(try routes(["alertname": "Down", "team": "db", "env": "staging"]) == ["db"])
    }

    @Test func continueAtTheTopLevel() throws {
        #expect(try routes(["alertname": "Disk", "team": "web"]) == ["audit", "fallback"])
        #expect(try routes(["team": "web"]) == ["fallback"])
    }

    @Test func regexesAreAnchored() throws {
        #expect(try routes(["alertname": "X", "team": "db", "env": "preprod"]) == ["db"])
    }

    @Test func defaultRouteNamesAreTheirPaths() throws {
        let repo = try repository(
            baseRules + "\nroutes:\n  - voice: down\n    escalation: primary\n    providers: [sim]\n    routes:\n      - match: {a: b}\n"
        )
        #expect(repo.routes[0].name == "routes[0]")
        #expect(repo.routes[0].routes[0].name == "routes[0].routes[0]")
    }

    /// The index must give exactly what trying every route in order gives.
    @Test func indexedRoutingEqualsTryingEveryRoute() throws {
        var yaml = baseRules + "\nroutes:\n"
        for index in 0..<60 {
            yaml += "  - name: r\(index)\n    voice: down\n    escalation: primary\n    providers: [sim]\n"
            switch index % 4 {
            case 0: yaml += "    match: {team: t\(index % 7)}\n"
            case 1: yaml += "    matchers: ['alertname=~\"A\(index % 5).*\"', 'team=t\(index % 3)']\n    continue: true\n"
            case 2: yaml += "    matchers: ['env!=prod']\n"
            default: yaml += "    match: {team: t\(index % 3), env: prod}\n    continue: true\n"
            }
        }
        let repo = try repository(yaml)
        let router = AlertRouter(repository: repo)
        for team in 0..<8 {
            for name in 0..<6 {
                for env in ["prod", "dev", ""] {
                    var labels: LabelSet = ["team": "t\(team)", "alertname": "A\(name)x"]
                    if !env.isEmpty { labels["env"] = env }
                    let expected = bruteForce(repo.routes, labels: labels)
                    #expect(router.matchingRoutes(for: alert(labels)).map(\.name) == expected, "\(labels)")
                }
            }
        }
    }

    private func bruteForce(_ routes: [Route], labels: LabelSet) -> [String] {
        var result: [String] = []
        for route in routes where route.matchers.allSatisfy({ $0.matches(labels) }) {
            let children = bruteForce(route.routes, labels: labels)
            result += children.isEmpty ? [route.name] : children
            if !route.continue { break }
        }
        return result
    }
}
