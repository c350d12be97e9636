import KlaxonCore

/// What klaxon would do with one alert: its severity and, per matching route, the
/// incident it belongs to, what is played and who is called when.
public struct AlertPlan: Sendable {
    public var alert: Alert
    public var severity: String
    /// The severity level says `drop: true`: nobody is called.
    public var dropped: Bool
    public var matches: [RouteMatch]
}

/// One route an alert takes, with everything needed to page for it.
public struct RouteMatch: Sendable {
    public var route: String
    /// 1 (highest) to 9.
    public var priority: Int
    public var dedupeKey: String
    public var voice: String?
    /// The voice's params rendered over the alert.
    public var params: [String]
    /// Provider names in failover order.
    public var providers: [String]
    public var escalation: String?
    public var steps: [PlannedStep]
    /// The route says `drop: true`: the alert is taken here and nobody is called.
    public var dropped: Bool
    /// Values a vendor limit would cut, one line each.
    public var warnings: [String]
}

/// One step of an escalation plan, with rounds of `repeat` unrolled.
public struct PlannedStep: Sendable, Hashable {
    /// 1-based, counting across repeats.
    public var step: Int
    public var after: Duration
    public var recipients: [Recipient]
    /// The step's `notify:` as written (`alice`, `group:dba`): a step run after a reload
    /// calls the groups' members then.
    public var notify: [String] = []
}
