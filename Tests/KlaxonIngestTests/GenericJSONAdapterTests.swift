import Foundation
import KlaxonCore
import Testing

@testable import KlaxonIngest

@Suite struct GenericJSONAdapterTests {
    private func alerts(_ text: String, _ mapping: FieldMapping? = nil) throws(IngestError) -> [Alert] {
        try GenericJSONAdapter.alerts(from: Array(text.utf8), mapping: mapping)
    }

    /// The error for a payload, failing the test when it is accepted.
    private func failure(_ text: String, _ mapping: FieldMapping? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        do {
            let alerts = try alerts(text, mapping)
            Issue.record("accepted as \(alerts)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    private static func path(_ text: String) -> FieldPath {
        do {
            return try FieldPath.parse(text)
        } catch {
            fatalError("\(error)")
        }
    }

    // MARK: - The canonical shape

    @Test func canonicalExample() throws {
        let alerts = try GenericJSONAdapter.alerts(from: try Fixtures.example("generic-firing.json"), mapping: nil, input: "backups")
        #expect(alerts.count == 2)

        let failed = alerts[0]
        #expect(failed.status == .firing)
        #expect(failed.labels == ["alertname": "BackupFailed", "job": "pg-basebackup", "host": "db-2", "team": "dba"])
        #expect(failed.annotations["summary"] == "Nightly base backup of db-2 failed")
        #expect(failed.annotations.count == 3)
        #expect(failed.severity == "critical")
        #expect(failed.startsAt?.timeIntervalSince1970 == 1_795_313_712)
        #expect(failed.endsAt == nil)
        #expect(failed.generatorURL == "https://ci.example.com/jobs/pg-basebackup/2291")
        #expect(failed.fingerprint == Fingerprint.of(failed.labels))
        #expect(failed.source == AlertSource(kind: .json, input: "backups"))
        #expect(failed.groupKey == nil)
        #expect(failed.externalURL == nil)

        let slow = alerts[1]
        #expect(slow.status == .firing)
        #expect(slow.labels["duration_seconds"] == "5400")
        #expect(slow.severity == "warning")
        #expect(slow.fingerprint == "backup-slow-db-3")
        #expect(slow.startsAt?.timeIntervalSince1970 == 1_795_314_600.25)
        #expect(slow.generatorURL == nil)
    }

    @Test func canonicalShapes() throws {
        let single = try alerts(#"{"labels":{"alertname":"X"}}"#)
        #expect(single.count == 1)
        #expect(single[0].status == .firing)
        #expect(single[0].source == AlertSource(kind: .json, input: "default"))
        #expect(single[0].fingerprint == Fingerprint.of(["alertname": "X"]))
        #expect(single[0].severity == nil)

        let list = try alerts(#"[{"labels":{"a":"1"}},{"labels":{"a":"2"},"status":"RESOLVED","endsAt":"2026-11-22T18:56:50Z"}]"#)
        #expect(list.map { $0.labels["a"] } == ["1", "2"])
        #expect(list.map(\.status) == [.firing, .resolved])
        #expect(list[1].endsAt?.timeIntervalSince1970 == 1_795_373_810)

        let wrapped = try alerts(#"{"alerts":[{"labels":{"a":"1"},"status":"resolved"}],"other":"ignored"}"#)
        #expect(wrapped.map(\.status) == [.resolved])
        #expect(try alerts(#"{"alerts":[]}"#).isEmpty)
        #expect(try alerts("[]").isEmpty)
    }

    @Test func scalarsBecomeLabelText() throws {
        let alert = try alerts(#"{"labels":{"count":4,"ratio":12.5,"big":1e3,"ok":true,"off":false,"gone":null,"s":"x"}}"#)[0]
        #expect(alert.labels == ["count": "4", "ratio": "12.5", "big": "1e3", "ok": "true", "off": "false", "s": "x"])
    }

    @Test func timestamps() throws {
        let text = #"""
            [{"labels":{"a":"1"},"startsAt":1795373807,"endsAt":1795373810500},
             {"labels":{"a":"2"},"startsAt":"1795373807","endsAt":"0001-01-01T00:00:00Z"},
             {"labels":{"a":"3"},"startsAt":"2026-11-22T19:56:47.123456+01:00","endsAt":null}]
            """#
        let found = try alerts(text)
        #expect(found[0].startsAt?.timeIntervalSince1970 == 1_795_373_807)
        #expect(found[0].endsAt?.timeIntervalSince1970 == 1_795_373_810.5)
        #expect(found[1].startsAt?.timeIntervalSince1970 == 1_795_373_807)
        #expect(found[1].endsAt == nil)
        #expect(abs(try #require(found[2].startsAt).timeIntervalSince1970 - 1_795_373_807.123456) < 1e-6)
        #expect(found[2].endsAt == nil)
    }

    /// Unix times past year 9999 (or before year 1) are refused where they stand, not stored:
    /// 1e20 seconds does not fit the store's `Int64` milliseconds.
    @Test(arguments: [
        (#"{"labels":{"a":"1"},"startsAt":1e20}"#, "$.startsAt", "number 1e20"),
        (#"{"labels":{"a":"1"},"startsAt":"9300000000000000000"}"#, "$.startsAt", #""9300000000000000000""#),
        (#"{"labels":{"a":"1"},"endsAt":-1e20}"#, "$.endsAt", "number -1e20"),
        (#"{"labels":{"a":"1"},"startsAt":253402300800000}"#, "$.startsAt", "number 253402300800000"),
        (#"{"labels":{"a":"1"},"startsAt":"\#(String(repeating: "9", count: 400))"}"#, "$.startsAt", "\""),
    ])
    func unixTimesOutsideYears1To9999AreBadValues(text: String, path: String, got: String) {
        let error = failure(text)
        #expect(error?.code == .badValue)
        #expect(error?.fieldPath == path)
        #expect(error?.description.hasPrefix("\(path): expected Unix seconds or milliseconds within the years 0001 to 9999, got \(got)") == true)
    }

    @Test func unixTimesAtTheEdgesOfYears1To9999AreKept() throws {
        let found = try alerts(
            #"[{"labels":{"a":"1"},"startsAt":253402300799999},{"labels":{"a":"2"},"startsAt":-62135596799999}]"#
        )
        #expect(RFC3339.format(try #require(found[0].startsAt)) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.format(try #require(found[1].startsAt)) == "0001-01-01T00:00:00.001Z")
    }

    /// Go's zero time as a number and the number 0 mean "not set", as Go's zero time does
    /// as text: such an `endsAt` leaves the alert firing instead of resolving it in 1970.
    @Test func numericZeroTimesAreNotSet() throws {
        for endsAt in ["0", "-62135596800", "-62135596800000", #""0""#] {
            let found = try alerts(#"{"labels":{"alertname":"DiskFull"},"endsAt":\#(endsAt),"startsAt":0}"#)
            #expect(found[0].status == .firing && found[0].endsAt == nil && found[0].startsAt == nil, "\(endsAt)")
        }
    }

    @Test func canonicalErrorsNameTheirPath() {
        let cases: [(String, IngestError.Code, String)] = [
            (#""x""#, .wrongShape, #"$: expected an alert object, an array of alerts or {"alerts": [...]}, got "x""#),
            ("[1]", .wrongShape, "$[0]: expected an alert object, got number 1"),
            (#"{"alerts":"x"}"#, .wrongShape, #"$.alerts: expected an array of alert objects, got "x""#),
            (#"{"status":"firing"}"#, .missingField, "$: the alert has no labels, so no route could ever match it"),
            (
                #"{"alerts":[{"labels":{"a":"1"}},{"labels":{}}]}"#, .missingField,
                "$.alerts[1]: the alert has no labels, so no route could ever match it"
            ),
            (
                #"{"alerts":[{"labels":{"a":"1"}},{"labels":{"host":{"name":"x"}}}]}"#, .wrongShape,
                "$.alerts[1].labels.host: expected a string, number or boolean, got object"
            ),
            (#"{"labels":"a=1"}"#, .wrongShape, #"$.labels: expected an object of name/value pairs, got "a=1""#),
            (#"[{"labels":{"a":"1"},"status":"fire"}]"#, .badValue, #"$[0].status: expected "firing" or "resolved", got "fire""#),
            (
                #"[{"labels":{"a":"1"},"startsAt":"yesterday"}]"#, .badValue,
                #"$[0].startsAt: expected an RFC 3339 timestamp or Unix seconds, got "yesterday""#
            ),
            (#"[{"labels":{"a":"1"},"endsAt":[]}]"#, .wrongShape, "$[0].endsAt: expected an RFC 3339 timestamp or Unix seconds, got array"),
            (#"[{"labels":{"a":"1"},"severity":{}}]"#, .wrongShape, "$[0].severity: expected a string, number or boolean, got object"),
            (#"[{"labels":{"a":"1"}"#, .malformedJSON, "malformed JSON at byte 20 (line 1, column 21): unterminated object, expected ',' or '}'"),
        ]
        for (text, code, description) in cases {
            let error = failure(text)
            #expect(error?.code == code, "\(text)")
            #expect(error?.description == description, "\(text)")
        }
    }

    // MARK: - Field mappings

    /// A `$` path is looked up once a payload, not once an alert: over a large object with
    /// many alerts (Grafana's `$.orgId`), reading it again for each took seconds.
    @Test func aRootedPathIsReadOncePerPayload() throws {
        let mapping = FieldMapping(labelFields: ["alertname": Self.path("name"), "org": Self.path("$.orgId"), "gone": Self.path("$.none")])
        let members = (0..<40_000).map { #""x\#($0)":0,"# }.joined()
        let alerts = Array(repeating: #"{"name":"a"}"#, count: 4_000).joined(separator: ",")
        let found = try self.alerts(#"{"orgId":1,"# + members + #""alerts":["# + alerts + "]}", mapping)
        #expect(found.count == 4_000)
        #expect(found.allSatisfy { $0.labels == ["alertname": "a", "org": "1"] })
    }

    @Test func mappingReadsNestedAlertsAndNamesPayloadPaths() throws {
        let mapping = FieldMapping(
            alerts: Self.path("data.events"),
            status: Self.path("state"),
            severity: Self.path("level"),
            fingerprint: Self.path("/id"),
            startsAt: Self.path("ts"),
            labelFields: ["alertname": Self.path("check"), "host": Self.path("host"), "team": Self.path("$.meta.team")],
            annotationFields: ["summary": Self.path("text")],
            staticLabels: ["source": "custom", "team": "ignored"],
            staticAnnotations: ["runbook_url": "https://runbooks.example.com/custom"],
            statusMap: ["Problem": .firing, "OK": .resolved],
            severityMap: ["P1": "critical"]
        )
        let text = #"""
            {"meta":{"team":"dba"},"data":{"events":[
              {"id":17,"check":"disk","host":"db-1","state":"PROBLEM","level":"p1","ts":1795373807,"text":"disk full"},
              {"id":"18","check":"load","host":"db-2","state":"ok","level":"P3"}
            ]}}
            """#
        let found = try alerts(text, mapping)
        #expect(found.count == 2)
        #expect(found[0].labels == ["alertname": "disk", "host": "db-1", "team": "dba", "source": "custom"])
        #expect(found[0].annotations == ["summary": "disk full", "runbook_url": "https://runbooks.example.com/custom"])
        #expect(found[0].status == .firing)
        #expect(found[0].severity == "critical")
        #expect(found[0].fingerprint == "17")
        #expect(found[0].startsAt?.timeIntervalSince1970 == 1_795_373_807)
        #expect(found[1].status == .resolved)
        #expect(found[1].severity == "P3")
        #expect(found[1].fingerprint == "18")
        #expect(found[1].startsAt == nil)
        #expect(found[1].annotations == ["runbook_url": "https://runbooks.example.com/custom"])

        let bad = failure(
            #"{"data":{"events":[{"host":"db-1","check":"disk"},{"host":{"name":"db-2"},"check":"disk"}]}}"#,
            mapping
        )
        #expect(bad?.code == .wrongShape)
        #expect(bad?.fieldPath == "$.data.events[1].host")
        #expect(bad?.description == "$.data.events[1].host: expected a string, number or boolean, got object")

        let unknown = failure(#"{"data":{"events":[{"host":"db-1","state":"MAYBE"}]}}"#, mapping)
        #expect(unknown?.description == #"$.data.events[0].state: expected "firing", "resolved" or one of "OK", "Problem", got "MAYBE""#)

        let missing = failure(#"{"data":{}}"#, mapping)
        #expect(missing?.code == .missingField)
        #expect(missing?.description == "$.data.events: no alerts here: the mapping's alerts path matches nothing")

        let notAList = failure(#"{"data":{"events":"none"}}"#, mapping)
        #expect(notAList?.description == #"$.data.events: expected an array of alert objects or one alert object, got "none""#)
    }

    @Test func mappingPrecedence() throws {
        let mapping = FieldMapping(
            labels: Self.path("tags"),
            labelFields: ["host": Self.path("hostname"), "gone": Self.path("nothing")],
            staticLabels: ["team": "ops", "env": "prod"],
            defaultStatus: .resolved
        )
        let alert = try alerts(#"{"tags":{"host":"from-tags","team":"payments"},"hostname":"db-1","status":"firing"}"#, mapping)[0]
        // labelFields override the labels object; constants only fill gaps.
        #expect(alert.labels == ["host": "db-1", "team": "payments", "env": "prod"])
        // status is not mapped, so the canonical member is not read.
        #expect(alert.status == .resolved)

        let nothing = FieldMapping(alerts: Self.path("items"), labelFields: ["a": Self.path("missing")])
        #expect(failure(#"{"items":[{"x":1}]}"#, nothing)?.description == "$.items[0]: the alert has no labels, so no route could ever match it")

        // An alerts path may point at one object.
        let one = FieldMapping(alerts: Self.path("/payload/alert"), labels: Self.path("labels"))
        #expect(try alerts(#"{"payload":{"alert":{"labels":{"a":"1"}}}}"#, one).map(\.labels) == [["a": "1"]])
    }

    // MARK: - Grafana unified alerting through a mapping

    /// A mapping for Grafana's webhook contact point, for inputs of type json.
    static let grafana = FieldMapping(
        alerts: path("alerts"),
        status: path("status"),
        labels: path("labels"),
        annotations: path("annotations"),
        fingerprint: path("fingerprint"),
        startsAt: path("startsAt"),
        endsAt: path("endsAt"),
        generatorURL: path("generatorURL"),
        labelFields: ["grafana_org": path("$.orgId")],
        annotationFields: [
            "dashboard_url": path("dashboardURL"),
            "panel_url": path("panelURL"),
            "silence_url": path("silenceURL"),
            "values": path("valueString"),
        ],
        staticLabels: ["source": "grafana"]
    )

    @Test func grafanaMapping() throws {
        let found = try GenericJSONAdapter.alerts(from: try Fixtures.example("grafana-firing.json"), mapping: Self.grafana, input: "grafana")
        #expect(found.count == 2)

        let firing = found[0]
        #expect(firing.status == .firing)
        #expect(
            firing.labels == [
                "alertname": "PostgresReplicationLag", "grafana_folder": "Databases", "instance": "db-1.example.com:9187",
                "severity": "critical", "team": "dba", "grafana_org": "1", "source": "grafana",
            ]
        )
        #expect(firing.annotations["summary"] == "Replication lag on db-1 above 60 s")
        #expect(firing.annotations["dashboard_url"] == "https://grafana.example.com/d/pg-overview?orgId=1")
        #expect(firing.annotations["panel_url"] == "https://grafana.example.com/d/pg-overview?orgId=1&viewPanel=4")
        #expect(firing.annotations["silence_url"]?.hasPrefix("https://grafana.example.com/alerting/silence/new?") == true)
        #expect(firing.annotations["values"]?.hasPrefix("[ var='A'") == true)
        #expect(firing.annotations.count == 7)
        #expect(firing.fingerprint == "3c8e2b7f0d1a9e54")
        #expect(firing.startsAt?.timeIntervalSince1970 == 1_795_373_530)
        #expect(firing.endsAt == nil)
        #expect(firing.severity == nil)
        #expect(firing.generatorURL == "https://grafana.example.com/alerting/grafana/ddz4j7xo3v5s0c/view?orgId=1")
        #expect(firing.source == AlertSource(kind: .json, input: "grafana"))

        let resolved = found[1]
        #expect(resolved.status == .resolved)
        #expect(resolved.fingerprint == "a41f06c2b95d7e38")
        #expect(resolved.endsAt?.timeIntervalSince1970 == 1_795_373_530)
        #expect(resolved.annotations["values"] == "")
    }

    // MARK: - Zabbix webhook media type through a mapping

    /// A mapping for a Zabbix webhook media type that posts its parameters as a flat JSON
    /// object (every value a string, as Zabbix macros expand to text).
    static let zabbix = FieldMapping(
        status: path("event_status"),
        severity: path("event_severity"),
        fingerprint: path("event_id"),
        labelFields: [
            "alertname": path("event_name"),
            "host": path("host_name"),
            "host_ip": path("host_ip"),
            "trigger_id": path("trigger_id"),
        ],
        annotationFields: [
            "summary": path("event_name"),
            "description": path("trigger_description"),
            "opdata": path("event_opdata"),
            "tags": path("event_tags"),
            "zabbix_url": path("zabbix_url"),
        ],
        staticLabels: ["source": "zabbix"],
        statusMap: ["PROBLEM": .firing, "RESOLVED": .resolved, "OK": .resolved, "1": .firing, "0": .resolved],
        severityMap: [
            "Disaster": "critical", "High": "critical", "Average": "warning", "Warning": "warning",
            "Information": "info", "Not classified": "info",
            "5": "critical", "4": "critical", "3": "warning", "2": "warning", "1": "info", "0": "info",
        ]
    )

    @Test func zabbixProblemAndRecovery() throws {
        let problem = try GenericJSONAdapter.alerts(from: try Fixtures.example("zabbix-problem.json"), mapping: Self.zabbix, input: "zabbix")
        #expect(problem.count == 1)
        let alert = problem[0]
        #expect(alert.status == .firing)
        #expect(alert.severity == "critical")
        #expect(alert.fingerprint == "8412395")
        #expect(
            alert.labels == [
                "alertname": "Free disk space is less than 5% on /var/lib/postgresql", "host": "db-1", "host_ip": "10.0.3.21",
                "trigger_id": "23817", "source": "zabbix",
            ]
        )
        #expect(
            alert.annotations == [
                "summary": "Free disk space is less than 5% on /var/lib/postgresql",
                "description": "The volume holding the PostgreSQL data directory is almost full. Free space or grow the volume before writes fail.",
                "opdata": "Space utilization: 95.3 %",
                "tags": "scope:capacity, service:postgres",
                "zabbix_url": "https://zabbix.example.com",
            ]
        )
        #expect(alert.startsAt == nil)
        #expect(alert.endsAt == nil)
        #expect(alert.source == AlertSource(kind: .json, input: "zabbix"))

        let recovery = try GenericJSONAdapter.alerts(from: try Fixtures.example("zabbix-resolved.json"), mapping: Self.zabbix, input: "zabbix")
        #expect(recovery.count == 1)
        #expect(recovery[0].status == .resolved)
        // The recovery message carries the problem's {EVENT.ID}: same identity, same incident.
        #expect(recovery[0].fingerprint == alert.fingerprint)
        #expect(recovery[0].labels == alert.labels)
        #expect(recovery[0].annotations["opdata"] == "Space utilization: 88.1 %")
    }

    @Test func zabbixNumericValues() throws {
        var mapping = Self.zabbix
        mapping.status = Self.path("event_value")
        mapping.severity = Self.path("event_nseverity")
        let problem = try GenericJSONAdapter.alerts(from: try Fixtures.example("zabbix-problem.json"), mapping: mapping)
        #expect(problem[0].status == .firing)
        #expect(problem[0].severity == "critical")
        let recovery = try GenericJSONAdapter.alerts(from: try Fixtures.example("zabbix-resolved.json"), mapping: mapping)
        #expect(recovery[0].status == .resolved)
        // JSON numbers map through their text just like strings do.
        let numeric = try alerts(#"{"event_id":1,"host_name":"h","event_value":1,"event_nseverity":5}"#, mapping)
        #expect(numeric[0].status == .firing)
        #expect(numeric[0].severity == "critical")
        #expect(numeric[0].fingerprint == "1")
        // Unmapped severities pass through; case does not matter for mapped ones.
        let other = try alerts(#"{"event_id":"2","host_name":"h","event_status":"problem","event_severity":"DISASTER"}"#, Self.zabbix)
        #expect(other[0].status == .firing)
        #expect(other[0].severity == "critical")
        let custom = try alerts(#"{"event_id":"3","host_name":"h","event_severity":"Custom"}"#, Self.zabbix)
        #expect(custom[0].severity == "Custom")
        #expect(custom[0].status == .firing)
    }
}

extension GenericJSONAdapterTests {
    /// Without a status, an alert whose end has passed is resolved, as Alertmanager's API reads
    /// it: clients of that API say "resolved" so, and read as firing the incident would ring on.
    @Test func anEndThatHasPassedResolvesAnAlertWithoutAStatus() throws {
        let now = try #require(ISO8601DateFormatter().date(from: "2026-12-07T12:00:00Z"))
        func status(_ members: String) throws -> AlertStatus? {
            try GenericJSONAdapter.alerts(from: Array(#"[{"labels":{"a":"1"}\#(members)}]"#.utf8), mapping: nil, now: now).first?.status
        }
        #expect(try status(#","endsAt":"2026-12-07T11:59:00Z""#) == .resolved)
        #expect(try status(#","endsAt":"2026-12-07T12:00:00Z""#) == .resolved)
        #expect(try status(#","endsAt":"2026-12-07T12:05:00Z""#) == .firing)
        #expect(try status(#","endsAt":"0001-01-01T00:00:00Z""#) == .firing)
        #expect(try status("") == .firing)
        // A status says what it says.
        #expect(try status(#","status":"firing","endsAt":"2026-12-07T11:59:00Z""#) == .firing)
        #expect(try status(#","status":null,"endsAt":"2026-12-07T11:59:00Z""#) == .resolved)
    }
}
