import KlaxonCore

/// The body of an Alertmanager webhook notification (payload version 4), or of Grafana
/// unified alerting's webhook contact point (version "1"), which is the same body plus
/// ``orgID``, ``title``, ``state`` and ``message``.
///
/// Fields Alertmanager always sends but a hand-written payload may leave out are optional or
/// empty here; ``AlertmanagerAdapter/decode(_:)-(JSONValue)`` documents what is required.
public struct AlertmanagerPayload: Sendable, Hashable {
    /// `"4"` from Alertmanager, `"1"` from Grafana; nil when absent. See ``isKnownVersion``.
    public var version: String?
    /// The key of the aggregation group (`{}/{oncall="voice"}:{alertname="X"}`).
    public var groupKey: String?
    /// How many alerts Alertmanager left out because of the receiver's `max_alerts`.
    public var truncatedAlerts: Int
    /// Firing when at least one alert of the group fires.
    public var status: AlertStatus?
    /// The receiver's name (regex-escaped by Alertmanager).
    public var receiver: String?
    public var groupLabels: LabelSet
    public var commonLabels: LabelSet
    public var commonAnnotations: LabelSet
    /// The sender's own URL.
    public var externalURL: String?
    public var alerts: [AlertmanagerAlert]
    /// Why Alertmanager sent this notification (Alertmanager 0.32+, `notification_reason`).
    public var notificationReason: String?
    /// The labels of the route that matched (Alertmanager 0.34+, `routeLabels`).
    public var routeLabels: LabelSet?

    /// Grafana: the organisation id.
    public var orgID: Int?
    /// Grafana: the notification title (`[FIRING:1] HighCPU ...`).
    public var title: String?
    /// Grafana: `alerting` or `ok`.
    public var state: String?
    /// Grafana: the rendered notification message.
    public var message: String?

    public init(
        version: String? = "4",
        groupKey: String? = nil,
        truncatedAlerts: Int = 0,
        status: AlertStatus? = nil,
        receiver: String? = nil,
        groupLabels: LabelSet = [:],
        commonLabels: LabelSet = [:],
        commonAnnotations: LabelSet = [:],
        externalURL: String? = nil,
        alerts: [AlertmanagerAlert] = [],
        notificationReason: String? = nil,
        routeLabels: LabelSet? = nil,
        orgID: Int? = nil,
        title: String? = nil,
        state: String? = nil,
        message: String? = nil
    ) {
        self.version = version
        self.groupKey = groupKey
        self.truncatedAlerts = truncatedAlerts
        self.status = status
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.commonLabels = commonLabels
        self.commonAnnotations = commonAnnotations
        self.externalURL = externalURL
        self.alerts = alerts
        self.notificationReason = notificationReason
        self.routeLabels = routeLabels
        self.orgID = orgID
        self.title = title
        self.state = state
        self.message = message
    }

    /// Whether ``version`` is one this code was written against: `"4"` (Alertmanager),
    /// `"1"` (Grafana unified alerting), or absent. Other versions are still decoded when
    /// their shape is valid; a server should log a warning for them.
    public var isKnownVersion: Bool {
        version == nil || version == "4" || version == "1"
    }

    /// Whether this came from Grafana unified alerting (version "1" or Grafana-only fields).
    public var isGrafana: Bool {
        version == "1" || orgID != nil || title != nil || state != nil
    }
}
