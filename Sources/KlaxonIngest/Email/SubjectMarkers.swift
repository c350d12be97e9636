import KlaxonCore

/// What the conventional markers at the start of an alert mail's Subject say.
///
/// Recognized, case-insensitively, repeatedly at the start (after `Re:`/`Fwd:`/`回复:` prefixes
/// and Nagios' `**`):
/// - Alertmanager and Grafana: `[FIRING:3]` (firing, 3 alerts), `[RESOLVED]` or `[RESOLVED:2]`;
///   Grafana's legacy `[Alerting]`, `[OK]`, `[No Data]` (firing);
/// - Zabbix: `Problem:`, `Resolved:`, `Resolved in 5m 3s:`, `OK:`, `Recovery:`, `Update:`
///   (no status of its own);
/// - Nagios/Icinga: `PROBLEM`, `RECOVERY`, `ACKNOWLEDGEMENT` as the first word (or in
///   brackets), and their state at the end (`** PROBLEM Service Alert: web-1/HTTP is CRITICAL **`);
/// - a severity word in brackets or before a colon: `[CRITICAL]`, `[P1]`, `WARNING:`.
///
/// A severity word is one of the built-in list (`critical`, `warning`, `p1`…`p5`, `sev1`…,
/// `disaster`, `high`, …) or a key of the input's severity map. When no marker at the start
/// names a severity, the first bracketed severity word elsewhere in the first 512 characters
/// is used (`Disk full on db-1 [P2]`). Bare words in the text are not markers, however they
/// are written: `Application log has FATAL entries` says nothing about the alert's severity,
/// and taking it would override the input's severity source. The markers found at the start
/// are removed from ``remainder``; the rest of the subject is kept as written.
struct SubjectMarkers {
    var status: AlertStatus?
    /// The severity word as written, lower-cased.
    var severity: String?
    /// Alertmanager's count of firing alerts in the notification.
    var firingCount: Int?
    /// The subject without the markers found at its start, trimmed.
    var remainder: String
    /// An update or acknowledgement of an alert (Zabbix's `Updated problem in 5m:`, Nagios'
    /// and Icinga's `ACKNOWLEDGEMENT`): about a problem already reported, no status of its own.
    var isUpdate = false

    /// Whether the mail only updates an alert already reported: it may come after the
    /// recovery (a problem closed by hand), and must not open or reopen anything.
    var onlyUpdates: Bool { isUpdate && status == nil }

    static let builtinSeverities: Set<String> = [
        "critical", "crit", "fatal", "emergency", "emerg", "disaster", "high", "major", "error", "err", "warning", "warn",
        "average", "medium", "minor", "low", "notice", "info", "information", "informational", "page",
        "p0", "p1", "p2", "p3", "p4", "p5", "sev0", "sev1", "sev2", "sev3", "sev4", "sev5",
    ]

    /// Nagios' and Icinga's notification types, which they write in upper case.
    private static let nagiosTypes: Set<String> = ["PROBLEM", "RECOVERY", "ACKNOWLEDGEMENT"]
    /// Their other types: about a known host or service (maintenance, flapping, a comment),
    /// no problem or recovery of their own; read as updates, and only in upper case: other
    /// systems' `[Custom]` or `Flapping` words are not theirs.
    private static let nagiosUpdateTypes: Set<String> = [
        "DOWNTIMESTART", "DOWNTIMEEND", "DOWNTIMECANCELLED", "DOWNTIMEREMOVED",
        "FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGEND", "FLAPPINGDISABLED", "CUSTOM",
    ]

    private static let replyPrefixes = ["re", "fw", "fwd", "aw", "wg", "sv", "回复", "答复", "转发", "回覆", "轉寄"]

