import Foundation
import KlaxonRules

extension TimeWindow {
    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timezone) ?? TimeZone(secondsFromGMT: 0)!
        return calendar
    }

    /// Whether `date` falls inside one of the window's ranges on one of its days. A range
    /// that wraps midnight belongs to the day it starts on.
    public func contains(_ date: Date) -> Bool {
        let calendar = calendar
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let today = Self.isoWeekday(parts.weekday ?? 1)
        let yesterday = today == 1 ? 7 : today - 1
        for range in ranges {
            if range.start == range.end {
                if takes(today) { return true }
            } else if range.start < range.end {
                if takes(today), minute >= range.start, minute < range.end { return true }
            } else {
                if takes(today), minute >= range.start { return true }
                if takes(yesterday), minute < range.end { return true }
            }
        }
        return false
    }

    /// The first instant at or after `date` that is outside the window; nil when the
    /// window never ends (every minute of every day).
    public func nextExit(from date: Date) -> Date? {
        firstChange(from: date) { !contains($0) }
    }

    /// The first instant at or after `date` that is inside the window; nil when it is empty.
    public func nextEntry(from date: Date) -> Date? {
        firstChange(from: date) { contains($0) }
    }

    /// Membership only changes at a range's start or end, so those instants over the
    /// next eight days are the only candidates.
    private func firstChange(from date: Date, where wanted: (Date) -> Bool) -> Date? {
        if wanted(date) { return date }
        let calendar = calendar
        let midnight = calendar.startOfDay(for: date)
        var candidates: [Date] = []
        for day in -1...8 {
            guard let start = calendar.date(byAdding: .day, value: day, to: midnight) else { continue }
            for range in ranges {
                for minute in [range.start, range.end] {
                    if let candidate = calendar.date(byAdding: .minute, value: minute, to: start), candidate > date {
                        candidates.append(candidate)
                    }
                }
            }
            if let next = calendar.date(byAdding: .day, value: 1, to: start), next > date { candidates.append(next) }
        }
        return candidates.sorted().first(where: wanted)
    }

    private func takes(_ weekday: Int) -> Bool {
        weekdays.isEmpty || weekdays.contains(weekday)
    }

    /// Foundation counts Sunday as 1; the rules count Monday as 1.
    private static func isoWeekday(_ foundation: Int) -> Int {
        foundation == 1 ? 7 : foundation - 1
    }
}
