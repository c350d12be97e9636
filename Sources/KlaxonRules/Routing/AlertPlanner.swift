import KlaxonCore

/// Turns alerts into ``AlertPlan``s with a repository: the dry run of `klaxon route`
/// and the decision the incident engine acts on. Pure: no I/O, no clock. A class, as
/// every webhook plans with it: handing it on is one reference, not a copy of its tables.
public final class AlertPlanner: Sendable {
    public let router: AlertRouter
    public var repository: RuleRepository { router.repository }
    /// Each escalation's unrolled steps, made once: every alert of a route has the same.
    private let stepsByEscalation: [String: [PlannedStep]]
    /// Every severity a route can tell apart: the levels, and the values routes filter on.
    private let routedSeverities: [String]

    /// Priority when neither the route nor the severity level sets one.
    public static let defaultPriority = 5

    public init(repository: RuleRepository) {
        self.router = AlertRouter(repository: repository)
        self.stepsByEscalation = repository.escalations.mapValues { Self.steps($0, in: repository) }
        var severities = repository.severities.levels.map(\.name)
        func collect(_ routes: [Route]) {
            for route in routes {
                severities += route.severities ?? []
                collect(route.routes)
            }
        }
        collect(repository.routes)
        var seen = Set<String>()
        self.routedSeverities = severities.filter { seen.insert($0).inserted }
    }

    /// The dedupe keys, other than `excluded`, that `alert` would have under the severities
    /// other than `severity`. For a recovery that finds no open incident under its own: a
    /// recovery often names no severity, or another than its problem did (Nagios' `… is
    /// OK`, a generic `"severity": "ok"`), and on a route that takes only some severities it
    /// would miss the incident its problem opened, which would then ring on.
    public func dedupeKeysUnderOtherSeverities(of alert: Alert, severity: String, excluded: Set<String>) -> [String] {
        var keys: [String] = []
        for other in routedSeverities where other != severity {
            for entry in router.matchingRouteEntries(for: alert, severity: other) {
                let key = Self.dedupeKey(alert, route: entry)
                if !excluded.contains(key), !keys.contains(key) { keys.append(key) }
            }
        }
        return keys
    }

    /// Plans each alert; `count` in params is the number of firing alerts of the batch
    /// that share the alert's route and dedupe key. `renderVoices: false` leaves `params`
    /// and `warnings` empty: the engine renders at call time and needs only the decisions.
    public func plan(_ alerts: [Alert], renderVoices: Bool = true) -> [AlertPlan] {
        let routed = alerts.map { alert -> (severity: String, dropped: Bool, routes: [(entry: RouteEntry, key: String)]) in
            let severity = router.severity(of: alert)
            // A recovery is never dropped: a reload may have added `drop` under an incident
            // that is still open, and only its recovery stops its calls.
            let dropped = alert.status == .firing && router.repository.severities.level(named: severity)?.drop == true
            // Labelled as the result is: an unlabelled tuple array would be cast, element by element.
            var routes: [(entry: RouteEntry, key: String)] = []
            if !dropped {
                for entry in router.matchingRouteEntries(for: alert, severity: severity) {
                    routes.append((entry, Self.dedupeKey(alert, route: entry)))
                }
            }
            return (severity, dropped, routes)
        }
        var counts: [String: Int] = [:]
        for (alert, entry) in zip(alerts, routed) where alert.status == .firing {
            for (_, key) in entry.routes { counts[key, default: 0] += 1 }
        }
        // Without rendered voices a match depends on the route, key, severity, count and
        // status (a `drop` route drops only firing alerts) alone, and the alerts of one
        // notification usually share all of them.
        var last: RouteMatch?
        var lastSeverity = ""
        var lastStatus = AlertStatus.firing
        return zip(alerts, routed).map { alert, entry in
            let matches = entry.routes.map { routeEntry, key in
                if !renderVoices, let last, last.route == routeEntry.route.name, last.dedupeKey == key, lastSeverity == entry.severity,
                    lastStatus == alert.status
                {
                    return last
                }
                let made = match(
                    alert,
                    route: routeEntry,
                    dedupeKey: key,
                    severity: entry.severity,
                    count: max(1, counts[key] ?? 1),
                    renderVoices: renderVoices
                )
                (last, lastSeverity, lastStatus) = (made, entry.severity, alert.status)
                return made
            }
            return AlertPlan(alert: alert, severity: entry.severity, dropped: entry.dropped, matches: matches)
        }
    }

