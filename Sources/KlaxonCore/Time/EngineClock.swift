import Foundation

/// Wall-clock time and sleeping for the incident engine, injected so tests move time by
/// hand instead of waiting minutes for an escalation step.
///
/// Time has millisecond resolution: ``now`` is rounded, so a step due "in 10 minutes" is
/// exactly as due after the clock moved 10 minutes, whatever the store's representation.
public struct EngineClock: Sendable {
    public var now: @Sendable () -> Date
    /// Suspends for the duration; throws `CancellationError` when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = { now().roundedToMilliseconds }
        self.sleep = sleep
    }

    public static let system = EngineClock(now: { Date() }, sleep: { try await Task.sleep(for: $0) })

    /// The same clock as a `Clock`, for code generic over one (retry backoff).
    public var asClock: Adapter { Adapter(engineClock: self) }

    public struct Adapter: Clock {
        public struct Instant: InstantProtocol {
            /// Since 1970.
            public var offset: Duration
            public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
            public func duration(to other: Instant) -> Duration { other.offset - offset }
            public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        }

        let engineClock: EngineClock

        public var now: Instant { Instant(offset: .seconds(engineClock.now().timeIntervalSince1970)) }
        public var minimumResolution: Duration { .milliseconds(1) }

        public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
            let delay = now.duration(to: deadline)
            if delay > .zero { try await engineClock.sleep(delay) }
        }
    }
}

extension Date {
    public var roundedToMilliseconds: Date {
        Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// Whole milliseconds since 1970, as the store keeps times. A date beyond what `Int64`
    /// holds (some 292 million years either way) is clamped to `Int64.min` or `.max`, NaN to
    /// `.max`, rather than trapping: ingest rejects such dates, and this is the fallback.
    public var millisecondsSince1970: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        return Int64(exactly: milliseconds) ?? (milliseconds < 0 ? .min : .max)
    }

    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.timeInterval)
    }
}

extension Duration {
    /// In seconds, as Foundation counts time.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
