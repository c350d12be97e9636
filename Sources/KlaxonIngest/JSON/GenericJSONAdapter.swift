import Foundation
import KlaxonCore

/// Turns a generic JSON webhook body into alerts, in the canonical shape or through a
/// ``FieldMapping``.
///
/// The canonical shape (DESIGN.md) is one alert object, an array of them, or
/// `{"alerts": [...]}`, each alert
/// `{"status", "labels", "annotations", "severity", "fingerprint", "startsAt", "endsAt", "generatorURL"}`
/// with every member but `labels` optional. Without a status, an alert whose `endsAt` has
/// passed is resolved, as Alertmanager's own API reads it (its clients say "resolved" so);
/// otherwise it is firing. Members it does not know are ignored. See ``FieldMapping`` for how
/// a mapping reads foreign payloads.
///
/// Alerts come back in payload order with source `json/<input>`; all or nothing: any bad
/// alert fails the whole payload with an ``IngestError`` that names the field path.
public enum GenericJSONAdapter {
    /// Parses `bytes` and reads alerts from them (``FieldMapping/canonical`` when `mapping` is
    /// nil). `now` judges whether an alert without a status has ended.
    public static func alerts(
        from bytes: [UInt8],
        mapping: FieldMapping?,
        input: String = "default",
        now: Date = Date()
    ) throws(IngestError) -> [Alert] {
        try alerts(from: try JSONParser.parse(bytes), mapping: mapping, input: input, now: now)
    }

    /// Reads alerts from an already parsed payload.
    public static func alerts(
        from payload: JSONValue,
        mapping: FieldMapping?,
        input: String = "default",
        now: Date = Date()
    ) throws(IngestError) -> [Alert] {
        let reader = Reader(root: payload, mapping: mapping ?? .canonical, input: input, now: now)
        var alerts: [Alert] = []
        for (object, path) in try reader.alertObjects() {
            alerts.append(try reader.alert(object, at: path))
        }
        return alerts
    }

    /// One payload read through one mapping.
    private struct Reader {
        let root: JSONValue
        let mapping: FieldMapping
        let source: AlertSource
        let statusMap: [String: AlertStatus]
        let severityMap: [String: String]
        let now: Date
        /// What each `$` path of the mapping finds, found once a payload: looked up for
        /// every alert, a path over a large object made reading quadratic in its size.
        let rooted: [FieldPath: JSONValue]

        init(root: JSONValue, mapping: FieldMapping, input: String, now: Date) {
            self.root = root
            self.now = now
            self.mapping = mapping
            self.source = AlertSource(kind: .json, input: input)
            var statusMap: [String: AlertStatus] = [:]
            for (key, status) in mapping.statusMap { statusMap[key.lowercased()] = status }
            self.statusMap = statusMap
            var severityMap: [String: String] = [:]
            for (key, severity) in mapping.severityMap { severityMap[key.lowercased()] = severity }
            self.severityMap = severityMap
            let paths =
                [mapping.labels, mapping.annotations, mapping.status, mapping.severity, mapping.fingerprint, mapping.generatorURL]
                + [mapping.startsAt, mapping.endsAt] + mapping.labelFields.values.map(Optional.some)
                + mapping.annotationFields.values.map(Optional.some)
            var rooted: [FieldPath: JSONValue] = [:]
            for case let path? in paths where path.isRooted && rooted[path] == nil {
                rooted[path] = path.resolve(in: root) ?? .null
            }
            self.rooted = rooted
        }

        /// The alert values with their paths.
        func alertObjects() throws(IngestError) -> [(JSONValue, FieldPath)] {
            if let alertsPath = mapping.alerts {
                let path = FieldPath(alertsPath.components, isRooted: true)
                guard let found = alertsPath.resolve(in: root) else {
                    throw IngestError(
                        code: .missingField,
                        message: "no alerts here: the mapping's alerts path matches nothing",
                        fieldPath: path.description
                    )
                }
                return try list(found, at: path, allowSingle: true)
            }
            switch root {
            case .array:
                return try list(root, at: .root, allowSingle: false)
            case .object(let object):
                if let alerts = object["alerts"] {
                    return try list(alerts, at: FieldPath.root.appending(.key("alerts")), allowSingle: false)
                }
                return [(root, .root)]
            default:
                throw PayloadValues.wrongType(root, expected: "an alert object, an array of alerts or {\"alerts\": [...]}", at: .root)
            }
        }

        private func list(_ value: JSONValue, at path: FieldPath, allowSingle: Bool) throws(IngestError) -> [(JSONValue, FieldPath)] {
            switch value {
            case .array(let elements):
                return elements.enumerated().map { ($0.element, path.appending(.index($0.offset))) }
            case .object where allowSingle:
                return [(value, path)]
            case .null:
                return []
            default:
                let expected = allowSingle ? "an array of alert objects or one alert object" : "an array of alert objects"
                throw PayloadValues.wrongType(value, expected: expected, at: path)
            }
        }

