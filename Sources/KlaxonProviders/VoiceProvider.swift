import KlaxonCore

/// A configured vendor client: places the calls of one ``CallRequest`` and says, per
/// recipient, whether the vendor took each call.
///
/// Contract:
/// - One ``RecipientResult`` per recipient of the request, in the request's order.
/// - Never throws: transport errors, timeouts and vendor refusals are classified into
///   ``CallResult/retryable(_:)`` or ``CallResult/permanent(_:)``.
/// - A number the vendor cannot call is answered with a permanent failure before any
///   request is sent.
/// - One call of `placeCalls` is one attempt; retrying and failover are the
///   ``CallDispatcher``'s job, not the client's.
/// - Secrets never appear in results, errors or logs; numbers in logs are masked.
public protocol VoiceProvider: Sendable {
    /// The provider's name in the rules.
    var name: String { get }
    var type: ProviderType { get }
    func placeCalls(_ request: CallRequest) async -> [RecipientResult]
    /// ``placeCalls(_:)`` that also tells `accepted` of each call as soon as its vendor
    /// accepts it, before the request's other calls are answered: a vendor's "answered"
    /// report can come before a slow request for someone else has returned. By default
    /// nothing is told early.
    func placeCalls(_ request: CallRequest, accepted: @Sendable (RecipientResult) async -> Void) async -> [RecipientResult]
}

extension VoiceProvider {
    public func placeCalls(_ request: CallRequest, accepted: @Sendable (RecipientResult) async -> Void) async -> [RecipientResult] {
        await placeCalls(request)
    }
}
