import KlaxonCore
import Testing

@Suite struct DurationParserTests {
    static let valid: [(String, Duration)] = [
        ("0", Duration.zero),
        ("0s", .zero),
        ("0ms", .zero),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("1h30m", .seconds(5400)),
        ("1d", .seconds(86400)),
        ("1w", .seconds(604_800)),
        ("500ms", .milliseconds(500)),
        ("1h0m30s", .seconds(3630)),
        ("90s", .seconds(90)),
        ("1w2d3h4m5s6ms", .milliseconds(788_645_006)),
        ("01m", .seconds(60)),
        ("36h", .seconds(129_600)),
        ("15250284452w", .seconds(15_250_284_452 * 604_800)),
    ]

    @Test(arguments: valid)
    func parses(text: String, expected: Duration) throws {
        #expect(try DurationParser.parse(text) == expected)
    }

    static let canonical: [(Duration, String)] = [
        (.zero, "0s"),
        (.seconds(90), "1m30s"),
        (.seconds(3600), "1h"),
        (.seconds(3630), "1h30s"),
        (.seconds(86400), "1d"),
        (.seconds(8 * 86400), "1w1d"),
        (.milliseconds(500), "500ms"),
        (.milliseconds(1500), "1s500ms"),
        (.seconds(14 * 86400 + 1), "2w1s"),
        (.milliseconds(1), "1ms"),
        (.nanoseconds(999_999), "0s"),
        (.nanoseconds(1_999_999), "1ms"),
        (.seconds(-90), "-1m30s"),
        (.milliseconds(-1500), "-1s500ms"),
    ]

    @Test(arguments: canonical)
    func formats(duration: Duration, expected: String) {
        #expect(DurationParser.format(duration) == expected)
    }

    @Test func canonicalRoundTrips() throws {
        for text in ["0s", "30s", "5m", "1h30m", "1d", "1w", "500ms", "1h30s", "1w1d1h1m1s1ms", "52w"] {
            #expect(try DurationParser.format(DurationParser.parse(text)) == text)
        }
        // Non-canonical spellings come back in canonical form.
        for (text, canonical) in [
            ("0", "0s"), ("90s", "1m30s"), ("3600s", "1h"), ("1h0m30s", "1h30s"), ("7d", "1w"), ("1000ms", "1s"), ("60m", "1h"),
        ] {
            #expect(try DurationParser.format(DurationParser.parse(text)) == canonical)
        }
    }

    @Test func formatThenParseIsIdentityOnMilliseconds() throws {
        var value: Int64 = 1
        while value < 10_000_000_000_000 {
            let duration = Duration.milliseconds(value)
            #expect(try DurationParser.parse(DurationParser.format(duration)) == duration)
            value = value * 7 + 3
        }
    }

    @Test func largestDuration() throws {
        #expect(try DurationParser.parse("9223372036854775807ms") == .milliseconds(Int64.max))
        let formatted = DurationParser.format(.milliseconds(Int64.max))
        #expect(try DurationParser.parse(formatted) == .milliseconds(Int64.max))
        // Seconds × 1000 would overflow Int64; format must not trap.
        #expect(DurationParser.format(.seconds(Int64.max)).hasSuffix("7s"))
    }

    @Test(arguments: [
        ("", "empty duration", 0),
        ("-5m", "negative durations are not allowed", 0),
        ("1.5h", "fractions are not allowed; use a smaller unit (90m, not 1.5h)", 1),
        ("1h0.5m", "fractions are not allowed; use a smaller unit (90m, not 1.5h)", 3),
        ("5", "missing unit after 5; use ms, s, m, h, d or w", 1),
        ("00", "missing unit after 00; use ms, s, m, h, d or w", 2),
        ("1h30", "missing unit after 30; use ms, s, m, h, d or w", 4),
        ("5 m", "unexpected \" \" after 5; use ms, s, m, h, d or w", 1),
        ("5x", "unknown unit \"x\"; use ms, s, m, h, d or w", 1),
        ("1y", "unknown unit \"y\"; use ms, s, m, h, d or w", 1),
        ("1h5mm", "unknown unit \"mm\"; use ms, s, m, h, d or w", 3),
        ("5M", "unknown unit \"M\"; use ms, s, m, h, d or w", 1),
        ("m", "expected a number, found \"m\"", 0),
        (" 5m", "expected a number, found \" \"", 0),
        ("5m ", "expected a number, found \" \"", 2),
        ("+5m", "expected a number, found \"+\"", 0),
        ("1m1h", "unit \"h\" must come before \"m\"; write units from largest to smallest", 3),
        ("500ms1s", "unit \"s\" must come before \"ms\"; write units from largest to smallest", 6),
        ("1m1m", "unit \"m\" appears twice", 3),
        ("1h2h", "unit \"h\" appears twice", 3),
        ("9223372036854775808ms", "duration is too long", 0),
        ("1h9223372036854775807ms", "duration is too long", 2),
        ("15250284453w", "duration is too long", 0),
    ])
    func rejects(text: String, message: String, offset: Int) {
        #expect(throws: DurationError(message: message, offset: offset)) {
            try DurationParser.parse(text)
        }
    }

    @Test func helpers() {
        #expect(Duration.milliseconds(1500).klaxonSeconds == 1.5)
        #expect(Duration.zero.klaxonSeconds == 0)
        #expect(Duration.seconds(5400).klaxonFormatted == "1h30m")
        #expect(DurationError(message: "empty duration", offset: 0).description == "offset 0: empty duration")
    }
}
