import KlaxonCore
import KlaxonIngest

extension RepositoryBuilder {
    static let mappingKeys = [
        "alerts", "status", "labels", "annotations", "severity", "fingerprint", "starts_at", "ends_at", "generator_url",
        "label_fields", "annotation_fields", "static_labels", "static_annotations", "status_map", "default_status", "severity_map",
    ]

    /// `inputs.NAME.mapping`: where a foreign JSON payload keeps each alert field.
    func parseFieldMapping(_ node: ConfigNode, what: String) -> FieldMapping? {
        guard let map = node.mapping(what, keys: Self.mappingKeys) else { return nil }
        var mapping = FieldMapping()
        func path(_ key: String) -> FieldPath? {
            guard let valueNode = map[key] else { return nil }
            return fieldPath(valueNode, what: "\(what).\(key)")
        }
        mapping.alerts = path("alerts")
        mapping.status = path("status")
        mapping.labels = path("labels")
        mapping.annotations = path("annotations")
        mapping.severity = path("severity")
        mapping.fingerprint = path("fingerprint")
        mapping.startsAt = path("starts_at")
        mapping.endsAt = path("ends_at")
        mapping.generatorURL = path("generator_url")
        for (key, target) in [("label_fields", \FieldMapping.labelFields), ("annotation_fields", \FieldMapping.annotationFields)] {
            for entry in map[key]?.entries("\(what).\(key)") ?? [] {
                if let path = fieldPath(entry.value, what: "\(what).\(key).\(entry.key)") { mapping[keyPath: target][entry.key] = path }
            }
        }
        mapping.staticLabels = map["static_labels"]?.stringMap("\(what).static_labels") ?? [:]
        mapping.staticAnnotations = map["static_annotations"]?.stringMap("\(what).static_annotations") ?? [:]
        mapping.severityMap = severityMap(map["severity_map"], what: "\(what).severity_map")
        for entry in map["status_map"]?.entries("\(what).status_map") ?? [] {
            guard let value = entry.value.string("\(what).status_map.\(entry.key)") else { continue }
            if let status = AlertStatus(rawValue: value) {
                mapping.statusMap[entry.key] = status
            } else {
                context.error(entry.value.location, "\(what).status_map.\(entry.key): expected firing or resolved, got \"\(value)\"")
            }
        }
        if let statusNode = map["default_status"], let value = statusNode.string("\(what).default_status") {
            if let status = AlertStatus(rawValue: value) {
                mapping.defaultStatus = status
            } else {
                context.error(statusNode.location, "\(what).default_status: expected firing or resolved, got \"\(value)\"")
            }
        }
        return mapping
    }

    private func fieldPath(_ node: ConfigNode, what: String) -> FieldPath? {
        guard let text = node.string(what) else { return nil }
        do {
            return try FieldPath.parse(text)
        } catch {
            context.error(node.location.advanced(by: (error.offset ?? 0) + (node.isQuoted ? 1 : 0)), "\(what): \(error.message)")
            return nil
        }
    }
}

extension RepositoryBuilder {
    /// An input's `severity_map`; its values are checked against the severity levels once
    /// every file is read (``validate(_:)``).
    func severityMap(_ node: ConfigNode?, what: String) -> [String: String] {
        var result: [String: String] = [:]
        for entry in node?.entries(what) ?? [] {
            guard let value = entry.value.string("\(what).\(entry.key)") else { continue }
            result[entry.key] = value
            severityMapValues.append((value, entry.value.location, "\(what).\(entry.key)"))
        }
        return result
    }
}
