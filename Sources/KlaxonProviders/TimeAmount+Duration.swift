import NIOCore

extension TimeAmount {
    /// A Swift `Duration` as NIO's `TimeAmount`, for AsyncHTTPClient deadlines.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
