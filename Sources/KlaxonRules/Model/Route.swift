import Foundation
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

extension RouteSettings {
    /// Whether some minute of the week is inside active hours (if set) and outside quiet
    /// hours (if set); a route without one would never call anyone. Checked in January and
    /// in July, as the two windows' timezones may keep daylight saving time differently.
    public var leavesTimeToCall: Bool {
        let january = Date(timeIntervalSince1970: 1_768_435_200)  // 2026-01-15
        let july = Date(timeIntervalSince1970: 1_784_073_600)  // 2026-07-15
        return [january, july].allSatisfy { date in
            let quiet = quietHours?.minutesOfWeek(inUTCAt: date)
            let active = activeHours?.minutesOfWeek(inUTCAt: date)
            return (0..<TimeWindow.minutesInWeek).contains { quiet?[$0] != true && active?[$0] != false }
        }
    }
}

extension TimeWindow {
    static let minutesInWeek = 7 * 1440

    /// For each minute of a week from Monday 00:00 UTC, whether the window holds it, with its
    /// zone's offset from UTC at `date` (a range that wraps midnight belongs to the day it
    /// starts on).
    func minutesOfWeek(inUTCAt date: Date) -> [Bool] {
        let offset = (TimeZone(identifier: timezone)?.secondsFromGMT(for: date) ?? 0) / 60
        var inside = [Bool](repeating: false, count: Self.minutesInWeek)
        for day in 1...7 where weekdays.isEmpty || weekdays.contains(day) {
            for range in ranges {
                let length = range.start < range.end ? range.end - range.start : range.end - range.start + 1440
                let first = (day - 1) * 1440 + range.start - offset + Self.minutesInWeek
                for minute in first..<(first + length) { inside[minute % Self.minutesInWeek] = true }
            }
        }
        return inside
    }
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
