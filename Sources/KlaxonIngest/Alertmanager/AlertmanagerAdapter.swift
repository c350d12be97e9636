import Foundation
import KlaxonCore

/// Reads Alertmanager webhook notifications (payload version 4) and Grafana unified
/// alerting's webhook body (version "1", a superset) and turns them into alerts.
///
/// Validation (all or nothing; the error names the field path, e.g.
/// `$.alerts[2].status: expected "firing" or "resolved", got "fire"`):
/// - the top level is an object; `alerts` is required and is an array of objects;
/// - each alert has `status` `firing` or `resolved` and a non-empty `labels` object of
///   strings; `annotations` is an object of strings; `startsAt`/`endsAt` are RFC 3339
///   strings; `generatorURL` and `fingerprint` are strings; each of these may be null or absent
///   (Go marshals an empty map as `null`);
/// - `version`, `groupKey`, `receiver`, `externalURL`, `status`, `groupLabels`, `commonLabels`,
///   `commonAnnotations`, `truncatedAlerts`, `notification_reason` and `routeLabels` are
///   type-checked when present;
/// - Grafana's extra fields are informational and read leniently (a value of an unexpected
///   type is ignored); unknown fields are ignored.
///
/// Versions: Alertmanager has sent version "4" since 0.x and adds fields without bumping it;
/// Grafana sends "1"; a hand-written body may leave it out. Any other version is refused at
/// `$.version`: a sender whose schema changed under us gets a loud 400 (Alertmanager counts
/// it in `alertmanager_notifications_failed_total`) instead of klaxon guessing at fields
/// and paging the wrong person.
public enum AlertmanagerAdapter {
    /// Parses and validates a webhook body.
    public static func decode(_ bytes: [UInt8]) throws(IngestError) -> AlertmanagerPayload {
        if let payload = decodeCommonShape(bytes) { return payload }
        return try decode(try JSONParser.parse(bytes))
    }