    /// Plans one alert that stands for `count` alerts of its incident.
    public func plan(_ alert: Alert, count: Int) -> AlertPlan {
        let severity = router.severity(of: alert)
        if alert.status == .firing, router.repository.severities.level(named: severity)?.drop == true {
            return AlertPlan(alert: alert, severity: severity, dropped: true, matches: [])
        }
        let matches = router.matchingRouteEntries(for: alert, severity: severity).map {
            match(alert, route: $0, dedupeKey: Self.dedupeKey(alert, route: $0), severity: severity, count: count)
        }
        return AlertPlan(alert: alert, severity: severity, dropped: false, matches: matches)
    }

    private func match(
        _ alert: Alert,
        route entry: RouteEntry,
        dedupeKey: String,
        severity: String,
        count: Int,
        renderVoices: Bool = true
    ) -> RouteMatch {
        // Through the router each time: a local copy of the repository retains each of its tables.
        let level = router.repository.severities.level(named: severity)
        let settings = entry.route.effective
        let voiceName = settings.voice ?? level?.voice
        let escalationName = settings.escalation ?? level?.escalation
        let providers = settings.providers ?? level?.providers ?? []
        var params: [String] = []
        var warnings: [String] = []
        if renderVoices, let voice = voiceName.flatMap({ router.repository.voices[$0] }) {
            let context = ParamRenderer.context(for: alert, severity: severity, count: count, route: entry.route.name)
            params = voice.params.map { $0.render(context) }
            for provider in providers.compactMap({ router.repository.provider(named: $0) }) {
                warnings += ParamRenderer.render(voice, for: provider, context: context)?.warnings ?? []
            }
        }
        return RouteMatch(
            route: entry.route.name,
            priority: settings.priority ?? level?.priority ?? Self.defaultPriority,
            dedupeKey: dedupeKey,
            voice: voiceName,
            params: params,
            providers: providers,
            escalation: escalationName,
            steps: escalationName.flatMap { stepsByEscalation[$0] } ?? [],
            dropped: settings.drop == true && alert.status == .firing,
            warnings: warnings
        )
    }

    /// Route name plus the `dedupe.by` label values; else Alertmanager's group key; else
    /// the alert's fingerprint.
    static func dedupeKey(_ alert: Alert, route entry: RouteEntry) -> String {
        let name = entry.route.name
        if let dedupe = entry.route.effective.dedupe {
            return name + "|" + dedupe.by.map { "\($0)=\(escapedKeyValue(alert.labels.value(of: $0)))" }.joined(separator: ",")
        }
        if let groupKey = alert.groupKey, !groupKey.isEmpty { return name + "|" + groupKey }
        return name + "|" + alert.fingerprint
    }

    /// A label value with `\` and `,` escaped, so that `instance="a,instance=b"` cannot
    /// spell the key of two labels. Values without them (nearly all) are kept as they are,
    /// so the keys of incidents opened before stay the same.
    static func escapedKeyValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\\") }) else { return value }
        // By scalar, not by Character: a comma can share a Character with the scalar before
        // it (U+0600 and its kind prepend themselves to what follows).
        var escaped = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            if scalar == "," || scalar == "\\" { escaped.append("\\") }
            escaped.append(scalar)
        }
        return String(escaped)
    }

    /// The chain's steps with each `repeat` round unrolled after the previous one.
    private static func steps(_ escalation: Escalation, in repository: RuleRepository) -> [PlannedStep] {
        guard let last = escalation.steps.last else { return [] }
        let roundLength = last.after + escalation.repeatAfter
        var result: [PlannedStep] = []
        for round in 0...escalation.repeatCount {
            for step in escalation.steps {
                result.append(
                    PlannedStep(
                        step: result.count + 1,
                        after: roundLength * round + step.after,
                        recipients: repository.expand(step.notify),
                        notify: step.notify
                    )
                )
            }
        }
        return result
    }
}
