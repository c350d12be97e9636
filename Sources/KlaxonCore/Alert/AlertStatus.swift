/// Whether an alert is firing or has resolved.
public enum AlertStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case firing
    case resolved
}
