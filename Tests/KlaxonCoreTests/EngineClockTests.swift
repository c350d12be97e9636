import Foundation
import KlaxonCore
import Testing

@Suite struct EngineClockTests {
    @Test func millisecondsRoundToTheNearest() {
        #expect(Date(timeIntervalSince1970: 1_795_373_807.1234).millisecondsSince1970 == 1_795_373_807_123)
        #expect(Date(timeIntervalSince1970: 1_795_373_807.0006).millisecondsSince1970 == 1_795_373_807_001)
        #expect(Date(timeIntervalSince1970: -1.5).millisecondsSince1970 == -1500)
        #expect(Date(millisecondsSince1970: 1_795_373_807_123).millisecondsSince1970 == 1_795_373_807_123)
    }

    /// Past `Int64` milliseconds a date is clamped, not a trap that takes the process down.
    @Test func datesBeyondInt64MillisecondsAreClamped() {
        #expect(Date(timeIntervalSince1970: 1e20).millisecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -1e20).millisecondsSince1970 == .min)
        #expect(Date(timeIntervalSince1970: .infinity).millisecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -.infinity).millisecondsSince1970 == .min)
        #expect(Date(timeIntervalSince1970: .nan).millisecondsSince1970 == .max)
    }
}
