import Foundation
import KlaxonCore
import KlaxonEngine
import KlaxonRules
import Testing

/// Window boundaries are wall-clock times in the window's timezone, also on the days the
/// clocks change: 08:00 is 08:00 on the wall, not eight hours after midnight.
@Suite("Time windows across daylight-saving changes")
struct TimeWindowDaylightSavingTests {
    /// Instants are written in local time with that moment's UTC offset, e.g.
    /// `2024-10-27T02:30:00+02:00` (the first 02:30) and `2024-10-27T02:30:00+01:00` (the second).
    func at(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text), sourceLocation: sourceLocation)
    }

    /// The test route's `quiet_hours` (or `key`: `active_hours`).
    func window(
        _ times: String,
        in zone: String,
        days: String = "",
        key: String = "quiet_hours",
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws -> TimeWindow {
        let loaded = RuleLoader(environment: [:], mode: .serve).load(yaml: Self.yaml(key, times, in: zone, days: days), name: "test.yaml")
        #expect(loaded.errors.isEmpty, "\(loaded.errors.map(\.description))", sourceLocation: sourceLocation)
        let settings = try #require(loaded.repository?.routes.first?.effective, sourceLocation: sourceLocation)
        return try #require(key == "quiet_hours" ? settings.quietHours : settings.activeHours, sourceLocation: sourceLocation)
    }

    static func yaml(_ key: String, _ times: String, in zone: String, days: String = "") -> String {
        engineRules + """

                \(key):
                  timezone: \(zone)
                  times: ["\(times)"]
            \(days.isEmpty ? "" : "      days: [\(days)]\n")      action: defer
            """
    }

    // MARK: Europe/Berlin: clocks go back 03:00 -> 02:00 on 2024-10-27, forward 02:00 -> 03:00 on 2024-03-31.

    @Test func berlinQuietHoursEndAtEightWhenClocksGoBack() throws {
        let night = try window("22:00-08:00", in: "Europe/Berlin")
        #expect(try night.nextExit(from: at("2024-10-27T01:30:00+02:00")) == at("2024-10-27T08:00:00+01:00"))
        #expect(try night.nextExit(from: at("2024-10-26T23:00:00+02:00")) == at("2024-10-27T08:00:00+01:00"))
        // Both passes through the repeated hour are quiet, and end at the same 08:00.
        #expect(try night.nextExit(from: at("2024-10-27T02:30:00+02:00")) == at("2024-10-27T08:00:00+01:00"))
        #expect(try night.nextExit(from: at("2024-10-27T02:30:00+01:00")) == at("2024-10-27T08:00:00+01:00"))
        #expect(try night.nextEntry(from: at("2024-10-27T12:00:00+01:00")) == at("2024-10-27T22:00:00+01:00"))
    }

    @Test func berlinQuietHoursEndAtEightWhenClocksGoForward() throws {
        let night = try window("22:00-08:00", in: "Europe/Berlin")
        #expect(try night.nextExit(from: at("2024-03-31T01:30:00+01:00")) == at("2024-03-31T08:00:00+02:00"))
        #expect(try night.nextExit(from: at("2024-03-30T23:00:00+01:00")) == at("2024-03-31T08:00:00+02:00"))
        #expect(try night.nextEntry(from: at("2024-03-31T12:00:00+02:00")) == at("2024-03-31T22:00:00+02:00"))
    }

    @Test func berlinActiveHoursOpenAndCloseOnTheClockWhenClocksGoBack() throws {
        let office = try window("09:00-18:00", in: "Europe/Berlin", key: "active_hours")
        #expect(try office.nextEntry(from: at("2024-10-27T03:00:00+01:00")) == at("2024-10-27T09:00:00+01:00"))
        #expect(try office.nextEntry(from: at("2024-10-27T01:00:00+02:00")) == at("2024-10-27T09:00:00+01:00"))
        #expect(try office.nextExit(from: at("2024-10-27T12:00:00+01:00")) == at("2024-10-27T18:00:00+01:00"))
    }

    @Test func berlinActiveHoursOpenAndCloseOnTheClockWhenClocksGoForward() throws {
        let office = try window("09:00-18:00", in: "Europe/Berlin", key: "active_hours")
        #expect(try office.nextEntry(from: at("2024-03-31T03:30:00+02:00")) == at("2024-03-31T09:00:00+02:00"))
        #expect(try office.nextEntry(from: at("2024-03-31T01:00:00+01:00")) == at("2024-03-31T09:00:00+02:00"))
        #expect(try office.nextExit(from: at("2024-03-31T12:00:00+02:00")) == at("2024-03-31T18:00:00+02:00"))
    }

    /// 02:30 does not exist on 2024-03-31 in Berlin: the boundary is the first instant after
    /// the gap, 03:00 CEST, when the wall clock first reads past 02:30.
    @Test func berlinBoundaryInsideTheSpringGapIsTheEndOfTheGap() throws {
        let night = try window("22:00-02:30", in: "Europe/Berlin")
        #expect(try night.nextExit(from: at("2024-03-31T01:30:00+01:00")) == at("2024-03-31T03:00:00+02:00"))
        let early = try window("02:30-06:00", in: "Europe/Berlin", key: "active_hours")
        #expect(try early.nextEntry(from: at("2024-03-31T01:30:00+01:00")) == at("2024-03-31T03:00:00+02:00"))
        #expect(try early.nextExit(from: at("2024-03-31T03:00:00+02:00")) == at("2024-03-31T06:00:00+02:00"))
    }

    /// 02:30 happens twice on 2024-10-27 in Berlin. Quiet hours ending then end at the first
    /// 02:30 (a page an hour early beats an hour late); the wall clock then reads 02:00
    /// again, inside the range once more, and the second 02:30 ends that pass too.
    @Test func berlinBoundaryInTheRepeatedHourIsEachOccurrence() throws {
        let night = try window("22:00-02:30", in: "Europe/Berlin")
        #expect(try night.nextExit(from: at("2024-10-27T01:30:00+02:00")) == at("2024-10-27T02:30:00+02:00"))
        #expect(try night.nextExit(from: at("2024-10-27T02:15:00+02:00")) == at("2024-10-27T02:30:00+02:00"))
        #expect(try !night.contains(at("2024-10-27T02:45:00+02:00")))
        #expect(try night.contains(at("2024-10-27T02:15:00+01:00")))
        #expect(try night.nextEntry(from: at("2024-10-27T02:45:00+02:00")) == at("2024-10-27T02:00:00+01:00"))
        #expect(try night.nextExit(from: at("2024-10-27T02:15:00+01:00")) == at("2024-10-27T02:30:00+01:00"))
        // Active hours starting then open at the first 02:30.
        let early = try window("02:30-06:00", in: "Europe/Berlin", key: "active_hours")
        #expect(try early.nextEntry(from: at("2024-10-27T01:30:00+02:00")) == at("2024-10-27T02:30:00+02:00"))
    }

    /// Quiet hours that began in the first pass of the repeated hour (02:30 CEST) still hold
    /// when the clocks go back and read 02:00 again: they end at 06:00, with no hole from
    /// 02:00 to 02:30 CET.
    @Test func aWindowThatBeganBeforeTheClocksWentBackGoesOn() throws {
        let early = try window("02:30-06:00", in: "Europe/Berlin")
        #expect(try early.nextExit(from: at("2024-10-27T02:40:00+02:00")) == at("2024-10-27T06:00:00+01:00"))
        #expect(try early.contains(at("2024-10-27T02:10:00+01:00")))
        #expect(try !early.contains(at("2024-10-27T02:10:00+02:00")))
        let newYork = try window("01:30-05:00", in: "America/New_York")
        #expect(try newYork.nextExit(from: at("2024-11-03T01:40:00-04:00")) == at("2024-11-03T05:00:00-05:00"))
        #expect(try newYork.contains(at("2024-11-03T01:05:00-05:00")))
    }

    // MARK: America/New_York: forward 02:00 -> 03:00 on 2024-03-10, back 02:00 -> 01:00 on 2024-11-03.

    @Test func newYorkQuietHoursAcrossBothChanges() throws {
        let night = try window("22:00-08:00", in: "America/New_York")
        #expect(try night.nextExit(from: at("2024-03-10T01:30:00-05:00")) == at("2024-03-10T08:00:00-04:00"))
        #expect(try night.nextExit(from: at("2024-11-03T01:30:00-04:00")) == at("2024-11-03T08:00:00-05:00"))
        #expect(try night.nextExit(from: at("2024-11-03T01:30:00-05:00")) == at("2024-11-03T08:00:00-05:00"))
        #expect(try night.nextEntry(from: at("2024-11-03T12:00:00-05:00")) == at("2024-11-03T22:00:00-05:00"))
    }

    @Test func newYorkActiveHoursAcrossBothChanges() throws {
        let office = try window("09:00-17:00", in: "America/New_York", key: "active_hours")
        #expect(try office.nextEntry(from: at("2024-03-10T03:30:00-04:00")) == at("2024-03-10T09:00:00-04:00"))
        #expect(try office.nextExit(from: at("2024-03-10T12:00:00-04:00")) == at("2024-03-10T17:00:00-04:00"))
        #expect(try office.nextEntry(from: at("2024-11-03T03:00:00-05:00")) == at("2024-11-03T09:00:00-05:00"))
        #expect(try office.nextExit(from: at("2024-11-03T12:00:00-05:00")) == at("2024-11-03T17:00:00-05:00"))
    }

    @Test func newYorkBoundariesInTheGapAndTheRepeatedHour() throws {
        let night = try window("22:00-02:30", in: "America/New_York")
        #expect(try night.nextExit(from: at("2024-03-10T01:45:00-05:00")) == at("2024-03-10T03:00:00-04:00"))
        let late = try window("22:00-01:30", in: "America/New_York")
        #expect(try late.nextExit(from: at("2024-11-03T01:15:00-04:00")) == at("2024-11-03T01:30:00-04:00"))
        #expect(try late.nextExit(from: at("2024-11-03T01:15:00-05:00")) == at("2024-11-03T01:30:00-05:00"))
    }

    /// Ordinary days keep their answers (this passes with or without the daylight-saving fix).
    @Test func ordinaryDaysAreUnchanged() throws {
        let night = try window("22:00-08:00", in: "Europe/Berlin", days: "fri")
        #expect(try night.nextExit(from: at("2024-07-12T23:30:00+02:00")) == at("2024-07-13T08:00:00+02:00"))
        #expect(try night.nextEntry(from: at("2024-07-13T08:00:00+02:00")) == at("2024-07-19T22:00:00+02:00"))
        #expect(try night.nextEntry(from: at("2024-07-12T21:59:00+02:00")) == at("2024-07-12T22:00:00+02:00"))
        // Rules cannot say this any more (no minute to call in is a rule error); the window
        // still answers.
        var always = try window("00:00-12:00", in: "Europe/Berlin")
        always.ranges[0].end = 24 * 60
        #expect(try always.nextExit(from: at("2024-10-27T02:30:00+01:00")) == nil)
    }

    /// `nextExit`/`nextEntry` are the first instant at which `contains` changes: checked
    /// minute by minute around each change of clocks, in zones that change at 02:00, at
    /// midnight (Havana) and by half an hour (Lord Howe).
    @Test(arguments: [
        ("Europe/Berlin", ["2024-03-31T00:00:00Z", "2024-10-26T23:00:00Z"]),
        ("America/New_York", ["2024-03-10T05:00:00Z", "2024-11-03T04:00:00Z"]),
        ("America/Havana", ["2024-03-10T04:00:00Z", "2024-11-03T04:00:00Z"]),
        ("Australia/Lord_Howe", ["2024-04-06T13:00:00Z", "2024-10-05T13:00:00Z"]),
    ])
    func changesAreTheFirstInstantMembershipChanges(zone: String, days: [String]) throws {
        let windows = ["22:00-08:00", "22:00-02:30", "00:30-01:30", "01:30-02:30", "02:30-03:30", "09:00-18:00"]
        for times in windows {
            for weekdays in ["", "sun"] {
                let window = try window(times, in: zone, days: weekdays)
                for day in days {
                    let start = try at(day)
                    for step in stride(from: -4 * 3600, through: 12 * 3600, by: 20 * 60) {
                        let from = start.addingTimeInterval(TimeInterval(step))
                        for entering in [false, true] {
                            let wanted = { (date: Date) in window.contains(date) == entering }
                            var expected = from
                            while !wanted(expected), expected < from.addingTimeInterval(2 * 86_400) { expected += 60 }
                            let found = entering ? window.nextEntry(from: from) : window.nextExit(from: from)
                            if wanted(expected) {
                                #expect(found == expected, "\(zone) \(times) [\(weekdays)] \(entering ? "entry" : "exit") from \(from)")
                            } else {
                                #expect(
                                    found.map { $0 >= expected } ?? true,
                                    "\(zone) \(times) [\(weekdays)] \(entering ? "entry" : "exit") from \(from)"
                                )
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: The engine: a step due in quiet hours waits for 08:00 on the wall.

    @Test func engineDefersAStepToEightWhenClocksGoBack() async throws {
        let start = try at("2024-10-27T01:30:00+02:00")
        let harness = try await EngineHarness.make(Self.yaml("quiet_hours", "22:00-08:00", in: "Europe/Berlin"), start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(harness.provider.requests.isEmpty)
        #expect(try await harness.detail(opened.opened[0]).steps.first?.dueAt == at("2024-10-27T08:00:00+01:00"))
        // 7 h 30 min of elapsed time: step 2 moved with step 1, so nothing came due.
        #expect(try await harness.advance(.seconds(7 * 3600 + 29 * 60)) == 0)
        #expect(harness.provider.calledNames.isEmpty)
        #expect(try await harness.advance(.seconds(60)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        // Step 2 keeps its ten minutes after step 1.
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob", "carol"])
    }

    @Test func engineDefersAStepToEightWhenClocksGoForward() async throws {
        let start = try at("2024-03-31T01:30:00+01:00")
        let harness = try await EngineHarness.make(Self.yaml("quiet_hours", "22:00-08:00", in: "Europe/Berlin"), start: start)
        defer { Task { try? await harness.close() } }
        let opened = try await harness.ingest(dbAlert())
        #expect(try await harness.engine.runDueSteps() == 1)
        #expect(try await harness.detail(opened.opened[0]).steps.first?.dueAt == at("2024-03-31T08:00:00+02:00"))
        // 5 h 30 min of elapsed time.
        #expect(try await harness.advance(.seconds(5 * 3600 + 29 * 60)) == 0)
        #expect(harness.provider.calledNames.isEmpty)
        #expect(try await harness.advance(.seconds(60)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob"])
        // Step 2 keeps its ten minutes after step 1.
        #expect(try await harness.advance(.seconds(600)) == 1)
        #expect(harness.provider.calledNames.sorted() == ["alice", "bob", "carol"])
    }
}
