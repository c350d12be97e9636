import Foundation
import KlaxonCore

extension RepositoryBuilder {
    static let routeKeys = [
        "name", "match", "matchers", "severities", "continue", "routes", "voice", "providers", "escalation", "priority",
        "dedupe", "active_hours", "quiet_hours", "rate_limit", "storm", "drop",
    ]

    func parseRoute(_ node: ConfigNode, path: String, parent: RouteSettings) -> Route? {
        guard let map = node.mapping(path, keys: Self.routeKeys) else { return nil }
        var name = path
        if let nameNode = map["name"], let text = nameNode.string("\(path).name") {
            name = text
        } else if map["name"] == nil {
            // Incidents are keyed by their route's name: a name that is a place in the list
            // changes when a route is added or removed before it, and then the recoveries and
            // repeats of the alerts of open incidents no longer find them.
            context.warning(
                node.location,
                "\(path): the route has no name, so it is called \(path), its place in the list; adding or removing a route before it renames it, and the recoveries of its open incidents would not find them: give it name:"
            )
        }
        define("route", name, at: map["name"]?.location ?? node.location)
        let what = name == path ? path : "route \"\(name)\""

        var matchers: [LabelMatcher] = []
        // `match:` with nothing under it (its one line commented out) takes every alert.
        for key in ["match", "matchers"] where map.has(key) && map[key] == nil {
            if let location = map.keyLocation(key) {
                context.warning(location, "\(what).\(key): is empty, so the route takes every alert; remove the key if that is meant")
            }
        }
        if let matchNode = map["match"], let entries = matchNode.entries("\(what).match") {
            for entry in entries {
                guard let value = entry.value.string("\(what).match.\(entry.key)") else { continue }
                do {
                    matchers.append(try LabelMatcher(name: entry.key, type: .equal, value: value))
                } catch {
                    context.error(entry.keyLocation, "\(what).match: \(error.message)")
                }
            }
        }
        if let matchersNode = map["matchers"], let items = matchersNode.stringList("\(what).matchers") {
            for (text, item) in items {
                do {
                    matchers.append(contentsOf: try MatcherParser.parseMatchers(text))
                } catch {
                    context.error(item.location.advanced(by: error.offset + (item.isQuoted ? 1 : 0)), "\(what).matchers: \(error.message)")
                }
            }
        }

        var settings = RouteSettings()
        settings.voice = map["voice"]?.string("\(what).voice")
        settings.providers = map["providers"]?.stringList("\(what).providers")?.map(\.0)
        settings.escalation = map["escalation"]?.string("\(what).escalation")
        settings.priority = map["priority"]?.int("\(what).priority", in: 1...9)
        settings.drop = map["drop"]?.bool("\(what).drop")
        if let dedupeNode = map["dedupe"], let dedupe = dedupeNode.mapping("\(what).dedupe", keys: ["by", "window"]) {
            let by = dedupe["by"]?.stringList("\(what).dedupe.by")?.map(\.0) ?? []
            if by.isEmpty, let byNode = dedupe.required("by") {
                context.error(byNode.location, "\(what).dedupe.by: name at least one label")
            }
            settings.dedupe = Dedupe(by: by, window: dedupe["window"]?.duration("\(what).dedupe.window"))
        }
        if let windowNode = map["active_hours"] {
            settings.activeHours = parseTimeWindow(windowNode, what: "\(what).active_hours", defaultAction: .defer_)
        }
        if let windowNode = map["quiet_hours"] {
            settings.quietHours = parseTimeWindow(windowNode, what: "\(what).quiet_hours", defaultAction: .defer_)
        }
        if let limitNode = map["rate_limit"], let limit = limitNode.mapping("\(what).rate_limit", keys: ["calls", "window"]) {
            if let calls = limit.required("calls")?.int("\(what).rate_limit.calls", in: 1...1000),
                let window = limit.required("window")?.duration("\(what).rate_limit.window")
            {
                settings.rateLimit = RateLimit(calls: calls, window: window)
            }
        }
        if let stormNode = map["storm"], let storm = stormNode.mapping("\(what).storm", keys: ["threshold", "window"]) {
            if let threshold = storm.required("threshold")?.int("\(what).storm.threshold", in: 2...100_000),
                let window = storm.required("window")?.duration("\(what).storm.window")
            {
                settings.storm = StormGuard(threshold: threshold, window: window)
            }
        }
        let effective = settings.inheriting(from: parent)

        var children: [Route] = []
        if let routesNode = map["routes"], let items = routesNode.sequence("\(what).routes") {
            for (index, item) in items.enumerated() {
                if let child = parseRoute(item, path: "\(path).routes[\(index)]", parent: effective) { children.append(child) }
            }
        }
        return Route(
            name: name,
            path: path,
            matchers: matchers,
            severities: map["severities"]?.stringList("\(what).severities")?.map(\.0),
            continue: map["continue"]?.bool("\(what).continue") ?? false,
            routes: children,
            settings: settings,
            effective: effective,
            location: node.location,
            keyLocations: Dictionary(
                uniqueKeysWithValues: ["voice", "providers", "escalation", "severities", "quiet_hours", "active_hours"].compactMap { key in
                    map[key].map { (key, $0.location) }
                }
            )
        )
    }

