import KlaxonCore
import KlaxonIngest

extension RepositoryBuilder {
    static let emailMappingKeys = [
        "subject_patterns", "body_patterns", "label_keys", "annotation_keys", "fields", "severity_map", "static_labels", "senders",
        "require_match", "dedupe", "dedupe_label",
    ]

    /// `inputs.NAME.mapping` of an input of `type: email` (see ``EmailMapping``):
    ///
    /// ```yaml
    /// mapping:
    ///   senders: [zabbix@example.com, "@alerts.example.com"]
    ///   subject_patterns: ['^(?:Problem|Resolved[^:]*): (?<alertname>.+) on (?<host>\S+)$']
    ///   body_patterns: ['Original problem ID: (?<event_id>\d+)']
    ///   label_keys: [host, service]          # `key: value` body lines that become labels
    ///   annotation_keys: [operational data]  # … and annotations
    ///   fields: ignore                       # other keys: ignore | label | annotation
    ///   severity_map: {disaster: critical, high: critical, average: warning}
    ///   static_labels: {team: ops}
    ///   require_match: true                  # no pattern matched → the message is refused (exit 65)
    ///   dedupe: thread                       # thread | labels
    ///   dedupe_label: event_id
    /// ```
    func parseEmailMapping(_ node: ConfigNode, what: String) -> EmailMapping? {
        guard let map = node.mapping(what, keys: Self.emailMappingKeys) else { return nil }
        var mapping = EmailMapping()
        mapping.subjectPatterns = emailPatterns(map["subject_patterns"], what: "\(what).subject_patterns")
        mapping.bodyPatterns = emailPatterns(map["body_patterns"], what: "\(what).body_patterns")

        var keyPlaces: [String: String] = [:]
        for (key, target) in [("label_keys", \EmailMapping.labelKeys), ("annotation_keys", \EmailMapping.annotationKeys)] {
            for (text, item) in map[key]?.stringList("\(what).\(key)") ?? [] {
                let normalized = EmailMapping.normalizeKey(text)
                guard !normalized.isEmpty else {
                    context.error(item.location, "\(what).\(key): \"\(text)\" has no letters or digits to make a label name of")
                    continue
                }
                if let other = keyPlaces[normalized], other != key {
                    context.error(item.location, "\(what).\(key): \"\(text)\" is also in \(other); a body key is either a label or an annotation")
                }
                keyPlaces[normalized] = key
                mapping[keyPath: target].insert(normalized)
            }
        }
        if let fieldsNode = map["fields"], let value = fieldsNode.string("\(what).fields") {
            if let use = EmailMapping.FieldUse(rawValue: value) {
                mapping.fields = use
            } else {
                let names = EmailMapping.FieldUse.allCases.map(\.rawValue)
                context.error(
                    fieldsNode.location,
                    "\(what).fields: \"\(value)\" is not one of \(names.joined(separator: ", "))\(Suggestion.hint(for: value, in: names))"
                )
            }
        }
        mapping.severityMap = severityMap(map["severity_map"], what: "\(what).severity_map")
        for entry in map["static_labels"]?.entries("\(what).static_labels") ?? [] {
            guard let value = entry.value.string("\(what).static_labels.\(entry.key)") else { continue }
            if LabelMatcher.isValidLabelName(entry.key) {
                mapping.staticLabels[entry.key] = value
            } else {
                context.error(entry.keyLocation, "\(what).static_labels: \"\(entry.key)\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)")
            }
        }
        for (sender, item) in map["senders"]?.stringList("\(what).senders") ?? [] {
            if EmailMapping.isValidSender(sender) {
                mapping.senders.append(sender.lowercased())
            } else {
                context.error(item.location, "\(what).senders: \"\(sender)\" is neither an address (user@example.com) nor a domain (@example.com)")
            }
        }
        if let requireNode = map["require_match"], let require = requireNode.bool("\(what).require_match") {
            mapping.requireMatch = require
            if require, mapping.subjectPatterns.isEmpty, mapping.bodyPatterns.isEmpty, !map.has("subject_patterns"), !map.has("body_patterns") {
                context.error(requireNode.location, "\(what).require_match: needs subject_patterns or body_patterns to match")
            }
        }
        if let dedupeNode = map["dedupe"], let value = dedupeNode.string("\(what).dedupe") {
            if let dedupe = EmailMapping.Dedupe(rawValue: value) {
                mapping.dedupe = dedupe
            } else {
                let names = EmailMapping.Dedupe.allCases.map(\.rawValue)
                context.error(
                    dedupeNode.location,
                    "\(what).dedupe: \"\(value)\" is not one of \(names.joined(separator: ", "))\(Suggestion.hint(for: value, in: names))"
                )
            }
        }
        if let labelNode = map["dedupe_label"], let name = labelNode.string("\(what).dedupe_label") {
            if !LabelMatcher.isValidLabelName(name) {
                context.error(labelNode.location, "\(what).dedupe_label: \"\(name)\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)")
            } else {
                mapping.dedupeLabel = name
                let captured = (mapping.subjectPatterns + mapping.bodyPatterns).contains { $0.labelNames.contains(name) }
                let mapped = mapping.labelKeys.contains(name) || mapping.fields == .label || mapping.staticLabels[name] != nil
                if !captured, !mapped {
                    context.warning(
                        labelNode.location,
                        "\(what).dedupe_label: no pattern captures \"\(name)\" and no body key becomes it, so the dedupe key always comes from dedupe: \(mapping.dedupe.rawValue)"
                    )
                }
            }
        }
        return mapping
    }

    /// A list of regexes (or a single one); a bad one is reported at its first character.
    private func emailPatterns(_ node: ConfigNode?, what: String) -> [EmailPattern] {
        var patterns: [EmailPattern] = []
        for (text, item) in node?.stringList(what) ?? [] {
            do {
                patterns.append(try EmailPattern(text))
            } catch {
                context.error(item.location.advanced(by: item.isQuoted ? 1 : 0), "\(what): bad regex \(Self.quoted(text)): \(error.message)")
            }
        }
        return patterns
    }

    /// `"text"` with `\\` and `\"` escaped, as the matcher errors print patterns.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }
}
