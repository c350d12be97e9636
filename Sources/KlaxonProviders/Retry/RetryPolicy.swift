import KlaxonCore

/// Capped exponential backoff with jitter: attempt n (1-based) waits
/// `min(maxBackoff, initialBackoff × 2^(n-1))`, scaled by a random factor in [0.5, 1.0]
/// so that many calls failing together do not retry together.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts on one provider, the first included.
    public var attempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration

    public init(attempts: Int, initialBackoff: Duration, maxBackoff: Duration) {
        self.attempts = max(1, attempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    public init(_ config: ProviderConfig.RetryConfig) {
        self.init(attempts: config.attempts, initialBackoff: config.initialBackoff, maxBackoff: config.maxBackoff)
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failed; `jitter` in [0, 1].
    public func delay(after attempt: Int, jitter: Double) -> Duration {
        var backoff = initialBackoff
        for _ in 1..<max(1, attempt) {
            backoff = backoff * 2
            if backoff >= maxBackoff { break }
        }
        let capped = min(backoff, maxBackoff)
        return capped * (0.5 + 0.5 * min(1, max(0, jitter)))
    }
}
