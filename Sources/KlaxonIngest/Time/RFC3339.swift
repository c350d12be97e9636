import Foundation

/// RFC 3339 timestamps as monitoring systems write them, parsed and printed by hand
/// (no `DateFormatter`, no locale, no allocation on the parse path).
///
/// ``parse(_:)`` accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`:
/// - any number of fractional digits (Alertmanager writes 0 to 9; digits past the ninth are
///   ignored), `T`, `t` or a space between date and time, `Z` or `z` for UTC;
/// - a leap second (`:60`) is read as the first instant of the next minute;
/// - fields are range-checked (month 1–12, day within its month, hour 0–23, ...).
///
/// Anything else gives nil. ``parse(_:)`` returns Alertmanager's zero time
/// (`0001-01-01T00:00:00Z`) as a date like any other; ``isZeroTime(_:)`` recognises it.
public enum RFC3339 {
    /// Go's zero `time.Time`, `0001-01-01T00:00:00Z`, in seconds since 1970.
    static let zeroTimeSince1970: Double = -62_135_596_800
    /// The instants from Go's zero time up to the end of year 9999, in seconds since 1970:
    /// the four-digit years this text form can spell. Dates from numbers are held to it too.
    static let yearsOneTo9999Since1970: Range<Double> = zeroTimeSince1970..<253_402_300_800
    private static let secondsFrom1970To2001: Int64 = 978_307_200

    /// The date `text` stands for, or nil when it is not an RFC 3339 date-time.
    public static func parse(_ text: String) -> Date? {
        if let date = text.utf8.withContiguousStorageIfAvailable({ parse(utf8: $0) }) {
            return date
        }
        return Array(text.utf8).withUnsafeBufferPointer { parse(utf8: $0) }
    }

    /// Whether `date` is Go's zero time (or earlier), which Alertmanager and Grafana send as
    /// the `endsAt` of a firing alert to mean "not set".
    public static func isZeroTime(_ date: Date) -> Bool {
        date.timeIntervalSince1970 <= zeroTimeSince1970
    }

    /// `date` in UTC as `YYYY-MM-DDTHH:MM:SS[.mmm]Z`: milliseconds (rounded) only when they are
    /// not zero.
    public static func format(_ date: Date) -> String {
        var whole = date.timeIntervalSinceReferenceDate.rounded(.down)
        var milliseconds = ((date.timeIntervalSinceReferenceDate - whole) * 1000).rounded()
        if milliseconds >= 1000 {
            whole += 1
            milliseconds = 0
        }
        let seconds = Int64(whole) + secondsFrom1970To2001
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        var out = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        out += "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if milliseconds > 0 {
            out += "." + pad(Int64(milliseconds), 3)
        }
        return out + "Z"
    }

    /// Parses the UTF-8 bytes of an RFC 3339 date-time.
    static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        // YYYY-MM-DDTHH:MM:SS is 19 bytes; the shortest complete form adds "Z".
        guard bytes.count >= 20 else { return nil }
        guard let year = digits(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = digits(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
            let day = digits(bytes, 8, 2),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            let hour = digits(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
            let minute = digits(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
            let second = digits(bytes, 17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var index = 19
        var nanoseconds: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, let digit = digit(bytes[index]) {
                if count < 9 {
                    nanoseconds = nanoseconds * 10 + digit
                }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in min(count, 9)..<9 { nanoseconds *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count,
                let offsetHour = digits(bytes, index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                let offsetMinute = digits(bytes, index + 4, 2),
                offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // One rounding: whole seconds relative to Date's own epoch, plus the fraction.
        let sinceReference = Double(seconds - secondsFrom1970To2001) + Double(nanoseconds) / 1e9
        return Date(timeIntervalSinceReferenceDate: sinceReference)
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)

    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }

    private static func digit(_ byte: UInt8) -> Int64? {
        let value = byte &- UInt8(ascii: "0")
        return value < 10 ? Int64(value) : nil
    }

    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for position in start..<start + count {
            guard let digit = digit(bytes[position]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