    /// `tagSkips`: how many leading tags of no meaning (a mailing list's) may be passed over.
    static func read(_ subject: String, extraSeverities: Set<String>, tagSkips: Int = 2) -> SubjectMarkers {
        let severityWords = builtinSeverities.union(extraSeverities.map { $0.lowercased() })
        var markers = SubjectMarkers(remainder: subject)
        var rest = Substring(subject)
        var progressed = true
        var isNagios = false
        var tagSkips = tagSkips
        while progressed {
            progressed = false
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "*" }
            // Reply and forward prefixes.
            if let colon = rest.prefix(8).firstIndex(where: { $0 == ":" || $0 == "：" }),
                replyPrefixes.contains(rest[..<colon].lowercased().trimmingWhitespace())
            {
                rest = rest[rest.index(after: colon)...]
                progressed = true
                continue
            }
            // [TOKEN] or [TOKEN:n].
            if rest.first == "[", let close = rest.prefix(40).firstIndex(of: "]") {
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                // Icinga 2: "[DOWNTIMESTART] HTTP on web-1 is OK!".
                if nagiosUpdateTypes.contains(String(inside)) {
                    markers.isUpdate = true
                    isNagios = true
                    rest = rest[rest.index(after: close)...]
                    progressed = true
                    continue
                }
                let parts = inside.split(separator: ":", maxSplits: 1)
                let word = (parts.first.map(String.init) ?? "").trimmingWhitespace().lowercased()
                let count = parts.count == 2 ? Int(parts[1].trimmingWhitespace()) : nil
                if markers.apply(word, count: count, severityWords: severityWords) {
                    rest = rest[rest.index(after: close)...]
                    progressed = true
                    // Icinga 2: "[PROBLEM] HTTP on web-1 is CRITICAL!".
                    if nagiosTypes.contains(String(inside)) { isNagios = true }
                    continue
                }
                // A tag a mailing list or mail gateway put first ("[ops-alerts] [RESOLVED] X",
                // "[EXTERNAL] Resolved: X"), up to two: passed over when a status follows, or
                // the recovery would read as a new firing alert and page.
                let after = rest[rest.index(after: close)...]
                if markers.status == nil, tagSkips > 0,
                    read(String(after.prefix(1024)), extraSeverities: extraSeverities, tagSkips: tagSkips - 1).status != nil
                {
                    tagSkips -= 1
                    rest = after
                    progressed = true
                    continue
                }
            }
            // WORD: or WORD words: (Zabbix "Resolved in 5m 3s:").
            if let colon = rest.prefix(48).firstIndex(of: ":") {
                let word = rest[..<colon].trimmingWhitespace().lowercased()
                if word.hasPrefix("resolved in ") || word.hasPrefix("problem resolved") {
                    markers.status = markers.status ?? .resolved
                    rest = rest[rest.index(after: colon)...]
                    progressed = true
                    continue
                }
                if word.hasPrefix("updated problem") {
                    markers.isUpdate = true
                    rest = rest[rest.index(after: colon)...]
                    progressed = true
                    continue
                }
                if !word.contains(" "), markers.apply(word, count: nil, severityWords: severityWords) {
                    rest = rest[rest.index(after: colon)...]
                    progressed = true
                    continue
                }
            }
            // Nagios: "PROBLEM Service Alert: …", "RECOVERY Host Alert: …" (upper case only).
            if let space = rest.firstIndex(of: " ") {
                let word = String(rest[..<space])
                if nagiosUpdateTypes.contains(word) {
                    markers.isUpdate = true
                    rest = rest[rest.index(after: space)...]
                    progressed = true
                    isNagios = true
                    continue
                }
                if nagiosTypes.contains(word) {
                    _ = markers.apply(word.lowercased(), count: nil, severityWords: severityWords)
                    rest = rest[rest.index(after: space)...]
                    progressed = true
                    isNagios = true
                    continue
                }
            }
        }
        // Nagios' closing " **": trailing stars and spaces go in one pass (a loop that cut
        // one star and copied the rest each time took minutes for a hostile subject).
        let scalars = rest.unicodeScalars
        var end = scalars.endIndex
        while end > scalars.startIndex, case let last = scalars[scalars.index(before: end)], last == "*" || last.properties.isWhitespace {
            end = scalars.index(before: end)
        }
        var remainder = String(Substring(scalars[..<end])).trimmingWhitespace()
        if isNagios, let (state, subject) = nagiosState(remainder) {
            if markers.severity == nil, severityWords.contains(state.lowercased()) { markers.severity = state.lowercased() }
            // The state is no part of what failed: without it, `… is OK` names the same
            // alert as the `… is CRITICAL` it recovers.
            remainder = subject
        }
        markers.remainder = remainder
        if markers.severity == nil {
            markers.severity = bracketed(in: subject, severityWords: severityWords)
        }
        return markers
    }

    /// Nagios' and Icinga's host and service states, which they write in upper case.
    private static let nagiosStates: Set<Substring> = ["OK", "WARNING", "CRITICAL", "UNKNOWN", "UP", "DOWN", "UNREACHABLE", "PENDING"]

    /// The state Nagios and Icinga end their subjects with ("… is CRITICAL", "… is WARNING!"),
    /// upper case as they write it, and the subject before ` is STATE`.
    private static func nagiosState(_ remainder: String) -> (state: Substring, subject: String)? {
        let text = remainder.hasSuffix("!") ? remainder.dropLast() : Substring(remainder)
        guard let space = text.lastIndex(of: " "), text[..<space].hasSuffix(" is") else { return nil }
        let state = text[text.index(after: space)...]
        guard nagiosStates.contains(state) else { return nil }
        return (state, String(text[..<space].dropLast(3)).trimmingWhitespace())
    }

    /// Applies one marker word; false when the word is not a marker.
    private mutating func apply(_ word: String, count: Int?, severityWords: Set<String>) -> Bool {
        switch word {
        case "firing", "alerting", "alert", "problem", "no data", "nodata":
            if status == nil { status = .firing }
            if word == "firing", let count { firingCount = count }
            return true
        case "resolved", "ok", "recovery", "recovered", "cleared", "resolve":
            if status == nil { status = .resolved }
            return true
        case "acknowledgement":
            // Nagios' and Icinga's type; plain "ack" may be anything (Alibaba Cloud's
            // Kubernetes service is ACK), so it marks no update.
            isUpdate = true
            return true
        case "update", "acknowledged", "ack":
            return true
        default:
            if severityWords.contains(word) {
                if severity == nil { severity = word }
                return true
            }
            return false
        }
    }

    /// The first `[word]` of the subject that is a severity word.
    private static func bracketed(in subject: String, severityWords: Set<String>) -> String? {
        var token = ""
        var startsAfterBracket = false
        var previous: Character = " "
        for character in subject.prefix(512) + " " {
            if character.isLetter || character.isNumber || character == "_" || character == "-" {
                if token.isEmpty { startsAfterBracket = previous == "[" }
                token.append(character)
            } else if !token.isEmpty {
                if startsAfterBracket, character == "]", severityWords.contains(token.lowercased()) { return token.lowercased() }
                token = ""
            }
            previous = character
        }
        return nil
    }
}
