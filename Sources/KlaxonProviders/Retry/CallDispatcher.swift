import KlaxonCore

/// Places one step's calls along a route's providers: each provider is tried with its
/// retry policy; recipients it refuses permanently, or still fails after its last retry,
/// go to the next provider. Every attempt is reported before and after it happens, so
/// the engine can record a call as started before the vendor is contacted.
///
/// A vendor's "not before X" (``VendorError/retryAfter``) is failed over at once when another
/// provider follows and X is past the leg's `maxBackoff`, or when retrying uses up a quota
/// (``VendorError/retryUsesQuota``). On the last provider there is nothing to fail over to,
/// so the dispatcher waits X, even past `maxBackoff`, up to ``maxVendorWait``.
///
/// Time is injected: backoff sleeps on `clock`, so tests drive it with a manual clock.
public struct CallDispatcher<C: Clock<Duration>>: Sendable {
    /// One provider of a route with the request rendered for it.
    public struct Leg: Sendable {
        public var provider: any VoiceProvider
        public var request: CallRequest
        public var retry: RetryPolicy
        /// Renders the request's ``CallRequest/body`` for the recipients of an attempt (a
        /// webhook's template that lists them): a retry or failover for some of the step's
        /// people must not name, and page again, those already reached.
        public var body: (@Sendable ([CallRecipient]) -> String?)?

        public init(
            provider: any VoiceProvider,
            request: CallRequest,
            retry: RetryPolicy,
            body: (@Sendable ([CallRecipient]) -> String?)? = nil
        ) {
            self.provider = provider
            self.request = request
            self.retry = retry
            self.body = body
        }
    }

    /// What the dispatcher is about to do or has done.
    public enum Event: Sendable {
        case attempting(provider: String, attempt: Int, recipients: [CallRecipient])
        case attempted(provider: String, attempt: Int, results: [RecipientResult])
        /// One call of an attempt under way was accepted (before ``attempted``, for the
        /// providers that tell it early).
        case accepted(provider: String, attempt: Int, result: RecipientResult)
        case waiting(provider: String, delay: Duration)
    }

    /// Where each recipient ended: the provider and result of their last attempt.
    public struct Outcome: Sendable, Hashable {
        public var recipient: CallRecipient
        /// Nil when no provider was tried (an empty route).
        public var provider: String?
        public var result: CallResult
    }

    /// The longest the last provider's "not before X" is waited: five minutes, longer than
    /// Aliyun's one minute but well short of escalation steps, which are minutes apart.
    public static var defaultMaxVendorWait: Duration { .seconds(300) }

    public let clock: C
    /// A number in [0, 1] for each backoff's jitter.
    public let jitter: @Sendable () -> Double
    /// A "not before X" beyond this on the last provider ends the leg instead: the
    /// recipient is left failed for the next escalation step rather than held longer.
    public let maxVendorWait: Duration

    public init(
        clock: C,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        maxVendorWait: Duration = Self.defaultMaxVendorWait
    ) {
        self.clock = clock
        self.jitter = jitter
        self.maxVendorWait = maxVendorWait
    }

    /// Calls every recipient of the legs' requests (the recipients of the first leg), in
    /// leg order; returns one outcome per recipient. Cancellation stops waiting and ends early.
    /// `shouldContinue` is asked before each retry and each failover (the first attempt is
    /// the caller's decision); when it says no, the recipients not yet reached keep the
    /// result of their last attempt and nobody is called again.
    public func dispatch(
        _ legs: [Leg],
        report: @Sendable (Event) async -> Void = { _ in },
        shouldContinue: @Sendable () async -> Bool = { true }
    ) async -> [Outcome] {
        guard let first = legs.first else { return [] }
        var outcomes: [String: Outcome] = [:]
        var pending = first.request.recipients
        legs: for (index, leg) in legs.enumerated() where !pending.isEmpty {
            if index > 0, !(await shouldContinue()) { break }
            let canFailOver = index < legs.count - 1
            var attempt = 0
            var legPending = pending
            while !legPending.isEmpty {
                attempt += 1
                var request = leg.request
                request.recipients = legPending
                if let body = leg.body { request.body = body(legPending) }
                await report(.attempting(provider: leg.provider.name, attempt: attempt, recipients: legPending))
                let results = await leg.provider.placeCalls(request) { [attempt] result in
                    await report(.accepted(provider: leg.provider.name, attempt: attempt, result: result))
                }
                await report(.attempted(provider: leg.provider.name, attempt: attempt, results: results))
                var retry: [CallRecipient] = []
                var longestHint: Duration = .zero
                for result in results {
                    outcomes[result.recipient.phone] = Outcome(recipient: result.recipient, provider: leg.provider.name, result: result.result)
                    if case .retryable(let error) = result.result {
                        // Another provider rings sooner than waiting out a long hint, and a
                        // quota that refusals use up is not worth spending on retries.
                        let hint = error.retryAfter ?? .zero
                        if canFailOver && (hint > leg.retry.maxBackoff || error.retryUsesQuota) { continue }
                        if hint > maxVendorWait { continue }
                        longestHint = max(longestHint, hint)
                        retry.append(result.recipient)
                    }
                }
                legPending = retry
                guard !legPending.isEmpty, attempt < leg.retry.attempts, !Task.isCancelled else { break }
                let delay = max(leg.retry.delay(after: attempt, jitter: jitter()), longestHint)
                await report(.waiting(provider: leg.provider.name, delay: delay))
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    break
                }
                if !(await shouldContinue()) { break legs }
            }
            pending = pending.filter { outcomes[$0.phone]?.result.isAccepted != true }
            if Task.isCancelled { break }
        }
        return first.request.recipients.map { recipient in
            outcomes[recipient.phone]
                ?? Outcome(
                    recipient: recipient,
                    provider: nil,
                    result: .permanent(VendorError(code: "klaxon.no_provider", message: "no provider was tried"))
                )
        }
    }
}
