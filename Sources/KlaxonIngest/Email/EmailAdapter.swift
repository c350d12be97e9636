import Foundation
import KlaxonCore

/// Turns one e-mail into one alert through an input's ``EmailMapping``.
///
/// The alert: labels, status, severity and fingerprint as ``EmailMapping`` describes; source
/// `email/<input>`; `startsAt` (firing) or `endsAt` (resolved) from the Date field; annotations
/// `subject`, `description` (the body text, cut to ``descriptionLimit`` characters at a line
/// break where possible, with `…`), `from`, `message_id` and, for Alertmanager's `[FIRING:n]`,
/// `firing_count`, plus the body lines mapped to annotations (which win over the four).
/// Label values are cut to ``labelValueLimit`` characters and the subject annotation to
/// ``subjectLimit``, so a hostile message cannot make huge labels.
///
/// Errors (all ``IngestError``): ``IngestError/Code/messageTooLarge`` and
/// ``IngestError/Code/malformedMessage`` from parsing, ``IngestError/Code/senderRejected``,
/// and ``IngestError/Code/unusableMessage`` when a required pattern did not match or the message
/// has no subject, no body and nothing mapped.
public enum EmailAdapter {
    /// The most characters of body text kept in the `description` annotation.
    public static let descriptionLimit = 4000
    /// The most characters of body text that ``EmailMapping/bodyPatterns`` and body lines see.
    public static let bodyScanLimit = 65_536
    /// The most characters of a label value (longer ones are cut, with `…`).
    public static let labelValueLimit = 1024
    /// The most characters of the `subject` annotation (longer ones are cut, with `…`).
    public static let subjectLimit = 1000

    /// Parses `bytes` (``RFC5322Parser``) and maps the message; one alert per message, none
    /// for an update or acknowledgement with no status of its own (``SubjectMarkers``).
    public static func alerts(
        from bytes: [UInt8],
        mapping: EmailMapping,
        input: String = "default",
        limits: EmailLimits = .default
    ) throws(IngestError) -> [Alert] {
        let message = try RFC5322Parser.parse(bytes, limits: limits)
        // An update or acknowledgement says nothing new about whether the problem fires, and
        // may come after its recovery: taken for a firing alert, it would page again.
        if SubjectMarkers.read(message.subject, extraSeverities: Set(mapping.severityMap.keys)).onlyUpdates {
            try checkSender(message, mapping: mapping, input: input)
            return []
        }
        return [try alert(from: message, mapping: mapping, input: input)]
    }

