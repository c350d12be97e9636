import Foundation

/// RFC 5322 date-time (`Tue, 03 Mar 2026 14:05:09 +0800`), with the obsolete forms real mail
/// still carries: no day of week, two- or three-digit years, no seconds, `UT`/`GMT`/`Z` and the
/// North American zone names, military zones (read as UTC, as RFC 5322 says), comments such
/// as `(CST)`. Anything else gives nil.
enum MailDate {
    static func parse(_ value: String) -> Date? {
        let text = MailAddress.stripComments(value).replacingOccurrences(of: ",", with: " ")
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).map(String.init)
        if let first = tokens.first, first.first?.isLetter == true { tokens.removeFirst() }
        guard tokens.count >= 4, tokens.count <= 6 else { return nil }
        guard let day = Int(tokens[0]), (1...31).contains(day),
            let month = months[String(tokens[1].prefix(3)).lowercased()],
            var year = Int(tokens[2]), year >= 0
        else { return nil }
        if tokens[2].count == 2 { year += year < 50 ? 2000 : 1900 } else if tokens[2].count == 3 { year += 1900 }
        guard (1900...9999).contains(year) else { return nil }
        let clock = tokens[3].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 2 || clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        var second = 0
        if clock.count == 3 {
            guard let parsed = Int(clock[2]), (0...60).contains(parsed) else { return nil }
            second = parsed
        }
        var offset = 0
        if tokens.count >= 5 {
            guard let zone = zoneOffset(tokens[4]) else { return nil }
            offset = zone
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static let months = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    ]

    private static let zones = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "edt": -4, "est": -5, "cdt": -5, "cst": -6, "mdt": -6, "mst": -7, "pdt": -7, "pst": -8,
    ]

    /// The zone's offset east of UTC in seconds.
    private static func zoneOffset(_ zone: String) -> Int? {
        if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5, let digits = Int(zone.dropFirst()) {
            let hours = digits / 100
            let minutes = digits % 100
            guard hours <= 99, minutes <= 59 else { return nil }
            return (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        if let hours = zones[zone.lowercased()] { return hours * 3600 }
        if zone.count == 1, zone.first?.isLetter == true { return 0 }
        return nil
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
