import KlaxonCore

/// Finds the routes an alert takes, with Alertmanager's semantics: routes are tried in
/// order, the first match wins unless it says `continue: true`, and a matching route whose
/// nested routes also match hands the alert to them.
///
/// Each list of routes is indexed by one equality matcher per route, so an alert is only
/// tested against the routes that could match it; the result is the same as trying every
/// route in order. A class for the same reason as ``AlertPlanner``.
public final class AlertRouter: Sendable {
    public let repository: RuleRepository
    private let root: IndexedRoutes

    public init(repository: RuleRepository) {
        self.repository = repository
        self.root = IndexedRoutes(repository.routes)
    }

    /// The severity level of an alert: the source's own severity, else its severity label,
    /// normalized through `severities:`.
    public func severity(of alert: Alert) -> String {
        repository.severities.normalize(alert.severity ?? alert.labels[repository.severities.label])
    }

    /// The routes that take `alert`, in order.
    public func matchingRoutes(for alert: Alert) -> [Route] {
        matchingRouteEntries(for: alert, severity: severity(of: alert)).map(\.route)
    }

    /// The routes that take `alert`, whose ``severity(of:)`` is `severity`, as the router
    /// holds them: planning looks up routes for every alert of a webhook, and a copy of a
    /// route retains every table and string in it.
    func matchingRouteEntries(for alert: Alert, severity: String) -> [RouteEntry] {
        var result: [RouteEntry] = []
        root.collect(labels: alert.labels, severity: severity, into: &result)
        return result
    }
}

/// A route in the router's tables, shared rather than copied.
final class RouteEntry: Sendable {
    let route: Route

    init(_ route: Route) {
        self.route = route
    }
}

/// One list of sibling routes with an index from an equality matcher to the routes using it.
private struct IndexedRoutes: Sendable {
    let routes: [RouteEntry]
    let children: [IndexedRoutes]
    /// label name → label value → positions in `routes`.
    let index: [String: [String: [Int]]]
    /// Routes without an indexable matcher: candidates for every alert.
    let unindexed: [Int]

    init(_ routes: [Route]) {
        self.routes = routes.map(RouteEntry.init)
        self.children = routes.map { IndexedRoutes($0.routes) }
        var index: [String: [String: [Int]]] = [:]
        var unindexed: [Int] = []
        for (position, route) in routes.enumerated() {
            if let matcher = route.matchers.first(where: { $0.isEquality && !$0.value.isEmpty }) {
                index[matcher.name, default: [:]][matcher.value, default: []].append(position)
            } else {
                unindexed.append(position)
            }
        }
        self.index = index
        self.unindexed = unindexed
    }

    /// Appends the routes that take an alert; returns whether any did.
    @discardableResult
    func collect(labels: LabelSet, severity: String, into result: inout [RouteEntry]) -> Bool {
        var candidates = unindexed
        for (name, byValue) in index {
            if let value = labels[name], let positions = byValue[value] { candidates.append(contentsOf: positions) }
        }
        if candidates.count != unindexed.count, !unindexed.isEmpty || index.count > 1 { candidates.sort() }
        var matched = false
        for position in candidates {
            let entry = routes[position]
            guard Self.matches(entry, labels: labels, severity: severity) else { continue }
            matched = true
            if !children[position].collect(labels: labels, severity: severity, into: &result) {
                result.append(entry)
            }
            if !entry.route.continue { break }
        }
        return matched
    }

    private static func matches(_ entry: RouteEntry, labels: LabelSet, severity: String) -> Bool {
        if let severities = entry.route.severities, !severities.contains(severity) { return false }
        for matcher in entry.route.matchers where !matcher.matches(labels) { return false }
        return true
    }
}
