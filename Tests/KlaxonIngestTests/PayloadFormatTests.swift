import Testing

@testable import KlaxonIngest

@Suite struct PayloadFormatTests {
    @Test func alertmanagerAndGrafanaBodies() throws {
        for name in ["alertmanager-0.25-firing", "alertmanager-0.25-resolved", "alertmanager-0.25-1-alert", "alertmanager-0.25-100-alerts"] {
            #expect(PayloadFormat.detect(try Fixtures.payload(name)) == .alertmanager, "\(name)")
        }
        #expect(PayloadFormat.detect(try Fixtures.example("grafana-firing.json")) == .alertmanager)
        #expect(PayloadFormat.detect(Fixtures.bytes(#" {"receiver":"r","alerts":[],"groupKey":"g"}"#)) == .alertmanager)
    }

    @Test func otherJSON() throws {
        #expect(PayloadFormat.detect(try Fixtures.example("generic-firing.json")) == .json)
        #expect(PayloadFormat.detect(try Fixtures.example("zabbix-problem.json")) == .json)
        #expect(PayloadFormat.detect(Fixtures.bytes(#"{"receiver":"r","alerts":[]}"#)) == .json)
        #expect(PayloadFormat.detect(Fixtures.bytes(#"[{"labels":{"a":"1"}}]"#)) == .json)
        #expect(PayloadFormat.detect(Fixtures.bytes(#"{"receiver":"r","alerts":[],"version":"4""#)) == .json)
        #expect(PayloadFormat.detect(Fixtures.bytes("")) == .json)
        #expect(PayloadFormat.detect(Fixtures.bytes("just text")) == .json)
    }

    @Test func email() {
        let message = "Return-Path: <zabbix@example.com>\r\nFrom: Zabbix <zabbix@example.com>\r\nSubject: PROBLEM: disk full\r\n\r\nbody\r\n"
        #expect(PayloadFormat.detect(Fixtures.bytes(message)) == .email)
        #expect(PayloadFormat.detect(Fixtures.bytes("From alerts@example.com Sun Nov 22 18:56:47 2026\nSubject: x\n\nbody")) == .email)
        #expect(PayloadFormat.detect(Fixtures.bytes("X-Mailer: cron\n\n")) == .email)
        #expect(PayloadFormat.detect(Fixtures.bytes(": no name\n")) == .json)
        #expect(PayloadFormat.detect(Fixtures.bytes("Not A Header: value\n")) == .json)
    }
}
