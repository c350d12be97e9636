import KlaxonCore

/// Turns alerts into ``AlertPlan``s with a repository: the dry run of `klaxon route`
/// and the decision the incident engine acts on. Pure: no I/O, no clock.
public struct AlertPlanner: Sendable {
    public let router: AlertRouter
    public var repository: RuleRepository { router.repository }

    /// Priority when neither the route nor the severity level sets one.
    public static let defaultPriority = 5

    public init(repository: RuleRepository) {
        self.router = AlertRouter(repository: repository)
    }

    /// Plans each alert; `count` in params is the number of firing alerts of the batch
    /// that share the alert's route and dedupe key. `renderVoices: false` leaves `params`
    /// and `warnings` empty: the engine renders at call time and needs only the decisions.
    public func plan(_ alerts: [Alert], renderVoices: Bool = true) -> [AlertPlan] {
        let routed = alerts.map { alert -> (severity: String, routes: [Route]) in
            let severity = router.severity(of: alert)
            let dropped = repository.severities.level(named: severity)?.drop == true
            return (severity, dropped ? [] : router.matchingRoutes(for: alert))
        }
        var counts: [String: Int] = [:]
        for (alert, entry) in zip(alerts, routed) where alert.status == .firing {
            for route in entry.routes { counts[Self.dedupeKey(alert, route: route), default: 0] += 1 }
        }
        return zip(alerts, routed).map { alert, entry in
            let dropped = repository.severities.level(named: entry.severity)?.drop == true
            let matches = entry.routes.map { route in
                match(
                    alert,
                    route: route,
                    severity: entry.severity,
                    count: max(1, counts[Self.dedupeKey(alert, route: route)] ?? 1),
                    renderVoices: renderVoices
                )
            }
            return AlertPlan(alert: alert, severity: entry.severity, dropped: dropped, matches: matches)
        }
    }

    /// Plans one alert that stands for `count` alerts of its incident.
    public func plan(_ alert: Alert, count: Int) -> AlertPlan {
        let severity = router.severity(of: alert)
        if repository.severities.level(named: severity)?.drop == true {
            return AlertPlan(alert: alert, severity: severity, dropped: true, matches: [])
        }
        let matches = router.matchingRoutes(for: alert).map { match(alert, route: $0, severity: severity, count: count) }
        return AlertPlan(alert: alert, severity: severity, dropped: false, matches: matches)
    }

    func match(_ alert: Alert, route: Route, severity: String, count: Int, renderVoices: Bool = true) -> RouteMatch {
        let level = repository.severities.level(named: severity)
        let settings = route.effective
        let voiceName = settings.voice ?? level?.voice
        let escalationName = settings.escalation ?? level?.escalation
        let providers = settings.providers ?? level?.providers ?? []
        var params: [String] = []
        var warnings: [String] = []
        if renderVoices, let voice = voiceName.flatMap({ repository.voices[$0] }) {
            let context = ParamRenderer.context(for: alert, severity: severity, count: count, route: route.name)
            params = voice.params.map { $0.render(context) }
            for provider in providers.compactMap({ repository.provider(named: $0) }) {
                warnings += ParamRenderer.render(voice, for: provider, context: context)?.warnings ?? []
            }
        }
        return RouteMatch(
            route: route.name,
            priority: settings.priority ?? level?.priority ?? Self.defaultPriority,
            dedupeKey: Self.dedupeKey(alert, route: route),
            voice: voiceName,
            params: params,
            providers: providers,
            escalation: escalationName,
            steps: escalationName.flatMap { repository.escalations[$0] }.map(steps) ?? [],
            dropped: settings.drop == true,
            warnings: warnings
        )
    }

    /// Route name plus the `dedupe.by` label values; else Alertmanager's group key; else
    /// the alert's fingerprint.
    public static func dedupeKey(_ alert: Alert, route: Route) -> String {
        if let dedupe = route.effective.dedupe {
            return route.name + "|" + dedupe.by.map { "\($0)=\(alert.labels.value(of: $0))" }.joined(separator: ",")
        }
        if let groupKey = alert.groupKey, !groupKey.isEmpty { return route.name + "|" + groupKey }
        return route.name + "|" + alert.fingerprint
    }

    /// The chain's steps with each `repeat` round unrolled after the previous one.
    public func steps(_ escalation: Escalation) -> [PlannedStep] {
        guard let last = escalation.steps.last else { return [] }
        let roundLength = last.after + escalation.repeatAfter
        var result: [PlannedStep] = []
        for round in 0...escalation.repeatCount {
            for step in escalation.steps {
                result.append(
                    PlannedStep(step: result.count + 1, after: roundLength * round + step.after, recipients: repository.expand(step.notify))
                )
            }
        }
        return result
    }
}