    /// Maps an already parsed message.
    public static func alert(from message: EmailMessage, mapping: EmailMapping, input: String = "default") throws(IngestError) -> Alert {
        try checkSender(message, mapping: mapping, input: input)

        let markers = SubjectMarkers.read(message.subject, extraSeverities: Set(mapping.severityMap.keys))
        let scanned = String(message.text.unicodeScalars.prefix(bodyScanLimit))
        var labels: [String: String] = [:]
        var annotations: [String: String] = [:]
        var matched = false
        for pattern in mapping.subjectPatterns {
            guard let captures = pattern.captures(in: message.subject) else { continue }
            matched = true
            labels.merge(captures) { first, _ in first }
        }
        for pattern in mapping.bodyPatterns {
            guard let captures = pattern.captures(in: scanned) else { continue }
            matched = true
            labels.merge(captures) { first, _ in first }
        }
        if mapping.requireMatch, !matched {
            throw IngestError(
                code: .unusableMessage,
                message:
                    "none of the subject_patterns or body_patterns of input \(input) matches this message (subject \(IngestError.quote(message.subject))), and the input requires a match"
            )
        }
        let fields = BodyFields.read(scanned)
        // Normalized again: the sets are public and may have been filled with keys as written.
        let labelKeys = Set(mapping.labelKeys.map(EmailMapping.normalizeKey))
        let annotationKeys = Set(mapping.annotationKeys.map(EmailMapping.normalizeKey))
        for (key, value) in fields {
            let use: EmailMapping.FieldUse =
                labelKeys.contains(key) ? .label : annotationKeys.contains(key) ? .annotation : mapping.fields
            switch use {
            case .label: if labels[key] == nil { labels[key] = value }
            case .annotation: if annotations[key] == nil { annotations[key] = value }
            case .ignore: break
            }
        }
        for (name, value) in mapping.staticLabels where labels[name] == nil {
            labels[name] = value
        }
        if labels["alertname"] == nil {
            guard let name = [markers.remainder, message.subject, firstLine(of: scanned)].first(where: { !$0.isEmpty }) else {
                throw IngestError(code: .unusableMessage, message: "the message has no subject and no body text, and the mapping found no alertname")
            }
            labels["alertname"] = name
        }

        var severity = markers.severity ?? labels["severity"] ?? fields.first { $0.key == "severity" }?.value
        if let found = severity {
            let lookup = found.lowercased()
            severity = mapping.severityMap.first { $0.key.lowercased() == lookup }?.value ?? lookup
        }
        let status = markers.status ?? .firing

        for (name, value) in labels {
            labels[name] = cut(value, to: labelValueLimit)
        }
        if annotations["subject"] == nil, !message.subject.isEmpty {
            annotations["subject"] = cut(message.subject, to: subjectLimit)
        }
        if annotations["description"] == nil, !message.text.isEmpty { annotations["description"] = truncated(message.text) }
        if annotations["from"] == nil, !message.from.isEmpty { annotations["from"] = message.from }
        if annotations["message_id"] == nil, let id = message.messageID { annotations["message_id"] = id }
        if let count = markers.firingCount { annotations["firing_count"] = String(count) }

        var fingerprint: String?
        if let name = mapping.dedupeLabel, let value = labels[name], !value.isEmpty {
            fingerprint = value
        } else if mapping.dedupe == .thread {
            fingerprint = message.threadRoot
        }
        return Alert(
            status: status,
            labels: LabelSet(labels),
            annotations: LabelSet(annotations),
            startsAt: status == .firing ? message.date : nil,
            endsAt: status == .resolved ? message.date : nil,
            fingerprint: fingerprint,
            source: AlertSource(kind: .email, input: input),
            severity: severity
        )
    }

    private static func checkSender(_ message: EmailMessage, mapping: EmailMapping, input: String) throws(IngestError) {
        guard !mapping.senders.isEmpty else { return }
        guard let from = message.fromAddress else {
            throw IngestError(code: .senderRejected, message: "the message has no From address, and input \(input) accepts only listed senders")
        }
        guard mapping.allows(from) else {
            throw IngestError(code: .senderRejected, message: "sender \(IngestError.quote(from)) (From) is not on the allowlist of input \(input)")
        }
        if let returnPath = message.returnPath, !mapping.allows(returnPath) {
            let shown = returnPath.isEmpty ? "the null sender <> (Return-Path: a bounce)" : "\(IngestError.quote(returnPath)) (Return-Path)"
            throw IngestError(code: .senderRejected, message: "sender \(shown) is not on the allowlist of input \(input)")
        }
    }

    /// The first non-blank line, at most 200 characters.
    private static func firstLine(of text: String) -> String {
        for line in text.split(separator: "\n", maxSplits: 64) {
            let trimmed = line.trimmingWhitespace()
            if !trimmed.isEmpty { return cut(trimmed, to: 200) }
        }
        return ""
    }

    /// At most `limit` characters, with `…` when anything was cut.
    static func cut(_ text: String, to limit: Int) -> String {
        // UTF-8 length bounds the character count: most values skip the O(n) count.
        guard text.utf8.count > limit else { return text }
        var characters = 0
        var index = text.startIndex
        while index < text.endIndex {
            if characters == limit { return String(text[..<index]) + "…" }
            characters += 1
            index = text.index(after: index)
        }
        return text
    }

    /// At most ``descriptionLimit`` characters, cut at the last line break of the second half
    /// when there is one, with `…` appended when anything was cut.
    static func truncated(_ text: String) -> String {
        guard text.utf8.count > descriptionLimit else { return text }
        var cut = text.prefix(descriptionLimit)
        guard cut.endIndex < text.endIndex else { return text }
        if let lineBreak = cut.lastIndex(of: "\n"), cut.distance(from: cut.startIndex, to: lineBreak) > descriptionLimit / 2 {
            cut = cut[..<lineBreak]
        }
        return String(cut) + "…"
    }
}