    /// Validates an already parsed webhook body.
    public static func decode(_ value: JSONValue) throws(IngestError) -> AlertmanagerPayload {
        guard case .object(let top) = value else {
            throw PayloadValues.wrongType(value, expected: "an Alertmanager notification object", at: .root)
        }
        var payload = AlertmanagerPayload(version: nil)
        payload.version = try optionalText(top["version"], "version")
        guard payload.isKnownVersion else {
            throw IngestError(
                code: .unsupportedFormat,
                message: "unsupported webhook version \"\(payload.version ?? "")\" (klaxon reads Alertmanager's \"4\" and Grafana's \"1\")",
                fieldPath: "$.version"
            )
        }
        payload.groupKey = try optionalString(top["groupKey"], "groupKey")
        payload.receiver = try optionalString(top["receiver"], "receiver")
        payload.externalURL = try optionalString(top["externalURL"], "externalURL")
        if let status = top["status"], !status.isNull {
            payload.status = try alertStatus(status, at: FieldPath.root.appending(.key("status")))
        }
        payload.groupLabels = try stringMap(top["groupLabels"], FieldPath.root.appending(.key("groupLabels")))
        payload.commonLabels = try stringMap(top["commonLabels"], FieldPath.root.appending(.key("commonLabels")))
        payload.commonAnnotations = try stringMap(top["commonAnnotations"], FieldPath.root.appending(.key("commonAnnotations")))
        if let truncated = top["truncatedAlerts"], !truncated.isNull {
            payload.truncatedAlerts = try integer(truncated, at: FieldPath.root.appending(.key("truncatedAlerts")))
        }
        payload.notificationReason = try optionalString(top["notification_reason"], "notification_reason")
        if payload.notificationReason == nil {
            payload.notificationReason = try optionalString(top["notificationReason"], "notificationReason")
        }
        if let routeLabels = top["routeLabels"], !routeLabels.isNull {
            payload.routeLabels = try stringMap(routeLabels, FieldPath.root.appending(.key("routeLabels")))
        }
        if case .number(let orgID, _) = top["orgId"], let exact = Int(exactly: orgID) {
            payload.orgID = exact
        }
        payload.title = top["title"]?.stringValue
        payload.state = top["state"]?.stringValue
        payload.message = top["message"]?.stringValue

        let alertsPath = FieldPath.root.appending(.key("alerts"))
        guard let alertsValue = top["alerts"] else {
            throw IngestError(code: .missingField, message: "missing the alerts array", fieldPath: alertsPath.description)
        }
        guard case .array(let elements) = alertsValue else {
            throw PayloadValues.wrongType(alertsValue, expected: "an array of alerts", at: alertsPath)
        }
        payload.alerts.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            payload.alerts.append(try alert(element, at: alertsPath.appending(.index(index))))
        }
        return payload
    }

    /// The alerts of `payload` as klaxon alerts: source `alertmanager/<input>`, the payload's
    /// `groupKey` and `externalURL` on each, the sender's fingerprint (or ``Fingerprint`` of
    /// the labels when it sent none), `endsAt` nil for the zero time, severity nil (the rules
    /// read the `severity` label).
    public static func alerts(from payload: AlertmanagerPayload, input: String = "default") -> [Alert] {
        let source = AlertSource(kind: .alertmanager, input: input)
        return payload.alerts.map { alert in
            Alert(
                status: alert.status,
                labels: alert.labels,
                annotations: alert.annotations,
                startsAt: alert.startsAt,
                endsAt: alert.endsAt,
                fingerprint: alert.fingerprint,
                source: source,
                severity: nil,
                generatorURL: alert.generatorURL,
                groupKey: payload.groupKey,
                externalURL: payload.externalURL
            )
        }
    }

    /// ``payload(from:)`` followed by ``alerts(from:input:)``.
    public static func alerts(from bytes: [UInt8], input: String = "default") throws(IngestError) -> [Alert] {
        alerts(from: try payload(from: bytes), input: input)
    }

    /// The payload as the webhook path needs it: read in one pass when it has Alertmanager's
    /// own shape, else through the JSON tree; `groupLabels`, `commonLabels` and
    /// `commonAnnotations` are left empty.
    public static func payload(from bytes: [UInt8]) throws(IngestError) -> AlertmanagerPayload {
        if let payload = decodeCommonShape(bytes, groupFields: false) { return payload }
        return try decode(try JSONParser.parse(bytes))
    }

    // MARK: - Pieces

    private static func alert(_ value: JSONValue, at path: FieldPath) throws(IngestError) -> AlertmanagerAlert {
        guard case .object(let object) = value else {
            throw PayloadValues.wrongType(value, expected: "an alert object", at: path)
        }
        guard let statusValue = object["status"], !statusValue.isNull else {
            throw IngestError(code: .missingField, message: "missing the alert's status", fieldPath: path.appending(.key("status")).description)
        }
        let status = try alertStatus(statusValue, at: path.appending(.key("status")))
        let labels = try stringMap(object["labels"], path.appending(.key("labels")))
        guard !labels.isEmpty else {
            throw IngestError(
                code: .missingField,
                message: "the alert has no labels, so no route could ever match it",
                fieldPath: path.appending(.key("labels")).description
            )
        }
        var alert = AlertmanagerAlert(status: status, labels: labels)
        alert.annotations = try stringMap(object["annotations"], path.appending(.key("annotations")))
        if let startsAt = object["startsAt"] {
            alert.startsAt = try PayloadValues.timestamp(startsAt, numbersAllowed: false, at: path.appending(.key("startsAt")))
        }
        if let endsAt = object["endsAt"] {
            alert.endsAt = try PayloadValues.timestamp(endsAt, numbersAllowed: false, at: path.appending(.key("endsAt")))
        }
        if let generatorURL = object["generatorURL"] {
            alert.generatorURL = try PayloadValues.string(generatorURL, at: path.appending(.key("generatorURL")))
        }
        if let fingerprint = object["fingerprint"] {
            alert.fingerprint = try PayloadValues.string(fingerprint, at: path.appending(.key("fingerprint")))
            if alert.fingerprint?.isEmpty == true { alert.fingerprint = nil }
        }
        // Grafana's extras: informational, read leniently.
        if let values = object["values"], !values.isNull { alert.values = values }
        alert.valueString = object["valueString"]?.stringValue
        alert.silenceURL = object["silenceURL"]?.stringValue
        alert.dashboardURL = object["dashboardURL"]?.stringValue
        alert.panelURL = object["panelURL"]?.stringValue
        alert.imageURL = object["imageURL"]?.stringValue
        return alert
    }

    private static func alertStatus(_ value: JSONValue, at path: FieldPath) throws(IngestError) -> AlertStatus {
        guard case .string(let text) = value else {
            throw PayloadValues.wrongType(value, expected: "\"firing\" or \"resolved\"", at: path)
        }
        guard let status = AlertStatus(rawValue: text) else {
            throw IngestError(code: .badValue, message: "expected \"firing\" or \"resolved\", got \(value.brief)", fieldPath: path.description)
        }
        return status
    }

    private static func stringMap(_ value: JSONValue?, _ path: @autoclosure () -> FieldPath) throws(IngestError) -> LabelSet {
        guard let value else { return [:] }
        return LabelSet(try PayloadValues.labels(value, stringsOnly: true, at: path()))
    }

    private static func optionalString(_ value: JSONValue?, _ key: String) throws(IngestError) -> String? {
        guard let value else { return nil }
        return try PayloadValues.string(value, at: FieldPath.root.appending(.key(key)))
    }

    /// A string, or a number's text (a `"version": 4` written by hand).
    private static func optionalText(_ value: JSONValue?, _ key: String) throws(IngestError) -> String? {
        guard let value else { return nil }
        return try PayloadValues.scalarText(value, at: FieldPath.root.appending(.key(key)))
    }

    private static func integer(_ value: JSONValue, at path: FieldPath) throws(IngestError) -> Int {
        guard case .number(let number, _) = value else {
            throw PayloadValues.wrongType(value, expected: "an integer", at: path)
        }
        guard let exact = Int(exactly: number) else {
            throw IngestError(code: .badValue, message: "expected an integer, got \(value.brief)", fieldPath: path.description)
        }
        return exact
    }
}
