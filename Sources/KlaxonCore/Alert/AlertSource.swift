/// Where an alert came from: the kind of input and the name of the input entry that took it.
public struct AlertSource: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case alertmanager
        case json
        case email
    }

    public var kind: Kind
    /// The name of the entry under `inputs:` (`default` when none was named).
    public var input: String

    public init(kind: Kind, input: String = "default") {
        self.kind = kind
        self.input = input
    }

    public var description: String { "\(kind.rawValue)/\(input)" }
}
