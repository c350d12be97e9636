import Foundation
import Testing

@testable import KlaxonCore
@testable import KlaxonIngest

/// The one-pass reader of Alertmanager's own shape must agree with the tree decoder on
/// every payload it accepts, and leave everything else to it.
@Suite struct AlertmanagerCommonShapeTests {
    private func treeDecode(_ bytes: [UInt8]) -> AlertmanagerPayload? {
        try? AlertmanagerAdapter.decode(JSONParser.parse(bytes))
    }

    @Test(arguments: ["alertmanager-0.25-firing", "alertmanager-0.25-resolved", "alertmanager-0.25-1-alert", "alertmanager-0.25-100-alerts"])
    func readsAlertmanagersOwnPayloadsAsTheTreeDecoderDoes(_ name: String) throws {
        let bytes = try Fixtures.payload(name)
        let fast = try #require(AlertmanagerAdapter.decodeCommonShape(bytes))
        #expect(fast == treeDecode(bytes))
    }

    @Test func leavesOtherShapesToTheTreeDecoder() throws {
        let alert = #"{"status":"firing","labels":{"alertname":"A"}}"#
        let deferred = [
            #"{"version":4,"alerts":[\#(alert)]}"#,  // a number for a string
            #"{"version":"4","commonLabels":null,"alerts":[\#(alert)]}"#,  // Go's empty map
            #"{"version":"4","status":"firing","status":"resolved","alerts":[\#(alert)]}"#,  // a repeated key
            #"{"version":"4","orgId":1,"alerts":[\#(alert)]}"#,  // Grafana
            #"{"version":"4","alerts":[{"status":"firing","labels":{"a":"1"},"values":{"B":1}}]}"#,
            #"{"version":"4","alerts":[{"status":"firing","labels":{"a":1}}]}"#,
            #"{"version":"4","alerts":[{"status":"firing","labels":{}}]}"#,
            #"{"version":"4","alerts":[{"labels":{"a":"1"}}]}"#,
            #"{"version":"5","alerts":[\#(alert)]}"#,
            #"{"version":"4"}"#,
            #"{"version":"4","alerts":[\#(alert)]} x"#,
        ]
        for text in deferred {
            #expect(AlertmanagerAdapter.decodeCommonShape(Array(text.utf8)) == nil, "\(text)")
        }
        let accepted = [
            " \n{ \"version\" : \"4\" , \"alerts\" : [ \(alert) , \(alert) ] }\n",
            "\u{FEFF}{\"alerts\":[]}",
            #"{"alerts":[{"status":"resolved","labels":{"a":"1","a":"2"},"endsAt":"0001-01-01T00:00:00Z","fingerprint":""}]}"#,
            #"{"version":"4","truncatedAlerts":3,"alerts":[{"status":"firing","labels":{"a":"\u00e9\n"},"startsAt":"2026-11-22T18:56:50.848+01:00"}]}"#,
        ]
        for text in accepted {
            let bytes = Array(text.utf8)
            let fast = AlertmanagerAdapter.decodeCommonShape(bytes)
            #expect(fast != nil, "\(text)")
            #expect(fast == treeDecode(bytes), "\(text)")
        }
    }

    /// Alertmanager's label maps are kept as sent for the store; any other text is written
    /// anew. Either way the store gets exactly ``LabelSet/json``.
    @Test(arguments: ["alertmanager-0.25-firing", "alertmanager-0.25-resolved", "alertmanager-0.25-1-alert", "alertmanager-0.25-100-alerts"])
    func keepsAlertmanagersLabelTextForTheStore(_ name: String) throws {
        let bytes = try Fixtures.payload(name)
        for alert in try AlertmanagerAdapter.alerts(from: bytes) {
            for labels in [alert.labels, alert.annotations] {
                #expect(labels.keepsSourceJSON)
                #expect(labels.json == LabelSet(labels.storage).json)
            }
        }
    }

