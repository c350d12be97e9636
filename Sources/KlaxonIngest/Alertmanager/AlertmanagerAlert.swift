import Foundation
import KlaxonCore

/// One entry of an Alertmanager webhook's `alerts` array, as sent.
///
/// Grafana unified alerting adds the per-alert fields ``values``, ``valueString``,
/// ``silenceURL``, ``dashboardURL``, ``panelURL`` and ``imageURL``; they are nil for Alertmanager.
public struct AlertmanagerAlert: Sendable, Hashable {
    public var status: AlertStatus
    public var labels: LabelSet
    public var annotations: LabelSet
    /// Nil when absent.
    public var startsAt: Date?
    /// Nil when absent or Go's zero time (`0001-01-01T00:00:00Z`, what a firing alert carries).
    public var endsAt: Date?
    public var generatorURL: String?
    /// Alertmanager's fingerprint of the labels; nil when the sender left it out.
    public var fingerprint: String?

    /// Grafana: the query values that fired the rule, by reference id (kept as sent).
    public var values: JSONValue?
    /// Grafana: the values as text (`[ var='B' labels={...} value=97.3 ]`).
    public var valueString: String?
    public var silenceURL: String?
    public var dashboardURL: String?
    public var panelURL: String?
    public var imageURL: String?

    public init(
        status: AlertStatus,
        labels: LabelSet,
        annotations: LabelSet = [:],
        startsAt: Date? = nil,
        endsAt: Date? = nil,
        generatorURL: String? = nil,
        fingerprint: String? = nil,
        values: JSONValue? = nil,
        valueString: String? = nil,
        silenceURL: String? = nil,
        dashboardURL: String? = nil,
        panelURL: String? = nil,
        imageURL: String? = nil
    ) {
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
        self.fingerprint = fingerprint
        self.values = values
        self.valueString = valueString
        self.silenceURL = silenceURL
        self.dashboardURL = dashboardURL
        self.panelURL = panelURL
        self.imageURL = imageURL
    }
}
