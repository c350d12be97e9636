import Foundation

/// One alert as every input adapter produces it, whatever its wire format.
public struct Alert: Sendable, Hashable {
    public var status: AlertStatus
    public var labels: LabelSet
    public var annotations: LabelSet
    /// When the alert started firing; nil when the source did not say.
    public var startsAt: Date?
    /// When the alert resolved or will be considered resolved; nil for Alertmanager's zero time.
    public var endsAt: Date?
    /// A stable identity for the alert: the source's own when it supplies one,
    /// otherwise ``Fingerprint`` of the labels.
    public var fingerprint: String
    public var source: AlertSource
    /// The severity as the source stated it, before the rules normalize it; nil when the
    /// source gave none (the rules then read their severity label).
    public var severity: String?
    public var generatorURL: String?
    /// Alertmanager's `groupKey` of the notification that carried this alert.
    public var groupKey: String?
    /// The sender's own URL (Alertmanager's `externalURL`).
    public var externalURL: String?

    public init(
        status: AlertStatus,
        labels: LabelSet,
        annotations: LabelSet = [:],
        startsAt: Date? = nil,
        endsAt: Date? = nil,
        fingerprint: String? = nil,
        source: AlertSource = AlertSource(kind: .json),
        severity: String? = nil,
        generatorURL: String? = nil,
        groupKey: String? = nil,
        externalURL: String? = nil
    ) {
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.fingerprint = fingerprint ?? Fingerprint.of(labels)
        self.source = source
        self.severity = severity
        self.generatorURL = generatorURL
        self.groupKey = groupKey
        self.externalURL = externalURL
    }
}
