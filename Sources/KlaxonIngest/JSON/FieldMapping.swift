import KlaxonCore

/// How one input pulls alerts out of a foreign JSON payload (an input's `mapping:`).
///
/// Contract, applied by ``GenericJSONAdapter``:
/// - ``alerts`` says where the alerts are, always from the payload root: an array of alert
///   objects or a single alert object. Nil uses the canonical detection (a top-level object is
///   one alert, a top-level array is a list, `{"alerts": [...]}` is a list).
/// - Every per-alert path is resolved from the alert object, or from the payload root when it
///   starts with `$`. A nil path means "not mapped": the field is absent, the canonical field
///   of the same name is *not* read. ``canonical`` maps every field to its canonical name.
/// - Labels (and annotations) are gathered in this order: the ``labels`` object, then each of
///   ``labelFields`` (overriding a value of the same name), then ``staticLabels`` for names
///   still missing (constants never override the payload). Values must be scalars: strings as
///   they are, numbers in their JSON text, booleans `true`/`false`; `null` or a missing path
///   leaves the label out; an array or object is an error naming its path.
/// - Status: the value's text is looked up in ``statusMap`` (case-insensitive), then as
///   `firing`/`resolved` (case-insensitive); a missing or null value gives ``defaultStatus``;
///   any other value is an error.
/// - Severity: the value's text is looked up in ``severityMap`` (case-insensitive) and
///   replaced when found, otherwise kept as it is; missing gives nil (the rules then read the
///   `severity` label).
/// - Timestamps: RFC 3339 strings, or numbers (and strings of digits) as Unix seconds, values
///   above 1e11 as Unix milliseconds. Go's zero time `0001-01-01T00:00:00Z` means absent.
/// - An alert that ends up with no labels at all is an error: it could never be routed.
public struct FieldMapping: Sendable, Hashable {
    /// Where the alert list (or single alert object) sits, from the payload root; nil for the
    /// canonical detection.
    public var alerts: FieldPath?
    /// `firing`/`resolved` or a value of ``statusMap``.
    public var status: FieldPath?
    /// An object whose scalar members all become labels.
    public var labels: FieldPath?
    /// An object whose scalar members all become annotations.
    public var annotations: FieldPath?
    public var severity: FieldPath?
    /// The alert's dedupe identity; when absent the fingerprint of its labels is used.
    public var fingerprint: FieldPath?
    public var startsAt: FieldPath?
    public var endsAt: FieldPath?
    public var generatorURL: FieldPath?
    /// Single values that become the label of the given name.
    public var labelFields: [String: FieldPath]
    /// Single values that become the annotation of the given name.
    public var annotationFields: [String: FieldPath]
    /// Constant labels added when the payload does not supply the same name.
    public var staticLabels: [String: String]
    /// Constant annotations added when the payload does not supply the same name.
    public var staticAnnotations: [String: String]
    /// Payload status text (case-insensitive) to status, e.g. `PROBLEM` → firing, `OK` → resolved, `1`/`0`.
    public var statusMap: [String: AlertStatus]
    /// The status of an alert whose status field is absent or null.
    public var defaultStatus: AlertStatus
    /// Payload severity text (case-insensitive) to the severity to report, e.g. `Disaster` → `critical`, `4` → `critical`.
    public var severityMap: [String: String]

    public init(
        alerts: FieldPath? = nil,
        status: FieldPath? = nil,
        labels: FieldPath? = nil,
        annotations: FieldPath? = nil,
        severity: FieldPath? = nil,
        fingerprint: FieldPath? = nil,
        startsAt: FieldPath? = nil,
        endsAt: FieldPath? = nil,
        generatorURL: FieldPath? = nil,
        labelFields: [String: FieldPath] = [:],
        annotationFields: [String: FieldPath] = [:],
        staticLabels: [String: String] = [:],
        staticAnnotations: [String: String] = [:],
        statusMap: [String: AlertStatus] = [:],
        defaultStatus: AlertStatus = .firing,
        severityMap: [String: String] = [:]
    ) {
        self.alerts = alerts
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.severity = severity
        self.fingerprint = fingerprint
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
        self.labelFields = labelFields
        self.annotationFields = annotationFields
        self.staticLabels = staticLabels
        self.staticAnnotations = staticAnnotations
        self.statusMap = statusMap
        self.defaultStatus = defaultStatus
        self.severityMap = severityMap
    }

    /// The canonical generic shape: each field read from the member of the same name
    /// (`status`, `labels`, `annotations`, `severity`, `fingerprint`, `startsAt`, `endsAt`,
    /// `generatorURL`), alerts found by the canonical detection, status firing when absent.
    public static let canonical = FieldMapping(
        status: FieldPath([.key("status")]),
        labels: FieldPath([.key("labels")]),
        annotations: FieldPath([.key("annotations")]),
        severity: FieldPath([.key("severity")]),
        fingerprint: FieldPath([.key("fingerprint")]),
        startsAt: FieldPath([.key("startsAt")]),
        endsAt: FieldPath([.key("endsAt")]),
        generatorURL: FieldPath([.key("generatorURL")])
    )
}
