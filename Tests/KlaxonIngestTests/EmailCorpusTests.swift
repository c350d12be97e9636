import Foundation
import KlaxonCore
import Testing

@testable import KlaxonIngest

/// Every message of `Fixtures/email/` through the adapter, asserted field by field.
@Suite struct EmailCorpusTests {
    private func alert(_ name: String, _ mapping: EmailMapping = .default, input: String = "ops-mail") throws -> Alert {
        let alerts = try EmailAdapter.alerts(from: try Fixtures.email(name), mapping: mapping, input: input)
        try #require(alerts.count == 1)
        return alerts[0]
    }

    private func failure(
        _ bytes: [UInt8],
        _ mapping: EmailMapping = .default,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> IngestError? {
        do {
            let alerts = try EmailAdapter.alerts(from: bytes, mapping: mapping, input: "ops-mail")
            Issue.record("accepted as \(alerts)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    private static func pattern(_ text: String) -> EmailPattern {
        do {
            return try EmailPattern(text)
        } catch {
            fatalError("\(error)")
        }
    }

    /// The mapping an SRE would write for Alertmanager's mail: alertname from the subject, the
    /// labels from the body's `name = value` lines, dedupe by labels (Alertmanager does not thread).
    private static let alertmanagerMapping = EmailMapping(
        subjectPatterns: [pattern(#"^\[[A-Z]+(?::\d+)?\] (?<alertname>\S+)"#)],
        labelKeys: ["instance", "job", "severity", "mountpoint"],
        annotationKeys: ["summary"],
        senders: ["alertmanager@example.com"],
        requireMatch: true,
        dedupe: .labels
    )

    private static let zabbixMapping = EmailMapping(
        labelKeys: ["Host"],
        annotationKeys: ["Operational data", "Problem duration"],
        severityMap: ["High": "critical", "Disaster": "critical", "Average": "warning"],
        senders: ["@example.com"],
        dedupe: .thread
    )

    // MARK: - Alertmanager 0.25

    @Test func alertmanagerFiringWithTextAndHTMLParts() throws {
        let alert = try alert("alertmanager-0.25-firing.eml", Self.alertmanagerMapping)
        #expect(alert.status == .firing)
        #expect(
            alert.labels == ["alertname": "DiskFull", "instance": "db-1:9100", "job": "node-exporter", "severity": "critical", "mountpoint": "/var"]
        )
        #expect(alert.severity == "critical")
        #expect(alert.fingerprint == Fingerprint.of(alert.labels))
        #expect(alert.source == AlertSource(kind: .email, input: "ops-mail"))
        #expect(alert.startsAt?.timeIntervalSince1970 == 1_772_546_709)
        #expect(alert.endsAt == nil)
        #expect(alert.annotations["subject"] == "[FIRING:2] DiskFull (node-exporter /var critical)")
        #expect(alert.annotations["firing_count"] == "2")
        #expect(alert.annotations["summary"] == "Disk almost full on db-1")
        #expect(alert.annotations["from"] == "alertmanager@example.com")
        #expect(alert.annotations["message_id"] == "1772546709418227201.5577006791947779410@alertmanager-0")
        let description = try #require(alert.annotations["description"])
        // The text part, not the HTML one; quoted-printable decoded, soft breaks joined.
        #expect(description.hasPrefix("Labels:\n - alertname = DiskFull\n - device = /dev/sda1\n"))
        #expect(
            description.contains(
                "Source: http://prometheus.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes+%2F+node_filesystem_size_bytes+%3C+0.1&g0.tab=1\n"
            )
        )
        #expect(
            description.hasSuffix(
                " - summary = Disk almost full on db-2\nSource: http://prometheus.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes+%2F+node_filesystem_size_bytes+%3C+0.1&g0.tab=1"
            )
        )
        #expect(alert.annotations.count == 6)
        #expect(alert.generatorURL == nil)
        #expect(alert.groupKey == nil)
    }

    @Test func alertmanagerResolvedHTMLOnlyLandsOnTheSameFingerprint() throws {
        let firing = try alert("alertmanager-0.25-firing.eml", Self.alertmanagerMapping)
        let resolved = try alert("alertmanager-0.25-resolved-html.eml", Self.alertmanagerMapping)
        #expect(resolved.status == .resolved)
        #expect(resolved.labels == firing.labels)
        #expect(resolved.fingerprint == firing.fingerprint)
        #expect(resolved.severity == "critical")
        #expect(resolved.startsAt == nil)
        #expect(resolved.endsAt?.timeIntervalSince1970 == 1_772_548_509)
        #expect(resolved.annotations["firing_count"] == nil)
        #expect(resolved.annotations["summary"] == "Disk almost full on db-1")
        // Alertmanager 0.25's default HTML, made readable: no style, no title, a line per <br> and <tr>.
        #expect(
            resolved.annotations["description"] == """
                1 alert for alertname=DiskFull

                View in AlertManager
                [1] Resolved
                Labels
                alertname = DiskFull
                device = /dev/sda1
                instance = db-1:9100
                job = node-exporter
                mountpoint = /var
                severity = critical
                Annotations
                description = Filesystem /var on db-1:9100 is 93.1% full.
                summary = Disk almost full on db-1
                Source

                Sent by AlertManager
                """
        )
    }

    @Test func alertmanagerWithTheDefaultMappingStillPages() throws {
        let alert = try alert("alertmanager-0.25-firing.eml")
        #expect(alert.labels == ["alertname": "DiskFull (node-exporter /var critical)"])
        #expect(alert.status == .firing)
        // No threading: the default (thread) dedupe falls back to the message's own id.
        #expect(alert.fingerprint == "1772546709418227201.5577006791947779410@alertmanager-0")
        // No severity marker in the subject ("critical" at its end is lower-case prose), so
        // the body's first `severity = critical` line gives it.
        #expect(alert.severity == "critical")
        #expect(alert.annotations["description"]?.hasPrefix("Labels:\n") == true)
    }

    // MARK: - Grafana

    @Test func grafanaFiring() throws {
        let mapping = EmailMapping(
            subjectPatterns: [Self.pattern(#"^\[FIRING:\d+\] (?<alertname>\S+) (?<grafana_folder>\S+)"#)],
            labelKeys: ["instance", "team"],
            annotationKeys: ["summary", "dashboard"],
            dedupe: .labels
        )
        let alert = try alert("grafana-firing.eml", mapping)
        #expect(alert.status == .firing)
        #expect(alert.labels == ["alertname": "HighCPU", "grafana_folder": "Production", "instance": "web-1", "team": "web"])
        #expect(alert.severity == nil)
        #expect(alert.fingerprint == Fingerprint.of(alert.labels))
        #expect(alert.startsAt?.timeIntervalSince1970 == 1_772_547_164)
        #expect(alert.annotations["summary"] == "CPU above 95% on web-1 for 5 minutes")
        #expect(alert.annotations["dashboard"] == "https://grafana.example.com/d/node01?orgId=1")
        #expect(alert.annotations["firing_count"] == "1")
        #expect(alert.annotations["from"] == "\"Grafana\" <grafana@example.com>")
        #expect(alert.annotations["description"]?.hasPrefix("**Firing**\n\nValue: B=97.31\nLabels:\n") == true)
    }

    // MARK: - Zabbix, threaded

    @Test func zabbixProblemAndRecoveryShareTheThread() throws {
        let problem = try alert("zabbix-problem.eml", Self.zabbixMapping)
        #expect(problem.status == .firing)
        #expect(problem.labels == ["alertname": "High CPU utilization (over 90% for 5m)", "host": "web-07"])
        #expect(problem.severity == "critical")
        #expect(problem.fingerprint == "20260303140212.81327.4f2e@zabbix.example.com")
        #expect(problem.startsAt?.timeIntervalSince1970 == 1_772_517_732)
        #expect(problem.annotations["operational_data"] == "Current utilization: 97.2 %")
        #expect(problem.annotations["subject"] == "Problem: High CPU utilization (over 90% for 5m)")
        #expect(problem.annotations["from"] == "<zabbix@example.com>")
        #expect(
            problem.annotations["description"] == """
                Problem started at 14:02:11 on 2026.03.03
                Problem name: High CPU utilization (over 90% for 5m)
                Host: web-07
                Severity: High
                Operational data: Current utilization: 97.2 %
                Original problem ID: 81327
                https://zabbix.example.com/tr_events.php?triggerid=23411&eventid=81327
                """
        )

        let recovery = try alert("zabbix-recovery.eml", Self.zabbixMapping)
        #expect(recovery.status == .resolved)
        #expect(recovery.labels == problem.labels)
        #expect(recovery.fingerprint == problem.fingerprint)
        #expect(recovery.severity == "critical")
        #expect(recovery.endsAt?.timeIntervalSince1970 == 1_772_518_781)
        #expect(recovery.startsAt == nil)
        #expect(recovery.annotations["problem_duration"] == "17m 29s")
        #expect(recovery.annotations["message_id"] == "20260303141941.81331.9a0c@zabbix.example.com")
    }

    @Test func zabbixDedupeByAMappedLabel() throws {
        var mapping = Self.zabbixMapping
        mapping.bodyPatterns = [Self.pattern(#"Original problem ID: (?<event_id>\d+)"#)]
        mapping.dedupeLabel = "event_id"
        let problem = try alert("zabbix-problem.eml", mapping)
        let recovery = try alert("zabbix-recovery.eml", mapping)
        #expect(problem.fingerprint == "81327")
        #expect(recovery.fingerprint == "81327")
        #expect(problem.labels["event_id"] == "81327")
    }

    // MARK: - Chinese charsets

    @Test func gbkSubjectAndGB2312QuotedPrintableBody() throws {
        let mapping = EmailMapping(labelKeys: ["host", "service"], fields: .annotation, severityMap: ["严重": "critical"])
        let alert = try alert("gbk-subject-gb2312-body.eml", mapping)
        #expect(alert.labels == ["alertname": "数据库主库 db-master-01 CPU 使用率过高", "host": "db-master-01", "service": "mysql"])
        #expect(alert.severity == "critical")
        #expect(alert.annotations["subject"] == "[严重] 数据库主库 db-master-01 CPU 使用率过高")
        #expect(alert.annotations["from"] == "监控中心 <monitor@example.cn>")
        #expect(alert.annotations["description"] == "告警主机: db-master-01\n告警级别: 严重\nhost: db-master-01\nservice: mysql\n当前值: CPU 使用率 98%\n请尽快处理。")
        #expect(alert.fingerprint == "5f1e.20260304031500@monitor.example.cn")
        // 03:15 in +08:00 is 19:15 UTC the day before.
        #expect(alert.startsAt?.timeIntervalSince1970 == 1_772_565_300)
    }

    /// An 8-bit GBK subject in a multipart mail, which declares no charset of its own: it is
    /// read in its text part's charset, not as Latin-1, so a route on it still matches.
    @Test func anEightBitSubjectOfAMultipartTakesItsTextPartsCharset() throws {
        func mail(_ partCharset: String) -> [UInt8] {
            Array("From: monitor@example.cn\r\nSubject: ".utf8) + [0xB4, 0xC5, 0xC5, 0xCC, 0xC2, 0xFA] + Array(" db-1\r\n".utf8)
                + Array("MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n".utf8)
                + Array("Content-Type: text/plain; charset=\(partCharset)\r\n\r\n".utf8) + [0xB4, 0xC5, 0xC5, 0xCC] + Array("\r\n--b--\r\n".utf8)
        }
        let message = try RFC5322Parser.parse(mail("GBK"))
        #expect(message.subject == "磁盘满 db-1")
        #expect(message.text == "磁盘")
        // A UTF-8 text part does not make the GBK bytes readable: Latin-1, as before.
        #expect(try RFC5322Parser.parse(mail("utf-8")).subject == "´ÅÅÌÂú db-1")
    }

    @Test func big5() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("big5.eml"))
        #expect(message.subject == "警報：伺服器 web-3 磁碟空間不足")
        #expect(message.from == "監控 <noc@example.tw>")
        #expect(message.fromAddress == "noc@example.tw")
        #expect(message.text == "主機: web-3\n狀態: 磁碟使用率 95%")
        #expect(message.date?.timeIntervalSince1970 == 1_772_589_600)
        let alert = try EmailAdapter.alert(from: message, mapping: EmailMapping(fields: .label))
        // Chinese keys have no ASCII to make a label name of: left out.
        #expect(alert.labels == ["alertname": "警報：伺服器 web-3 磁碟空間不足"])
    }

    // MARK: - Structure

    @Test func attachmentsAreSkipped() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("attachment.eml"))
        #expect(message.text == "host: db-2\njob: pg-basebackup\nexit code: 3\n\nThe report and the log are attached.")
        #expect(message.skippedAttachments == ["report.pdf", "backup-résumé.log"])
        #expect(message.notes.isEmpty)

        let alert = try EmailAdapter.alert(from: message, mapping: EmailMapping(labelKeys: ["host", "job", "exit code"]), input: "backups")
        #expect(
            alert.labels == ["alertname": "Nightly backup of db-2 finished with errors", "host": "db-2", "job": "pg-basebackup", "exit_code": "3"]
        )
        #expect(alert.severity == "warning")
        #expect(alert.fingerprint == "backup-20260304@ci.example.com")
        #expect(alert.source == AlertSource(kind: .email, input: "backups"))
    }

    @Test func quotedPrintableSoftLineBreaks() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("qp-soft-breaks.eml"))
        #expect(message.subject == "Cron job “billing-export” failed")
        #expect(
            message.text == """
                job: billing-export
                command: /usr/local/bin/export --from=2026-03-04 --to=2026-03-05 --format=csv --verbose
                error: the upstream API answered 503 Service Unavailable after three retries; giving up.
                café résumé €100
                trailing soft break with spacesjoined
                a lone = sign stays, =ZZ stays too
                """
        )
        let alert = try EmailAdapter.alert(from: message, mapping: EmailMapping(fields: .label))
        #expect(alert.labels["command"] == "/usr/local/bin/export --from=2026-03-04 --to=2026-03-05 --format=csv --verbose")
        #expect(alert.labels["job"] == "billing-export")
        #expect(alert.severity == nil)
    }

    @Test func nestedMultipartWithOddBoundaries() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("nested-multipart.eml"))
        #expect(message.text == "service: checkout\nThe checkout service is down.")
        #expect(!message.textIsFromHTML)
        #expect(message.skippedAttachments == ["image/png", "graph.png"])
        #expect(message.notes.isEmpty)
        #expect(message.from == "\"Ops, Monitoring\" <monitor@example.com>")
        #expect(message.fromAddress == "monitor@example.com")
    }

    @Test func missingFinalBoundaryIsTolerated() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("missing-final-boundary.eml"))
        #expect(message.text == "first part\n\nsecond part, truncated")
        #expect(message.notes == ["the message body: no closing boundary, the last part runs to the end"])
    }

    // MARK: - Malformed

    @Test func binaryGarbageIsMalformed() throws {
        let error = try #require(failure(try Fixtures.email("garbage.bin")))
        #expect(error.code == .malformedMessage)
        #expect(error.line == 1)
        #expect(error.description.hasPrefix("malformed message at line 1: not a header field"))
    }

    @Test func noBlankLineAfterTheHeaderIsMalformed() throws {
        let error = try #require(failure(try Fixtures.email("no-blank-line.eml")))
        #expect(error.code == .malformedMessage)
        #expect(error.line == 3)
        #expect(
            error.description
                == "malformed message at line 3: not a header field (Name: value) and no blank line before it; this is not an RFC 5322 message"
        )
    }

    @Test func fiftyMegabytesIsRejectedBySize() throws {
        var bytes = Array("Subject: huge\r\n\r\n".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "A"), count: 50 * 1024 * 1024)
        let error = try #require(failure(bytes))
        #expect(error.code == .messageTooLarge)
        #expect(error.description == "the message is 52428817 bytes, more than the limit of 1048576 bytes")
        // Checked before parsing: 50 MB of binary garbage gets the same answer.
        let garbage = [UInt8](repeating: 0, count: 50 * 1024 * 1024)
        #expect(failure(garbage)?.code == .messageTooLarge)
    }

    @Test func base64WithJunkDecodesWhatIsThere() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("base64-junk.eml"))
        // The junk is skipped; the truncated end loses its last incomplete group.
        #expect(message.text == "host: db-3\nBackup failed: checksum mismatch in segment 000000010000002A000000C")
        #expect(message.notes == ["the message body: skipped 11 characters that are not base64"])
        let alert = try EmailAdapter.alert(from: message, mapping: .default)
        #expect(alert.labels == ["alertname": "Backup failed on db-3"])
    }

    @Test func unknownCharsetFallsBackToUTF8() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("unknown-charset.eml"))
        #expect(message.text == "host: db-4\nstatus: disk full — ok?\nbad byte: \u{FFFD}")
        #expect(message.notes == ["the message body: unknown charset \"x-klingon\", read as UTF-8"])
        // An encoded-word in an unknown charset stays as written.
        #expect(message.subject == "=?x-klingon?Q?Qapla=27?= disk full")
    }

    @Test func boundaryThatNeverAppearsIsReadAsText() throws {
        let message = try RFC5322Parser.parse(try Fixtures.email("missing-boundary.eml"))
        #expect(message.text == "host: db-5\nThe MIME structure of this mail was lost on the way.")
        #expect(message.notes == ["the message body: the boundary \"never-here\" never appears, read as text/plain"])
        let alert = try EmailAdapter.alert(from: message, mapping: EmailMapping(labelKeys: ["host"]))
        #expect(alert.labels == ["alertname": "Boundary that never appears", "host": "db-5"])
        // No Message-ID at all: the labels' fingerprint.
        #expect(alert.fingerprint == Fingerprint.of(alert.labels))
    }

    @Test func deeplyNestedMultipartsAreMalformed() throws {
        var text = "From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
        for level in 1...40 {
            text += "--b\(level - 1)\r\nContent-Type: multipart/mixed; boundary=b\(level)\r\n\r\n"
        }
        text += "--b40\r\nContent-Type: text/plain\r\n\r\ndeep down\r\n"
        let error = try #require(failure(Array(text.utf8)))
        #expect(error.code == .malformedMessage)
        #expect(error.message.hasPrefix("multipart nesting deeper than 16 levels at part 1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1"))

        // Within the limit it parses.
        var shallow = "From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
        for level in 1...10 {
            shallow += "--b\(level - 1)\r\nContent-Type: multipart/mixed; boundary=b\(level)\r\n\r\n"
        }
        shallow += "--b10\r\nContent-Type: text/plain\r\n\r\ndeep down\r\n"
        #expect(try RFC5322Parser.parse(Array(shallow.utf8)).text == "deep down")
    }
}