    @Test func keepsLabelTextOnlyWhenItIsExactlyTheStoredForm() throws {
        let cases: [(text: String, kept: Bool)] = [
            (#"{"a":"1","b":"2"}"#, true),
            ("{}", true),
            (#"{"a":"é","é":"中文 🚨"}"#, true),
            (#"{"a": "1","b":"2"}"#, false),
            (#"{ "a":"1"}"#, false),
            (#"{"a":"1"} "#, true),
            (#"{"b":"1","a":"2"}"#, false),
            (#"{"a":"1","a":"2"}"#, false),
            (#"{"a":"\u0041"}"#, false),
            (#"{"a":"x\"y"}"#, true),
            (#"{"a":"x\/y"}"#, false),
            (#"{"a":"\u003c\u003e\u0026"}"#, true),
            (#"{"a":"\u003C"}"#, false),
            (#"{"a":"<"}"#, false),
            (#"{"a":"a&b"}"#, false),
            (#"{"a":"\n\t\u0001\\"}"#, true),
            (#"{"a":"\u000a"}"#, false),
            (#"{"a":"\u2028"}"#, true),
            ("{\"a\":\"\u{2028}\"}", false),
            (#"{"B":"1","a":"2"}"#, true),
        ]
        for (text, kept) in cases {
            let bytes = Array(#"{"alerts":[{"status":"firing","labels":{"a":"1"},"annotations":\#(text)}]}"#.utf8)
            let labels = try #require(AlertmanagerAdapter.decodeCommonShape(bytes)?.alerts.first?.annotations, "\(text)")
            #expect(labels.keepsSourceJSON == kept, "\(text)")
            #expect(labels.json == LabelSet(labels.storage).json, "\(text)")
        }
    }

    @Test func leavesKeysWithEscapesAndBadGroupFieldsToTheTreeDecoder() throws {
        let alert = #"{"status":"firing","labels":{"alertname":"A"}}"#
        let escapedKey = Array(#"{"vers\u0069on":"4","alerts":[\#(alert)]}"#.utf8)
        #expect(AlertmanagerAdapter.decodeCommonShape(escapedKey) == nil)
        #expect(AlertmanagerAdapter.decodeCommonShape(escapedKey, groupFields: false) == nil)
        #expect(try AlertmanagerAdapter.alerts(from: escapedKey).map(\.labels) == [["alertname": "A"]])
        // Group fields are checked even when they are not kept.
        for field in [#"{"a":"\x"}"#, #"{"a":1}"#, #"{"a":"1",}"#, #"["a"]"#, "{\"a\":\"\u{1}\"}"] {
            let bytes = Array(#"{"commonLabels":\#(field),"alerts":[\#(alert)]}"#.utf8)
            #expect(AlertmanagerAdapter.decodeCommonShape(bytes, groupFields: false) == nil, "\(field)")
            #expect(throws: IngestError.self, "\(field)") { try AlertmanagerAdapter.alerts(from: bytes) }
        }
    }

    /// Skipping the group fields changes nothing about what is accepted or about the alerts.
    @Test(arguments: ["alertmanager-0.25-firing", "alertmanager-0.25-resolved", "alertmanager-0.25-1-alert", "alertmanager-0.25-100-alerts"])
    func alertsWithoutGroupFieldsAreTheAlertsOfTheWholePayload(_ name: String) throws {
        let bytes = try Fixtures.payload(name)
        let lean = try #require(AlertmanagerAdapter.decodeCommonShape(bytes, groupFields: false))
        let whole = try #require(treeDecode(bytes))
        #expect(lean.alerts == whole.alerts)
        #expect(lean.groupKey == whole.groupKey && lean.externalURL == whole.externalURL)
        #expect(lean.commonLabels.isEmpty && lean.groupLabels.isEmpty && lean.commonAnnotations.isEmpty)
        #expect(try AlertmanagerAdapter.alerts(from: bytes, input: "x") == AlertmanagerAdapter.alerts(from: whole, input: "x"))
    }

    /// Every one-byte change of a real payload: whatever the reader accepts, the tree
    /// decoder accepts too, with the same result.
    @Test func agreesWithTheTreeDecoderOnEveryOneByteChange() throws {
        let original = try Fixtures.payload("alertmanager-0.25-1-alert")
        var accepted = 0
        for position in original.indices {
            for replacement in [UInt8(ascii: "\""), UInt8(ascii: "}"), UInt8(ascii: "7"), UInt8(ascii: " "), UInt8(ascii: "\\"), 0xC3] {
                var bytes = original
                bytes[position] = replacement
                let lean = AlertmanagerAdapter.decodeCommonShape(bytes, groupFields: false)
                guard let fast = AlertmanagerAdapter.decodeCommonShape(bytes) else {
                    #expect(lean == nil, "byte \(position) → \(replacement)")
                    continue
                }
                accepted += 1
                #expect(fast == treeDecode(bytes), "byte \(position) → \(replacement)")
                #expect(lean?.alerts == fast.alerts, "byte \(position) → \(replacement)")
                for alert in fast.alerts {
                    #expect(alert.labels.json == LabelSet(alert.labels.storage).json, "byte \(position) → \(replacement)")
                    #expect(alert.annotations.json == LabelSet(alert.annotations.storage).json, "byte \(position) → \(replacement)")
                }
            }
        }
        #expect(accepted > 0)
    }
}
