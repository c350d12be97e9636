import Foundation
import KlaxonCore
import Testing

@testable import KlaxonIngest

@Suite struct EmailMappingTests {
    private func alert(_ text: String, _ mapping: EmailMapping = .default) throws(IngestError) -> Alert {
        let alerts = try EmailAdapter.alerts(from: Array(text.utf8), mapping: mapping, input: "ops-mail")
        return alerts[0]
    }

    private func failure(_ text: String, _ mapping: EmailMapping, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        do {
            let alert = try alert(text, mapping)
            Issue.record("accepted as \(alert)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    private static func mail(subject: String, from: String = "zabbix@example.com", extra: String = "", body: String = "") -> String {
        "From: \(from)\nSubject: \(subject)\n\(extra)\n\(body)"
    }

    // MARK: - Subject markers

    @Test(
        arguments: [
            ("[FIRING:3] DiskFull (db-1)", AlertStatus.firing, nil, 3, "DiskFull (db-1)"),
            ("[RESOLVED] DiskFull (db-1)", .resolved, nil, nil, "DiskFull (db-1)"),
            ("[RESOLVED:2] DiskFull", .resolved, nil, nil, "DiskFull"),
            ("Re: [FIRING:1] [CRITICAL] Disk", .firing, "critical", 1, "Disk"),
            ("[CRITICAL] Database down", .firing, "critical", nil, "Database down"),
            ("[P1] Checkout errors", .firing, "p1", nil, "Checkout errors"),
            ("WARNING: queue depth", .firing, "warning", nil, "queue depth"),
            ("Problem: High CPU on web-1", .firing, nil, nil, "High CPU on web-1"),
            ("Resolved: High CPU on web-1", .resolved, nil, nil, "High CPU on web-1"),
            ("Resolved in 1h 2m 3s: High CPU", .resolved, nil, nil, "High CPU"),
            ("OK: web-1 is back", .resolved, nil, nil, "web-1 is back"),
            ("Update: problem acknowledged", .firing, nil, nil, "problem acknowledged"),
            // Nagios' and Icinga's state is dropped, so a recovery names what its problem did.
            ("** PROBLEM Service Alert: web-1/HTTP is CRITICAL **", .firing, "critical", nil, "Service Alert: web-1/HTTP"),
            ("** RECOVERY Service Alert: web-1/HTTP is OK **", .resolved, nil, nil, "Service Alert: web-1/HTTP"),
            ("** PROBLEM Host Alert: web-1 is DOWN **", .firing, nil, nil, "Host Alert: web-1"),
            ("** RECOVERY Host Alert: web-1 is UP **", .resolved, nil, nil, "Host Alert: web-1"),
            ("[RECOVERY] HTTP on web-1 is OK!", .resolved, nil, nil, "HTTP on web-1"),
            ("[Alerting] High load", .firing, nil, nil, "High load"),
            ("[OK] High load", .resolved, nil, nil, "High load"),
            ("Fwd: 回复: [prod] Disk full [P2]", .firing, "p2", nil, "[prod] Disk full [P2]"),
            ("[PROBLEM] HTTP on web-1 is WARNING!", .firing, "warning", nil, "HTTP on web-1"),
            ("** PROBLEM Service Alert: web-1/HTTP is critical **", .firing, nil, nil, "Service Alert: web-1/HTTP is critical"),
            ("Disk critical on db-1", .firing, nil, nil, "Disk critical on db-1"),
            // Bare words, however written, are the alert's text, not markers.
            ("Problem: Application log has FATAL entries on app1", .firing, nil, nil, "Application log has FATAL entries on app1"),
            ("host/disk is CRITICAL", .firing, nil, nil, "host/disk is CRITICAL"),
            ("Resolved: HIGH memory on db-1", .resolved, nil, nil, "HIGH memory on db-1"),
            ("Error rate high on api", .firing, nil, nil, "Error rate high on api"),
            ("", .firing, nil, nil, ""),
            // Up to two tags a mailing list or mail gateway put first, when a status follows.
            ("[ops-alerts] [RESOLVED] DiskFull (db-1)", .resolved, nil, nil, "DiskFull (db-1)"),
            ("[EXTERNAL] [ops] [FIRING:2] DiskFull", .firing, nil, 2, "DiskFull"),
            ("[EXTERNAL] Resolved: High CPU", .resolved, nil, nil, "High CPU"),
            ("[ops-alerts] DiskFull resolved", .firing, nil, nil, "[ops-alerts] DiskFull resolved"),
            ("[a] [b] [c] [RESOLVED] X", .firing, nil, nil, "[a] [b] [c] [RESOLVED] X"),
        ] as [(String, AlertStatus, String?, Int?, String)]
    )
    func subjectMarkers(subject: String, status: AlertStatus, severity: String?, count: Int?, remainder: String) {
        let markers = SubjectMarkers.read(subject, extraSeverities: [])
        #expect((markers.status ?? .firing) == status)
        #expect(markers.severity == severity)
        #expect(markers.firingCount == count)
        #expect(markers.remainder == remainder)
    }

    /// Nagios does not thread its mail: with `dedupe: labels` a recovery is the same alert
    /// as its problem only if the state at the end of the subject is left out.
    @Test func aNagiosRecoveryIsTheAlertItsProblemWas() throws {
        let mapping = EmailMapping(dedupe: .labels)
        let problem = try alert(Self.mail(subject: "** PROBLEM Service Alert: web-1/HTTP is CRITICAL **", from: "nagios@example.com"), mapping)
        let warning = try alert(Self.mail(subject: "** PROBLEM Service Alert: web-1/HTTP is WARNING **", from: "nagios@example.com"), mapping)
        let recovery = try alert(Self.mail(subject: "** RECOVERY Service Alert: web-1/HTTP is OK **", from: "nagios@example.com"), mapping)
        #expect(problem.status == .firing && recovery.status == .resolved)
        #expect(problem.fingerprint == recovery.fingerprint && warning.fingerprint == problem.fingerprint)
        #expect(problem.labels["alertname"] == "Service Alert: web-1/HTTP")
    }

    /// Updates and acknowledgements record nothing: one after the recovery (a problem closed
    /// by hand in Zabbix sends both) would otherwise open the alert again and page.
    /// A subject ending in a long run of stars (Nagios closes its subjects with " **") is
    /// read in one pass: cutting one star at a time took minutes for a million.
    @Test func aSubjectEndingInAMillionStarsIsReadInOnePass() throws {
        let stars = String(repeating: "*", count: 1_000_000)
        #expect(
            try alert(Self.mail(subject: "** PROBLEM Service Alert: web-1/HTTP is CRITICAL " + stars)).labels["alertname"]
                == "Service Alert: web-1/HTTP"
        )
        let folded = (0..<1000).map { _ in String(repeating: "*", count: 990) }.joined(separator: "\n ")
        #expect(try alert(Self.mail(subject: "DiskFull " + folded)).labels["alertname"] == "DiskFull")
    }

    @Test func updatesAndAcknowledgementsAreNoAlerts() throws {
        for subject in [
            "Updated problem in 5m: High CPU on web-1", "Updated problem: High CPU on web-1",
            "** ACKNOWLEDGEMENT Service Alert: web-1/HTTP is CRITICAL **", "[ACKNOWLEDGEMENT] HTTP on web-1 is CRITICAL!",
            "Re: Updated problem in 1h: High CPU",
            // Maintenance, flapping and comments: Nagios' and Icinga 2's other types.
            "** DOWNTIMESTART Service Alert: web-1/HTTP is OK **", "** DOWNTIMEEND Host Alert: web-1 is UP **",
            "** FLAPPINGSTART Service Alert: web-1/HTTP is CRITICAL **", "** CUSTOM Service Alert: web-1/HTTP is OK **",
            "[DOWNTIMEREMOVED] HTTP on web-1 is OK!", "[FLAPPINGEND] HTTP on web-1 is OK!",
        ] {
            #expect(
                try EmailAdapter.alerts(from: Array(Self.mail(subject: subject).utf8), mapping: .default, input: "ops-mail").isEmpty,
                "\(subject)"
            )
        }
        // With a status of its own, it is that status.
        #expect(try alert(Self.mail(subject: "Updated problem in 5m: Resolved: High CPU")).status == .resolved)
        // Words other systems use for other things are no updates: Alibaba Cloud's
        // Kubernetes service is ACK.
        for subject in [
            "[ACK][CRITICAL] cluster prod node NotReady", "Update: disk full on db-1", "Ack: queue stuck", "[Custom] disk full",
            "Flappingstart: link eth0",
        ] {
            #expect(try alert(Self.mail(subject: subject)).status == .firing, "\(subject)")
        }
        // A sender not allowed is refused all the same.
        let listed = EmailMapping(senders: ["zabbix@example.com"])
        #expect(throws: IngestError.self) {
            try EmailAdapter.alerts(
                from: Array(Self.mail(subject: "Updated problem: x", from: "eve@example.org").utf8),
                mapping: listed,
                input: "ops-mail"
            )
        }
    }

    @Test func severityMapKeysAreSeverityWordsAndMapTheValue() throws {
        let mapping = EmailMapping(severityMap: ["Disaster": "critical", "P3": "warning"])
        #expect(try alert(Self.mail(subject: "[DISASTER] Core switch down"), mapping).severity == "critical")
        #expect(try alert(Self.mail(subject: "[P3] Slow queries"), mapping).severity == "warning")
        #expect(try alert(Self.mail(subject: "[P1] Down"), mapping).severity == "p1")
        #expect(try alert(Self.mail(subject: "Down"), mapping).severity == nil)
        // A severity label from a pattern, then a severity body line.
        let captured = EmailMapping(bodyPatterns: [try EmailPattern(#"level=(?<severity>\w+)"#)], severityMap: ["disaster": "critical"])
        let fromLabel = try alert(Self.mail(subject: "x", body: "level=Disaster\nseverity: low\n"), captured)
        #expect(fromLabel.severity == "critical")
        #expect(fromLabel.labels["severity"] == "Disaster")
        #expect(try alert(Self.mail(subject: "x", body: "Severity: Disaster\n"), captured).severity == "critical")
    }

    /// A word in the alert's name must not outrank the input's severity source: Zabbix
    /// writes the trigger's severity in the body.
    @Test func capitalizedSubjectWordsDoNotOverrideTheBodySeverity() throws {
        let zabbix = EmailMapping(severityMap: ["disaster": "critical", "high": "critical", "average": "warning"])
        let fatal = try alert(
            Self.mail(subject: "Problem: Application log has FATAL entries on app1", body: "Problem name: log\nSeverity: Disaster\n"),
            zabbix
        )
        #expect(fatal.severity == "critical")
        #expect(fatal.labels["alertname"] == "Application log has FATAL entries on app1")
        let average = try alert(Self.mail(subject: "Problem: HIGH memory use on db-1", body: "Severity: Average\n"), zabbix)
        #expect(average.severity == "warning")
        // A marker still wins over the body.
        #expect(try alert(Self.mail(subject: "[P1] Problem: log has FATAL entries", body: "Severity: Average\n"), zabbix).severity == "p1")
        #expect(try alert(Self.mail(subject: "Log has FATAL entries [DISASTER]", body: "Severity: Average\n"), zabbix).severity == "critical")
    }

    // MARK: - Patterns

    @Test func patternsCaptureLabelsInOrderOfPrecedence() throws {
        let mapping = EmailMapping(
            subjectPatterns: [
                try EmailPattern(#"^(?<alertname>\w+) on (?<host_name>[\w.-]+)"#),
                try EmailPattern(#"on (?<host_name>\S+) in (?<dc>\w+)"#),
            ],
            bodyPatterns: [try EmailPattern(#"(?m)^team: (?<team>\w+)$"#), try EmailPattern(#"never (?<never>x)"#)],
            labelKeys: ["team", "dc"],
            staticLabels: ["source": "mail", "team": "fallback"]
        )
        let alert = try alert(Self.mail(subject: "DiskFull on db-1.example in fra1", body: "team: dba\ndc: ams2\n"), mapping)
        #expect(alert.labels == ["alertname": "DiskFull", "host_name": "db-1.example", "dc": "fra1", "team": "dba", "source": "mail"])
    }

    @Test func patternNamesAndBackReferences() throws {
        let pattern = try EmailPattern(#"(?<first_word>\w+) \k<first_word> (?:[(?<x>)])(?<!y)(?<last>\w+)?"#)
        #expect(pattern.labelNames == ["first_word", "last"])
        #expect(pattern.captures(in: "go go (end") == ["first_word": "go", "last": "end"])
        #expect(pattern.captures(in: "so so ( end") == ["first_word": "so"])
        #expect(pattern.captures(in: "nothing") == nil)
        #expect(try EmailPattern(#"\Q(?<not_a_group>\E(?<g>\d)"#).labelNames == ["g"])
        #expect(try EmailPattern("plain").captures(in: "a plain text") == [:])
    }

    @Test(arguments: [
        ("(?<1bad>x)", #"the group name "1bad" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"#),
        ("(?<a>x)(?<a>y)", #"the group name "a" is used twice"#),
        ("(?P<a>x)", "write named groups as (?<name>…), not (?P<name>…)"),
        (#"\k<nope>(?<nope>x)"#, #"\k<nope> refers to no earlier group (?<nope>…)"#),
        ("(?<a", "unterminated group name"),
        ("a(b", "missing closing )"),
        ("a**", "invalid nested repetition operator *"),
        ("x\\", "trailing backslash at end of expression"),
    ])
    func badPatterns(pattern: String, message: String) {
        do {
            _ = try EmailPattern(pattern)
            Issue.record("accepted \(pattern)")
        } catch {
            #expect(error.code == .invalidPattern)
            #expect(error.message == message)
            #expect(error.subject == pattern)
        }
    }

    @Test func requireMatch() throws {
        let mapping = EmailMapping(subjectPatterns: [try EmailPattern(#"^ALERT (?<alertname>\w+)"#)], requireMatch: true)
        #expect(try alert(Self.mail(subject: "ALERT DiskFull"), mapping).labels == ["alertname": "DiskFull"])
        let error = failure(Self.mail(subject: "Your invoice"), mapping)
        #expect(error?.code == .unusableMessage)
        #expect(
            error?.description
                == #"none of the subject_patterns or body_patterns of input ops-mail matches this message (subject "Your invoice"), and the input requires a match"#
        )
        var lenient = mapping
        lenient.requireMatch = false
        #expect(try alert(Self.mail(subject: "Your invoice"), lenient).labels == ["alertname": "Your invoice"])
    }

    @Test func alertnameFallsBackToTheSubjectThenTheBody() throws {
        #expect(try alert(Self.mail(subject: "[FIRING:1]")).labels["alertname"] == "[FIRING:1]")
        #expect(try alert(Self.mail(subject: "", body: "\n\nfirst line\nsecond")).labels["alertname"] == "first line")
        let error = failure("From: a@example.com\n\n", .default)
        #expect(error?.code == .unusableMessage)
        #expect(error?.description == "the message has no subject and no body text, and the mapping found no alertname")
    }

    @Test func bodyFields() throws {
        let body = """
            Host: web-07
            - Trigger Severity = High
            * Original problem ID: 81327
            Operational data: 97.2 %
            URL: https://zabbix.example.com/tr_events.php?eventid=81327
            https://only.a.url/
            Host: second value ignored
            not a field line
            Empty:
            1bad: key starts with a digit
            """
        let labels = try alert(Self.mail(subject: "x", body: body), EmailMapping(fields: .label)).labels
        #expect(
            labels == [
                "alertname": "x", "host": "web-07", "trigger_severity": "High", "original_problem_id": "81327",
                "operational_data": "97.2 %", "url": "https://zabbix.example.com/tr_events.php?eventid=81327",
            ]
        )
        let split = try alert(
            Self.mail(subject: "x", body: body),
            EmailMapping(labelKeys: ["HOST"], annotationKeys: ["Original Problem ID", "url"], fields: .ignore)
        )
        #expect(split.labels == ["alertname": "x", "host": "web-07"])
        #expect(split.annotations["original_problem_id"] == "81327")
        #expect(split.annotations["url"] == "https://zabbix.example.com/tr_events.php?eventid=81327")
        #expect(split.annotations["operational_data"] == nil)
        let annotated = try alert(Self.mail(subject: "x", body: "description: from the body\n"), EmailMapping(fields: .annotation))
        #expect(annotated.annotations["description"] == "from the body")
        #expect(BodyFields.normalize("  Trigger--Severity (%) ") == "trigger_severity")
        #expect(EmailMapping.normalizeKey("Exit code") == "exit_code")
    }

    // MARK: - Senders

    @Test func sendersAllowlist() throws {
        let mapping = EmailMapping(senders: ["zabbix@example.com", "@alerts.example.org"])
        #expect(throws: Never.self) { try alert(Self.mail(subject: "x", from: "Zabbix <ZABBIX@example.com>"), mapping) }
        #expect(throws: Never.self) { try alert(Self.mail(subject: "x", from: "grafana@alerts.example.org"), mapping) }
        #expect(throws: Never.self) {
            try alert(Self.mail(subject: "x", from: "zabbix@example.com", extra: "Return-Path: <bounce@alerts.example.org>\n"), mapping)
        }

        let stranger = failure(Self.mail(subject: "x", from: "Mallory <mallory@evil.example>"), mapping)
        #expect(stranger?.code == .senderRejected)
        #expect(stranger?.description == #"sender "mallory@evil.example" (From) is not on the allowlist of input ops-mail"#)
        // A subdomain is not the domain.
        #expect(failure(Self.mail(subject: "x", from: "a@sub.alerts.example.org"), mapping)?.code == .senderRejected)
        // A forged From with a foreign envelope sender.
        let forged = failure(Self.mail(subject: "x", from: "zabbix@example.com", extra: "Return-Path: <spammer@evil.example>\n"), mapping)
        #expect(forged?.description == #"sender "spammer@evil.example" (Return-Path) is not on the allowlist of input ops-mail"#)
        let bounce = failure(Self.mail(subject: "x", from: "zabbix@example.com", extra: "Return-Path: <>\n"), mapping)
        #expect(bounce?.description == "sender the null sender <> (Return-Path: a bounce) is not on the allowlist of input ops-mail")
        let anonymous = failure("Subject: x\n\n", mapping)
        #expect(anonymous?.description == "the message has no From address, and input ops-mail accepts only listed senders")
        // An empty list lets everyone in.
        #expect(throws: Never.self) { try alert(Self.mail(subject: "x", from: "anyone@anywhere.example"), .default) }

        #expect(EmailMapping.isValidSender("a@b.example"))
        #expect(EmailMapping.isValidSender("@b.example"))
        #expect(!EmailMapping.isValidSender("b.example"))
        #expect(!EmailMapping.isValidSender("a@"))
        #expect(!EmailMapping.isValidSender("a@b@c"))
        #expect(!EmailMapping.isValidSender("A <a@b.example>"))
    }

    // MARK: - Dedupe

    @Test func threadRootIsTheFingerprint() throws {
        let opener = try alert(Self.mail(subject: "Problem: x", extra: "Message-ID: <root@z>\n"))
        #expect(opener.fingerprint == "root@z")
        let reply = try alert(Self.mail(subject: "Resolved: x", extra: "Message-ID: <r2@z>\nIn-Reply-To: <r1@z>\nReferences: <root@z> <r1@z>\n"))
        #expect(reply.fingerprint == "root@z")
        #expect(reply.status == .resolved)
        let inReplyToOnly = try alert(Self.mail(subject: "Resolved: x", extra: "Message-ID: <r2@z>\nIn-Reply-To: <root@z>\n"))
        #expect(inReplyToOnly.fingerprint == "root@z")

        let byLabels = EmailMapping(dedupe: .labels)
        let labelled = try alert(Self.mail(subject: "Problem: x", extra: "Message-ID: <root@z>\n"), byLabels)
        #expect(labelled.fingerprint == Fingerprint.of(["alertname": "x"]))

        let byLabel = EmailMapping(subjectPatterns: [try EmailPattern(#"#(?<ticket>\d+)"#)], dedupeLabel: "ticket")
        #expect(try alert(Self.mail(subject: "Ticket #4711 opened", extra: "Message-ID: <m@z>\n"), byLabel).fingerprint == "4711")
        // The label is missing: back to the thread.
        #expect(try alert(Self.mail(subject: "No ticket", extra: "Message-ID: <m@z>\n"), byLabel).fingerprint == "m@z")
    }

    @Test func annotationsAndTimes() throws {
        let long = String(repeating: "0123456789\n", count: 500)
        let alert = try alert(Self.mail(subject: "[FIRING:4] x", extra: "Date: Tue, 3 Mar 2026 14:05:09 +0000\nMessage-ID: <m@z>\n", body: long))
        #expect(alert.startsAt?.timeIntervalSince1970 == 1_772_546_709)
        #expect(alert.annotations["firing_count"] == "4")
        let description = try #require(alert.annotations["description"])
        #expect(description.count <= EmailAdapter.descriptionLimit + 1)
        #expect(description.hasSuffix("0123456789…"))
        #expect(alert.annotations["message_id"] == "m@z")
        #expect(alert.source == AlertSource(kind: .email, input: "ops-mail"))
        #expect(EmailAdapter.truncated("short") == "short")
        let noBreaks = String(repeating: "x", count: 5000)
        #expect(EmailAdapter.truncated(noBreaks) == String(repeating: "x", count: 4000) + "…")
    }
}
