import Foundation
import KlaxonCore
import Testing

@testable import KlaxonIngest

@Suite struct AlertmanagerAdapterTests {
    private let groupKey = #"{}/{oncall="voice"}:{alertname="CheckoutHighErrorRate", service="checkout"}"#

    /// The error for a payload, failing the test when it decodes.
    private func failure(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> IngestError? {
        do {
            let payload = try AlertmanagerAdapter.decode(Array(text.utf8))
            Issue.record("decoded as \(payload)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test func firingGroup() throws {
        let payload = try AlertmanagerAdapter.decode(try Fixtures.payload("alertmanager-0.25-firing"))
        #expect(payload.version == "4")
        #expect(payload.isKnownVersion)
        #expect(!payload.isGrafana)
        #expect(payload.status == .firing)
        #expect(payload.receiver == "voice-bridge")
        #expect(payload.groupKey == groupKey)
        #expect(payload.truncatedAlerts == 0)
        #expect(payload.externalURL == "http://127.0.0.1:19093")
        #expect(payload.groupLabels == ["alertname": "CheckoutHighErrorRate", "service": "checkout"])
        #expect(payload.commonLabels.count == 7)
        #expect(payload.commonLabels["pod"] == nil)
        #expect(payload.commonAnnotations == ["runbook_url": "https://runbooks.example.com/checkout/high-error-rate"])
        #expect(payload.notificationReason == nil)
        #expect(payload.routeLabels == nil)

        let alerts = AlertmanagerAdapter.alerts(from: payload, input: "prometheus")
        #expect(alerts.count == 3)
        #expect(alerts.map(\.status) == [.firing, .firing, .firing])
        #expect(alerts.map(\.fingerprint) == ["929f5708236a1c55", "75e03d26d9859828", "6552fab58858027d"])
        #expect(alerts.map { $0.labels["instance"] } == ["10.0.1.17:8080", "10.0.1.18:8080", "10.0.2.41:8080"])
        for alert in alerts {
            #expect(alert.source == AlertSource(kind: .alertmanager, input: "prometheus"))
            #expect(alert.groupKey == groupKey)
            #expect(alert.externalURL == "http://127.0.0.1:19093")
            #expect(alert.severity == nil)
            #expect(alert.labels["severity"] == "critical")
            #expect(alert.labels.count == 9)
            #expect(alert.annotations.count == 3)
            #expect(abs(try #require(alert.startsAt).timeIntervalSince1970 - 1_795_373_807.789) < 1e-6)
            #expect(alert.endsAt == nil)
            // Alertmanager's fingerprint is the Prometheus label fingerprint KlaxonCore computes.
            #expect(Fingerprint.of(alert.labels) == alert.fingerprint)
        }
        let first = try #require(alerts.first)
        #expect(first.annotations["description"] == "5xx ratio on 10.0.1.17:8080 is 12.5% (> 5%) for the last 5 minutes.")
        #expect(first.annotations["summary"] == "High 5xx error rate on checkout (checkout-7d9f8b6c5-x2k4p)")
        #expect(first.generatorURL?.hasSuffix("%3E+0.05&g0.tab=1") == true)
        #expect(RFC3339.format(try #require(first.startsAt)) == "2026-11-22T18:56:47.789Z")
    }

    @Test func resolvedGroup() throws {
        let payload = try AlertmanagerAdapter.decode(try Fixtures.payload("alertmanager-0.25-resolved"))
        #expect(payload.status == .resolved)
        #expect(payload.groupKey == groupKey)
        let alerts = AlertmanagerAdapter.alerts(from: payload)
        #expect(alerts.count == 3)
        #expect(alerts.map(\.status) == [.resolved, .resolved, .resolved])
        #expect(alerts.map(\.fingerprint) == ["929f5708236a1c55", "75e03d26d9859828", "6552fab58858027d"])
        for alert in alerts {
            #expect(alert.source == AlertSource(kind: .alertmanager, input: "default"))
            #expect(abs(try #require(alert.startsAt).timeIntervalSince1970 - 1_795_373_807.789) < 1e-6)
            #expect(abs(try #require(alert.endsAt).timeIntervalSince1970 - 1_795_373_810.089) < 1e-6)
        }
    }

    @Test func oneAlertPayload() throws {
        let alerts = try AlertmanagerAdapter.alerts(from: try Fixtures.payload("alertmanager-0.25-1-alert"))
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1)
        #expect(alert.fingerprint == "904589cfbcee0a0a")
        #expect(alert.labels["alertname"] == "BenchPayload1")
        #expect(RFC3339.format(try #require(alert.startsAt)) == "2026-11-22T18:56:50.848Z")
        #expect(alert.endsAt == nil)
        #expect(alert.generatorURL == "http://prometheus.example.com:9090/graph?g0.expr=up&g0.tab=1")
        #expect(alert.groupKey == #"{}/{oncall="voice"}:{alertname="BenchPayload1", service="checkout"}"#)
    }

    @Test func hundredAlertPayload() throws {
        let payload = try AlertmanagerAdapter.decode(try Fixtures.payload("alertmanager-0.25-100-alerts"))
        let alerts = AlertmanagerAdapter.alerts(from: payload)
        #expect(alerts.count == 100)
        #expect(payload.truncatedAlerts == 0)
        #expect(Set(alerts.map(\.fingerprint)).count == 100)
        #expect(alerts.allSatisfy { $0.status == .firing && $0.endsAt == nil && $0.startsAt != nil })
        #expect(alerts.allSatisfy { Fingerprint.of($0.labels) == $0.fingerprint })
        #expect(alerts[1].labels["pod"] == "checkout-7d9f8b6c5-00010")
        #expect(alerts[0].fingerprint == "8954729fc7c6551a")
        #expect(alerts[99].fingerprint == "2a8809264a6184da")
    }

    @Test func unknownFieldsAreIgnored() throws {
        let text = #"""
            {"version":"4","receiver":"r","status":"firing","groupKey":"g","future":{"nested":[1,{"x":null}]},
             "alerts":[{"status":"firing","labels":{"alertname":"A"},"somethingNew":true,"startsAt":"2026-11-22T18:56:47Z"}]}
            """#
        let alerts = try AlertmanagerAdapter.alerts(from: Fixtures.bytes(text))
        #expect(alerts.count == 1)
        #expect(alerts[0].labels == ["alertname": "A"])
        #expect(alerts[0].annotations.isEmpty)
        #expect(alerts[0].generatorURL == nil)
        // No fingerprint sent: computed from the labels.
        #expect(alerts[0].fingerprint == Fingerprint.of(["alertname": "A"]))
    }

    @Test func newerAlertmanagerFields() throws {
        let text = #"""
            {"version":"4","receiver":"voice","status":"firing","groupKey":"{}:{alertname=\"A\"}","truncatedAlerts":2,
             "notification_reason":"repeat_interval",
             "routeLabels":{"oncall":"voice","team":"payments"},
             "groupLabels":null,"commonLabels":{"alertname":"A"},"commonAnnotations":null,
             "alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":null,"fingerprint":"","endsAt":null}]}
            """#
        let payload = try AlertmanagerAdapter.decode(Fixtures.bytes(text))
        #expect(payload.notificationReason == "repeat_interval")
        #expect(payload.routeLabels == ["oncall": "voice", "team": "payments"])
        #expect(payload.truncatedAlerts == 2)
        #expect(payload.groupLabels.isEmpty)
        #expect(payload.commonAnnotations.isEmpty)
        #expect(payload.alerts[0].fingerprint == nil)
        #expect(payload.alerts[0].endsAt == nil)
    }

    @Test func otherVersionsAreRefusedAtTheVersionField() throws {
        let text = #"{"version":"5","receiver":"r","alerts":[{"status":"resolved","labels":{"alertname":"A"}}]}"#
        #expect(throws: IngestError.self) { try AlertmanagerAdapter.decode(Fixtures.bytes(text)) }
        do {
            _ = try AlertmanagerAdapter.decode(Fixtures.bytes(text))
        } catch {
            #expect(error.code == .unsupportedFormat)
            #expect(error.fieldPath == "$.version")
            #expect(error.description.contains(#"unsupported webhook version "5""#))
        }
        let unversioned = try AlertmanagerAdapter.decode(Fixtures.bytes(#"{"alerts":[]}"#))
        #expect(unversioned.version == nil)
        #expect(unversioned.isKnownVersion)
        #expect(unversioned.alerts.isEmpty)
    }

    @Test func grafanaUnifiedAlerting() throws {
        let payload = try AlertmanagerAdapter.decode(try Fixtures.example("grafana-firing.json"))
        #expect(payload.version == "1")
        #expect(payload.isKnownVersion)
        #expect(payload.isGrafana)
        #expect(payload.orgID == 1)
        #expect(payload.title == "[FIRING:1, RESOLVED:1] PostgresReplicationLag Databases (critical dba)")
        #expect(payload.state == "alerting")
        #expect(payload.message?.hasPrefix("**Firing**\n\nValue: A=93.2, C=1\n") == true)
        #expect(payload.receiver == "klaxon-voice")
        #expect(payload.externalURL == "https://grafana.example.com/")
        #expect(payload.groupKey == #"{}/{team="dba"}:{alertname="PostgresReplicationLag", grafana_folder="Databases"}"#)
        #expect(payload.groupLabels == ["alertname": "PostgresReplicationLag", "grafana_folder": "Databases"])

        let firing = payload.alerts[0]
        #expect(firing.status == .firing)
        #expect(firing.fingerprint == "3c8e2b7f0d1a9e54")
        #expect(firing.labels["instance"] == "db-1.example.com:9187")
        #expect(firing.startsAt?.timeIntervalSince1970 == 1_795_373_530)
        #expect(firing.endsAt == nil)
        #expect(firing.values == ["A": 93.2, "C": 1])
        #expect(firing.valueString?.hasPrefix("[ var='A' labels={instance=db-1.example.com:9187} value=93.2 ]") == true)
        #expect(firing.dashboardURL == "https://grafana.example.com/d/pg-overview?orgId=1")
        #expect(firing.panelURL == "https://grafana.example.com/d/pg-overview?orgId=1&viewPanel=4")
        #expect(firing.silenceURL?.hasPrefix("https://grafana.example.com/alerting/silence/new?") == true)
        #expect(firing.imageURL == "")

        let resolved = payload.alerts[1]
        #expect(resolved.status == .resolved)
        #expect(resolved.values == nil)
        #expect(resolved.startsAt?.timeIntervalSince1970 == 1_795_372_870)
        #expect(resolved.endsAt?.timeIntervalSince1970 == 1_795_373_530)

        let alerts = AlertmanagerAdapter.alerts(from: payload, input: "grafana")
        #expect(alerts.map(\.status) == [.firing, .resolved])
        #expect(alerts.map(\.fingerprint) == ["3c8e2b7f0d1a9e54", "a41f06c2b95d7e38"])
        #expect(alerts.allSatisfy { $0.source == AlertSource(kind: .alertmanager, input: "grafana") })
        #expect(alerts.allSatisfy { $0.externalURL == "https://grafana.example.com/" && $0.groupKey == payload.groupKey })
        #expect(alerts[0].generatorURL == "https://grafana.example.com/alerting/grafana/ddz4j7xo3v5s0c/view?orgId=1")
    }

    @Test func statusMustBeFiringOrResolved() {
        let error = failure(
            #"{"version":"4","alerts":[{"status":"firing","labels":{"a":"1"}},{"status":"resolved","labels":{"a":"2"}},{"status":"fire","labels":{"a":"3"}}]}"#
        )
        #expect(error?.code == .badValue)
        #expect(error?.fieldPath == "$.alerts[2].status")
        #expect(error?.description == #"$.alerts[2].status: expected "firing" or "resolved", got "fire""#)

        let number = failure(#"{"alerts":[{"status":1,"labels":{"a":"1"}}]}"#)
        #expect(number?.code == .wrongShape)
        #expect(number?.description == #"$.alerts[0].status: expected "firing" or "resolved", got number 1"#)

        let missing = failure(#"{"alerts":[{"labels":{"a":"1"}}]}"#)
        #expect(missing?.code == .missingField)
        #expect(missing?.fieldPath == "$.alerts[0].status")

        let top = failure(#"{"status":"FIRING","alerts":[]}"#)
        #expect(top?.fieldPath == "$.status")
    }

    @Test func wrongShapesNameTheirPath() {
        let cases: [(String, IngestError.Code, String)] = [
            (#"[]"#, .wrongShape, "$: expected an Alertmanager notification object, got array"),
            (#"{"receiver":"r"}"#, .missingField, "$.alerts: missing the alerts array"),
            (#"{"alerts":{"status":"firing"}}"#, .wrongShape, "$.alerts: expected an array of alerts, got object"),
            (#"{"alerts":[{"status":"firing","labels":{"a":"1"}},"x"]}"#, .wrongShape, #"$.alerts[1]: expected an alert object, got "x""#),
            (
                #"{"alerts":[{"status":"firing","labels":["a"]}]}"#, .wrongShape,
                "$.alerts[0].labels: expected an object of name/value pairs, got array"
            ),
            (#"{"alerts":[{"status":"firing","labels":{"port":5432}}]}"#, .wrongShape, "$.alerts[0].labels.port: expected a string, got number 5432"),
            (#"{"alerts":[{"status":"firing","labels":{"a.b":true}}]}"#, .wrongShape, #"$.alerts[0].labels["a.b"]: expected a string, got true"#),
            (
                #"{"alerts":[{"status":"firing","labels":{}}]}"#, .missingField,
                "$.alerts[0].labels: the alert has no labels, so no route could ever match it"
            ),
            (#"{"alerts":[{"status":"firing"}]}"#, .missingField, "$.alerts[0].labels: the alert has no labels, so no route could ever match it"),
            (
                #"{"alerts":[{"status":"firing","labels":{"a":"1"},"annotations":{"x":{}}}]}"#, .wrongShape,
                "$.alerts[0].annotations.x: expected a string, got object"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"a":"1"},"startsAt":"yesterday"}]}"#, .badValue,
                #"$.alerts[0].startsAt: expected an RFC 3339 timestamp, got "yesterday""#
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"a":"1"},"endsAt":1795373807}]}"#, .wrongShape,
                "$.alerts[0].endsAt: expected an RFC 3339 timestamp string, got number 1795373807"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"a":"1"},"fingerprint":12}]}"#, .wrongShape,
                "$.alerts[0].fingerprint: expected a string, got number 12"
            ),
            (#"{"alerts":[],"groupKey":1}"#, .wrongShape, "$.groupKey: expected a string, got number 1"),
            (#"{"alerts":[],"commonLabels":"x"}"#, .wrongShape, #"$.commonLabels: expected an object of name/value pairs, got "x""#),
            (#"{"alerts":[],"truncatedAlerts":1.5}"#, .badValue, "$.truncatedAlerts: expected an integer, got number 1.5"),
            (#"{"alerts":[],"routeLabels":{"a":1}}"#, .wrongShape, "$.routeLabels.a: expected a string, got number 1"),
        ]
        for (text, code, description) in cases {
            let error = failure(text)
            #expect(error?.code == code, "\(text)")
            #expect(error?.description == description, "\(text)")
        }
    }

    @Test func duplicateLabelKeysLastWins() throws {
        let alerts = try AlertmanagerAdapter.alerts(
            from: Fixtures.bytes(#"{"alerts":[{"status":"firing","labels":{"a":"first","b":"x","a":"last","c":"1","c":null}}]}"#)
        )
        #expect(alerts[0].labels == ["a": "last", "b": "x"])
    }

    @Test func malformedJSONIsReportedAsSuch() {
        let error = failure(#"{"alerts":[{"status":"firing"}"#)
        #expect(error?.code == .malformedJSON)
        #expect(error?.offset == 30)
        #expect(error?.message == "unterminated array, expected ',' or ']'")
    }
}