        func alert(_ value: JSONValue, at path: FieldPath) throws(IngestError) -> Alert {
            guard case .object = value else {
                throw PayloadValues.wrongType(value, expected: "an alert object", at: path)
            }
            let labels = try pairs(mapping.labels, mapping.labelFields, mapping.staticLabels, in: value, at: path)
            guard !labels.isEmpty else {
                throw IngestError(
                    code: .missingField,
                    message: "the alert has no labels, so no route could ever match it",
                    fieldPath: path.description
                )
            }
            let annotations = try pairs(mapping.annotations, mapping.annotationFields, mapping.staticAnnotations, in: value, at: path)

            var status: AlertStatus?
            if let (found, foundPath) = lookup(mapping.status, in: value, at: path),
                let text = try PayloadValues.scalarText(found, at: foundPath)
            {
                status = try self.status(text, found, at: foundPath)
            }
            var severity: String?
            if let (found, foundPath) = lookup(mapping.severity, in: value, at: path),
                let text = try PayloadValues.scalarText(found, at: foundPath), !text.isEmpty
            {
                severity = severityMap[text.lowercased()] ?? text
            }
            var fingerprint: String?
            if let (found, foundPath) = lookup(mapping.fingerprint, in: value, at: path),
                let text = try PayloadValues.scalarText(found, at: foundPath), !text.isEmpty
            {
                fingerprint = text
            }
            var generatorURL: String?
            if let (found, foundPath) = lookup(mapping.generatorURL, in: value, at: path) {
                generatorURL = try PayloadValues.scalarText(found, at: foundPath)
            }
            var startsAt: Date?
            if let (found, foundPath) = lookup(mapping.startsAt, in: value, at: path) {
                startsAt = try PayloadValues.timestamp(found, numbersAllowed: true, at: foundPath)
            }
            var endsAt: Date?
            if let (found, foundPath) = lookup(mapping.endsAt, in: value, at: path) {
                endsAt = try PayloadValues.timestamp(found, numbersAllowed: true, at: foundPath)
            }
            // No status: an end that has passed says resolved, as in Alertmanager's API.
            if status == nil, let endsAt, endsAt <= now { status = .resolved }
            return Alert(
                status: status ?? mapping.defaultStatus,
                labels: LabelSet(labels),
                annotations: LabelSet(annotations),
                startsAt: startsAt,
                endsAt: endsAt,
                fingerprint: fingerprint,
                source: source,
                severity: severity,
                generatorURL: generatorURL
            )
        }

        /// The value a mapped path points at (nil when unmapped, missing or null) and its
        /// absolute path in the payload.
        private func lookup(_ fieldPath: FieldPath?, in alert: JSONValue, at alertPath: FieldPath) -> (JSONValue, FieldPath)? {
            guard let fieldPath else { return nil }
            let found = fieldPath.isRooted ? rooted[fieldPath] ?? fieldPath.resolve(in: root) : fieldPath.resolve(in: alert)
            guard let found, !found.isNull else { return nil }
            return (found, fieldPath.isRooted ? fieldPath : alertPath.appending(fieldPath))
        }

        /// Labels or annotations: the object, then the single fields, then the constants.
        private func pairs(
            _ objectPath: FieldPath?,
            _ fields: [String: FieldPath],
            _ constants: [String: String],
            in alert: JSONValue,
            at alertPath: FieldPath
        ) throws(IngestError) -> [String: String] {
            var result: [String: String] = [:]
            if let (found, foundPath) = lookup(objectPath, in: alert, at: alertPath) {
                result = try PayloadValues.labels(found, stringsOnly: false, at: foundPath)
            }
            for (name, fieldPath) in fields {
                if let (found, foundPath) = lookup(fieldPath, in: alert, at: alertPath),
                    let text = try PayloadValues.scalarText(found, at: foundPath)
                {
                    result[name] = text
                }
            }
            for (name, value) in constants where result[name] == nil {
                result[name] = value
            }
            return result
        }

        private func status(_ text: String, _ value: JSONValue, at path: FieldPath) throws(IngestError) -> AlertStatus {
            let key = text.lowercased()
            if let status = statusMap[key] ?? AlertStatus(rawValue: key) {
                return status
            }
            var expected = "\"firing\" or \"resolved\""
            if !mapping.statusMap.isEmpty {
                expected =
                    "\"firing\", \"resolved\" or one of " + mapping.statusMap.keys.sorted().map { IngestError.quote($0) }.joined(separator: ", ")
            }
            throw IngestError(code: .badValue, message: "expected \(expected), got \(value.brief)", fieldPath: path.description)
        }
    }
}
