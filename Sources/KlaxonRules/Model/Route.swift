import KlaxonCore

/// One entry of `routes:` (or of a route's nested `routes:`).
///
/// ``settings`` holds what the route itself wrote; ``effective`` adds what it inherits
/// from its parents, as Alertmanager's route tree does.
public struct Route: Sendable {
    /// `name:` or its path, like `routes[2].routes[0]`.
    public var name: String
    public var path: String
    public var matchers: [LabelMatcher]
    /// Severity levels this route takes; nil takes every level.
    public var severities: [String]?
    /// Keep looking at later siblings after this route matched.
    public var `continue`: Bool
    public var routes: [Route]
    public var settings: RouteSettings
    public var effective: RouteSettings
    public var location: SourceLocation
    /// Where `voice`, `providers`, `escalation` and `severities` were written, for messages.
    public var keyLocations: [String: SourceLocation] = [:]
}

/// The settings a route may set and its nested routes inherit.
public struct RouteSettings: Sendable, Hashable {
    public var voice: String?
    /// Provider names in failover order.
    public var providers: [String]?
    public var escalation: String?
    public var priority: Int?
    public var dedupe: Dedupe?
    public var activeHours: TimeWindow?
    public var quietHours: TimeWindow?
    public var rateLimit: RateLimit?
    public var storm: StormGuard?
    /// Route matched alerts nowhere: matched, recorded, never called.
    public var drop: Bool?

    public init() {}

    /// Fills what this route leaves unset from its parent.
    public func inheriting(from parent: RouteSettings) -> RouteSettings {
        var merged = self
        merged.voice = voice ?? parent.voice
        merged.providers = providers ?? parent.providers
        merged.escalation = escalation ?? parent.escalation
        merged.priority = priority ?? parent.priority
        merged.dedupe = dedupe ?? parent.dedupe
        merged.activeHours = activeHours ?? parent.activeHours
        merged.quietHours = quietHours ?? parent.quietHours
        merged.rateLimit = rateLimit ?? parent.rateLimit
        merged.storm = storm ?? parent.storm
        merged.drop = drop ?? parent.drop
        return merged
    }
}

/// `dedupe:`: which labels make two alerts the same incident.
public struct Dedupe: Sendable, Hashable {
    public var by: [String]
    /// How long after resolve a repeat still joins the old incident (nil: never).
    public var window: Duration?
}

/// `active_hours:` or `quiet_hours:`: days of the week and times of day in a timezone.
public struct TimeWindow: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// Hold steps until the window ends.
        case defer_ = "defer"
        /// Drop steps that fall in the window.
        case skip
    }

    public var timezone: String
    /// 1 = Monday ... 7 = Sunday; empty means every day.
    public var weekdays: Set<Int>
    public var ranges: [TimeRange]
    public var action: Action

    /// Minutes after midnight, start inclusive, end exclusive; an end before the start wraps
    /// midnight, and an end equal to the start is the whole day (`days:` without `times:`).
    public struct TimeRange: Sendable, Hashable {
        public var start: Int
        public var end: Int
    }
}

/// `rate_limit:`: at most `calls` calls to one recipient per `window`.
public struct RateLimit: Sendable, Hashable {
    public var calls: Int
    public var window: Duration
}

/// `storm:`: more than `threshold` new incidents within `window` become one summary call.
public struct StormGuard: Sendable, Hashable {
    public var threshold: Int
    public var window: Duration
}
