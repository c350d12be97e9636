import Foundation
import KlaxonCore

extension ManualClock {
    /// This clock as the engine's wall clock, reading `start` when the clock was made.
    public func engineClock(start: Date) -> EngineClock {
        EngineClock(
            now: { start.addingTimeInterval(self.now.offset.timeInterval) },
            sleep: { try await self.sleep(for: $0) }
        )
    }
}