    private static let weekdayNames = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    private func parseTimeWindow(_ node: ConfigNode, what: String, defaultAction: TimeWindow.Action) -> TimeWindow? {
        guard let map = node.mapping(what, keys: ["timezone", "days", "times", "action"]) else { return nil }
        var window = TimeWindow(timezone: "UTC", weekdays: [], ranges: [], action: defaultAction)
        if map["timezone"] == nil {
            // Written by someone in Shanghai, "22:00-08:00" in UTC holds pages all day there.
            context.warning(
                node.location,
                "\(what): no timezone, so its days and times are UTC; add one (timezone: Asia/Shanghai), or timezone: UTC to say so"
            )
        }
        if let zoneNode = map["timezone"], let zone = zoneNode.string("\(what).timezone") {
            if TimeZoneCheck.isKnown(zone) {
                window.timezone = zone
            } else {
                context.error(zoneNode.location, "\(what).timezone: unknown timezone \"\(zone)\"")
            }
        }
        for (text, item) in map["days"]?.stringList("\(what).days") ?? [] {
            let parts = text.lowercased().split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            let numbers = parts.map { Self.weekdayNames[String($0.prefix(3))] }
            guard (1...2).contains(parts.count), numbers.allSatisfy({ $0 != nil }) else {
                context.error(item.location, "\(what).days: expected a day like mon or a range like mon-fri, got \"\(text)\"")
                continue
            }
            let first = numbers[0]!
            let last = numbers.last!!
            var day = first
            while true {
                window.weekdays.insert(day)
                if day == last { break }
                day = day % 7 + 1
            }
        }
        for (text, item) in map["times"]?.stringList("\(what).times") ?? [] {
            let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let start = Self.minutes(parts[0]), let end = Self.minutes(parts[1]), start != end else {
                context.error(item.location, "\(what).times: expected a range like 09:00-18:00 (24-hour clock), got \"\(text)\"")
                continue
            }
            window.ranges.append(TimeWindow.TimeRange(start: start, end: end))
        }
        if map["times"] == nil && map["days"] == nil {
            context.error(node.location, "\(what): set days, times or both")
        } else if map["times"] == nil {
            // Days alone are whole days: `days: [sat, sun]` is the weekend.
            window.ranges = [TimeWindow.TimeRange(start: 0, end: 0)]
        }
        if let actionNode = map["action"], let text = actionNode.string("\(what).action") {
            if let action = TimeWindow.Action(rawValue: text) {
                window.action = action
            } else {
                context.error(actionNode.location, "\(what).action: expected defer or skip, got \"\(text)\"")
            }
        }
        return window
    }

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440
        else { return nil }
        return hour * 60 + minute
    }
}
