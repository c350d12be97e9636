/// Prometheus-style durations (`30s`, `5m`, `1h30m`, `1d`, `1w`, `500ms`) as Swift `Duration`s.
///
/// The grammar is Prometheus' `model.ParseDuration` without years: one or more
/// `<digits><unit>` parts with units `w` (7 days), `d` (24 hours), `h`, `m`, `s`, `ms`,
/// each unit at most once and from largest to smallest; or a bare `0`. There are no signs,
/// fractions or spaces. The total must fit in a signed 64-bit count of milliseconds
/// (about 292 million years), as in Prometheus.
public enum DurationParser {
    /// Units from largest to smallest, with their length in milliseconds.
    private static let units: [(name: String, milliseconds: Int64)] = [
        ("w", 7 * 24 * 3_600_000),
        ("d", 24 * 3_600_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ]

    private static let unitList = "ms, s, m, h, d or w"

    /// Parses `text`, such as `1h30m`, into a duration.
    ///
    /// - Throws: ``DurationError`` naming the problem and its offset in `text`.
    public static func parse(_ text: String) throws(DurationError) -> Duration {
        let scalars = Array(text.unicodeScalars)
        if scalars.isEmpty { throw DurationError(message: "empty duration", offset: 0) }
        if scalars == ["0"] { return .zero }
        if scalars[0] == "-" { throw DurationError(message: "negative durations are not allowed", offset: 0) }

        var index = 0
        var total: Int64 = 0
        var previousUnit: Int?  // index into `units`
        while index < scalars.count {
            let numberStart = index
            var number: Int64 = 0
            while index < scalars.count, let digit = digitValue(scalars[index]) {
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                if overflow1 || overflow2 { throw outOfRange(numberStart) }
                number = sum
                index += 1
            }
            if index == numberStart {
                throw DurationError(message: "expected a number, found \(describe(scalars[index]))", offset: index)
            }
            let digits = String(String.UnicodeScalarView(scalars[numberStart..<index]))
            if index < scalars.count, scalars[index] == "." {
                throw DurationError(
                    message: "fractions are not allowed; use a smaller unit (90m, not 1.5h)",
                    offset: index
                )
            }

            let unitStart = index
            while index < scalars.count, scalars[index].properties.isAlphabetic { index += 1 }
            let unit = String(String.UnicodeScalarView(scalars[unitStart..<index]))
            if unit.isEmpty {
                let problem = index < scalars.count ? "unexpected \(describe(scalars[index]))" : "missing unit"
                throw DurationError(message: "\(problem) after \(digits); use \(unitList)", offset: index)
            }
            guard let unitIndex = units.firstIndex(where: { $0.name == unit }) else {
                throw DurationError(message: "unknown unit \"\(unit)\"; use \(unitList)", offset: unitStart)
            }
            if let previousUnit {
                if unitIndex == previousUnit {
                    throw DurationError(message: "unit \"\(unit)\" appears twice", offset: unitStart)
                }
                if unitIndex < previousUnit {
                    throw DurationError(
                        message: "unit \"\(unit)\" must come before \"\(units[previousUnit].name)\"; "
                            + "write units from largest to smallest",
                        offset: unitStart
                    )
                }
            }
            previousUnit = unitIndex

            let (part, overflow1) = number.multipliedReportingOverflow(by: units[unitIndex].milliseconds)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            if overflow1 || overflow2 { throw outOfRange(numberStart) }
            total = sum
        }
        return .milliseconds(total)
    }

    /// The shortest form that ``parse(_:)`` reads back as the same duration: `90s` is
    /// `1m30s`, zero is `0s`, `3600s` is `1h`.
    ///
    /// Precision below a millisecond is truncated toward zero; a negative duration is
    /// formatted with a leading `-` (which ``parse(_:)`` rejects).
    public static func format(_ duration: Duration) -> String {
        if duration < .zero { return "-" + format(.zero - duration) }
        // Whole seconds and milliseconds separately: seconds × 1000 can overflow Int64.
        let (seconds, attoseconds) = duration.components
        var remaining = UInt64(seconds)
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if remaining == 0 && milliseconds == 0 { return "0s" }
        var text = ""
        for unit in units.dropLast() {  // all but ms, the last, are whole seconds
            let size = UInt64(unit.milliseconds / 1000)
            let count = remaining / size
            if count > 0 {
                text += "\(count)\(unit.name)"
                remaining -= count * size
            }
        }
        if milliseconds > 0 { text += "\(milliseconds)ms" }
        return text
    }

    private static func digitValue(_ scalar: Unicode.Scalar) -> Int64? {
        ("0"..."9").contains(scalar) ? Int64(scalar.value - 48) : nil
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        "\"" + String(scalar) + "\""
    }

    private static func outOfRange(_ offset: Int) -> DurationError {
        DurationError(message: "duration is too long", offset: offset)
    }
}
