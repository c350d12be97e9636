import Foundation
import KlaxonRules

extension TimeWindow {
    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timezone) ?? TimeZone(secondsFromGMT: 0)!
        return calendar
    }

    /// Whether `date` falls inside one of the window's ranges on one of its days, as the
    /// wall clock reads in the window's timezone. A range that wraps midnight belongs to the
    /// day it starts on. While the clocks repeat an hour (they went back), a window that held
    /// when they went back still holds: read by the wall clock alone, quiet hours that began
    /// in the first pass (02:30-06:00, the clocks back at 03:00) would let calls through
    /// until the wall clock read 02:30 again.
    public func contains(_ date: Date) -> Bool {
        if wallClockContains(date) { return true }
        let zone = calendar.timeZone
        guard let change = zone.nextDaylightSavingTimeTransition(after: date.addingTimeInterval(-3 * 3600)), change <= date else {
            return false
        }
        let before = change.addingTimeInterval(-1)
        let repeated = zone.secondsFromGMT(for: before) - zone.secondsFromGMT(for: change)
        return repeated > 0 && date < change.addingTimeInterval(Double(repeated)) && wallClockContains(before)
    }

    private func wallClockContains(_ date: Date) -> Bool {
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

    /// When the stretch that `date` is in began: the last instant at or before `date` where
    /// `contains` turned to what it is at `date`. Nil when it has not changed in the eight
    /// days before.
    public func stretchStart(containing date: Date) -> Date? {
        let inside = contains(date)
        var start: Date?
        var time = date.addingTimeInterval(-8 * 86_400)
        while time < date {
            guard let change = contains(time) ? nextExit(from: time) : nextEntry(from: time), change <= date else { break }
            if contains(change) == inside { start = change }
            time = change
        }
        return start
    }

    /// `contains` reads the wall clock, so membership only changes where the wall clock
    /// crosses a range's start or end or midnight, or jumps (the zone's UTC offset changes):
    /// those instants over the next eight days are the only candidates, and the first that
    /// is `wanted` is the answer. Boundaries are wall-clock times, also on the days the clocks
    /// change (midnight plus 480 minutes is not 08:00 then):
    /// - A time the clocks skip (02:30 on a spring-forward day in Berlin) has no instant; the
    ///   boundary is the first instant after the gap, the change of offset itself (03:00),
    ///   when the wall clock first reads past that time.
    /// - A time the clocks repeat (02:30 on a fall-back day) is a boundary at both instants,
    ///   and the first one after `date` wins: quiet hours end, and active hours start, at the
    ///   first 02:30, the earliest a held page may go out. The wall clock then reads 02:00
    ///   again, inside a range such as 22:00-02:30 once more, until the second 02:30.
    private func firstChange(from date: Date, where wanted: (Date) -> Bool) -> Date? {
        if wanted(date) { return date }
        let zone = calendar.timeZone
        let spans = Self.offsetSpans(of: zone, from: date, to: date.addingTimeInterval(12 * 86_400))
        // Each change of offset, where the wall clock jumps.
        var candidates = spans.dropFirst().map(\.start)
        // Seconds since 1970 on a clock that reads local wall time, and that clock's midnight.
        let wall = date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))
        let midnight = (wall / 86_400).rounded(.down) * 86_400
        let minutes = Set([0, 24 * 60] + ranges.flatMap { [$0.start, $0.end] })
        for day in -1...8 {
            for minute in minutes {
                let local = midnight + Double(day * 86_400 + minute * 60)
                // The wall time happens in each span whose offset maps it inside that span:
                // once on an ordinary day, twice when the clocks repeat it, never in a gap.
                for span in spans {
                    let instant = Date(timeIntervalSince1970: local - Double(span.offset))
                    if instant > date, instant >= span.start, instant < span.end { candidates.append(instant) }
                }
            }
        }
        return candidates.sorted().first(where: wanted)
    }

    /// A stretch of time over which the zone's UTC offset does not change.
    private struct OffsetSpan {
        var start: Date
        var end: Date
        var offset: Int
    }

    /// The stretches of constant UTC offset that cover `from..<to`, split at every change of
    /// the zone's offset (daylight saving or a change of standard time).
    private static func offsetSpans(of zone: TimeZone, from: Date, to: Date) -> [OffsetSpan] {
        var spans: [OffsetSpan] = []
        var start = from
        while start < to {
            var end = to
            if let next = zone.nextDaylightSavingTimeTransition(after: start), next > start, next < to { end = next }
            spans.append(OffsetSpan(start: start, end: end, offset: zone.secondsFromGMT(for: start)))
            start = end
        }
        return spans
    }

    private func takes(_ weekday: Int) -> Bool {
        weekdays.isEmpty || weekdays.contains(weekday)
    }

    /// Foundation counts Sunday as 1; the rules count Monday as 1.
    private static func isoWeekday(_ foundation: Int) -> Int {
        foundation == 1 ? 7 : foundation - 1
    }
}
