import KlaxonCore

extension RuleRepository {
    /// An error for each person a route's escalation calls whom none of the route's
    /// providers can call (a `+49` number on a route that calls through Aliyun only): the
    /// vendor would refuse each call for good, and that person would never be paged.
    /// `problem` says why a provider cannot call a number, nil when it can (the vendors'
    /// own rules, from `KlaxonProviders`); a number that is no E.164 number (or comes from
    /// an unset `${NAME}` in `check`) is left to the checks that report it.
    func unreachableRecipients(problem: (String, ProviderConfig) -> String?) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var reported = Set<String>()
        func visit(_ route: Route) {
            defer { route.routes.forEach(visit) }
            guard route.effective.drop != true else { return }
            let levels = (route.severities ?? severities.levels.map(\.name)).compactMap { severities.level(named: $0) }.filter { !$0.drop }
            let escalationNames = route.effective.escalation.map { [$0] } ?? levels.compactMap(\.escalation)
            var providerNames = route.effective.providers ?? []
            if route.effective.providers == nil {
                for name in levels.flatMap({ $0.providers ?? [] }) where !providerNames.contains(name) { providerNames.append(name) }
            }
            let configs = providerNames.compactMap { provider(named: $0) }
            guard !configs.isEmpty else { return }
            let people = escalationNames.compactMap { escalations[$0] }.flatMap { $0.steps.flatMap { expand($0.notify) } }
            for person in people where PhoneNumber.isE164(person.phone) {
                let problems = configs.compactMap { config in problem(person.phone, config).map { "\(config.name): \($0)" } }
                guard problems.count == configs.count, reported.insert("\(person.name)\u{0}\(providerNames)").inserted else { continue }
                let what = route.name == route.path ? route.path : "route \"\(route.name)\""
                diagnostics.append(
                    Diagnostic(
                        .error,
                        at: person.location,
                        "recipients.\(person.name): \(what) calls \(person.name) through \(providerNames.joined(separator: ", ")), and none of them can call this number (\(problems.joined(separator: "; ")))"
                    )
                )
            }
        }
        routes.forEach(visit)
        return diagnostics
    }
}
