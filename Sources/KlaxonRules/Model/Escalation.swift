import KlaxonCore

/// A named escalation chain under `escalations:`.
public struct Escalation: Sendable, Hashable {
    public var name: String
    public var steps: [EscalationStep]
    /// How many more times the whole chain runs after its last step.
    public var repeatCount: Int
    /// Delay between the last step and the first step of the next round.
    public var repeatAfter: Duration
    /// Besides ack and resolve, which call outcomes stop the chain.
    public var stopOn: Set<StopCondition>
    public var location: SourceLocation

    public enum StopCondition: String, Sendable, Hashable, CaseIterable {
        case ack
        case resolve
        case answered
        case keyPressed = "key_pressed"
    }
}

/// One step of an escalation: whom to call, how long after the incident opened.
public struct EscalationStep: Sendable, Hashable {
    public var after: Duration
    /// As written: person names and `group:NAME` references.
    public var notify: [String]
    public var location: SourceLocation
    /// Where `after` and each `notify` entry were written, for messages.
    public var afterLocation: SourceLocation
    public var notifyLocations: [SourceLocation]
}
