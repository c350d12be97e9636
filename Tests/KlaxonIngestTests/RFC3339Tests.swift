import Foundation
import Testing

@testable import KlaxonIngest

@Suite struct RFC3339Tests {
    private func seconds(_ text: String) -> Double? {
        RFC3339.parse(text)?.timeIntervalSince1970
    }

    @Test func wholeSeconds() {
        #expect(seconds("2026-11-22T18:56:47Z") == 1_795_373_807)
        #expect(seconds("1970-01-01T00:00:00Z") == 0)
        #expect(seconds("2000-02-29T00:00:00Z") == 951_782_400)
        #expect(seconds("9999-12-31T23:59:59Z") == 253_402_300_799)
    }

    @Test(arguments: [
        ("2026-11-22T18:56:47Z", 0.0),
        ("2026-11-22T18:56:47.7Z", 0.7),
        ("2026-11-22T18:56:47.789Z", 0.789),
        ("2026-11-22T18:56:47.789123Z", 0.789123),
        ("2026-11-22T18:56:47.623967497Z", 0.623967497),
        ("2026-11-22T18:56:47.000000001Z", 0.000000001),
        ("2026-11-22T18:56:47.1234567891234Z", 0.123456789),
    ])
    func fractionalDigits(text: String, fraction: Double) throws {
        let parsed = try #require(seconds(text))
        #expect(abs(parsed - (1_795_373_807 + fraction)) < 1e-6)
    }

    @Test func nanosecondsSurviveToTheMicrosecond() throws {
        let date = try #require(RFC3339.parse("2026-11-22T18:56:30.623967497Z"))
        let fraction = date.timeIntervalSinceReferenceDate - date.timeIntervalSinceReferenceDate.rounded(.down)
        #expect(abs(fraction - 0.623967497) < 1e-6)
    }

    @Test func offsets() {
        #expect(seconds("2026-11-22T19:56:47+01:00") == 1_795_373_807)
        #expect(seconds("2026-11-22T13:26:47-05:30") == 1_795_373_807)
        #expect(seconds("2026-11-23T02:56:47.250+08:00") == 1_795_373_807.25)
        #expect(seconds("2026-11-22T18:56:47+00:00") == 1_795_373_807)
        #expect(seconds("2026-11-22T18:56:47-00:00") == 1_795_373_807)
    }

    @Test func lenientSpellingsRFC3339Allows() {
        #expect(seconds("2026-11-22t18:56:47z") == 1_795_373_807)
        #expect(seconds("2026-11-22 18:56:47Z") == 1_795_373_807)
        // A leap second reads as the next minute's first instant.
        #expect(seconds("2016-12-31T23:59:60Z") == 1_483_228_800)
    }

    @Test func zeroTime() throws {
        let zero = try #require(RFC3339.parse("0001-01-01T00:00:00Z"))
        #expect(zero.timeIntervalSince1970 == -62_135_596_800)
        #expect(RFC3339.isZeroTime(zero))
        #expect(!RFC3339.isZeroTime(Date(timeIntervalSince1970: 0)))
    }

    @Test(arguments: [
        "", "2026-11-22", "2026-11-22T18:56:47", "2026-11-22T18:56Z", "2026-11-22T18:56:47.Z",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z", "2026-11-22T23:59:61Z",
        "2026-11-22T18:56:47+0100", "2026-11-22T18:56:47+01", "2026-11-22T18:56:47+24:00",
        "2026-11-22T18:56:47ZZ", "2026-11-22T18:56:47Z ", " 2026-11-22T18:56:47Z", "2026/11/22T18:56:47Z",
        "2026-11-22X18:56:47Z", "２０２６-11-22T18:56:47Z", "yesterday",
    ])
    func rejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsUTCWithMillisecondsOnlyWhenNonZero() throws {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_373_807)) == "2026-11-22T18:56:47Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_373_807.789)) == "2026-11-22T18:56:47.789Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_373_807.05)) == "2026-11-22T18:56:47.050Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_373_807.9996)) == "2026-11-22T18:56:48Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.format(try #require(RFC3339.parse("0001-01-01T00:00:00Z"))) == "0001-01-01T00:00:00Z")
        #expect(RFC3339.format(try #require(RFC3339.parse("2026-11-23T02:56:47.25+08:00"))) == "2026-11-22T18:56:47.250Z")
    }

    @Test func formatAndParseRoundTrip() throws {
        for seconds in stride(from: -2_000_000_000.0, through: 4_000_000_000.0, by: 86_399.125) {
            let date = Date(timeIntervalSince1970: seconds)
            let again = try #require(RFC3339.parse(RFC3339.format(date)))
            #expect(abs(again.timeIntervalSince1970 - seconds) < 0.0005)
        }
    }
}
