import KlaxonCore
import Testing

/// Fingerprints that Alertmanager 0.25 sent for these label sets
/// (shared/samples/alertmanager-0.25-firing.json and -1-alert.json).
@Suite struct FingerprintTests {
    static let checkout: LabelSet = [
        "alertname": "CheckoutHighErrorRate", "cluster": "eu-west-1", "namespace": "prod",
        "oncall": "voice", "service": "checkout", "severity": "critical", "team": "payments",
    ]

    static func checkout(instance: String, pod: String) -> LabelSet {
        var labels = checkout
        labels["instance"] = instance
        labels["pod"] = pod
        return labels
    }

    @Test(arguments: [
        (checkout(instance: "10.0.1.17:8080", pod: "checkout-7d9f8b6c5-x2k4p"), "929f5708236a1c55"),
        (checkout(instance: "10.0.1.18:8080", pod: "checkout-7d9f8b6c5-q8m1z"), "75e03d26d9859828"),
        (checkout(instance: "10.0.2.41:8080", pod: "checkout-7d9f8b6c5-h7c3n"), "6552fab58858027d"),
    ])
    func reproducesAlertmanager(labels: LabelSet, expected: String) {
        #expect(Fingerprint.of(labels) == expected)
    }

    @Test func reproducesBenchmarkAlert() {
        let labels: LabelSet = [
            "alertname": "BenchPayload1", "cluster": "eu-west-1", "instance": "10.0.0.0:8080",
            "namespace": "prod", "oncall": "voice", "pod": "checkout-7d9f8b6c5-00000",
            "service": "checkout", "severity": "critical", "team": "payments",
        ]
        #expect(Fingerprint.of(labels) == "904589cfbcee0a0a")
    }

    @Test func emptySetIsTheOffsetBasis() {
        #expect(Fingerprint.of([:]) == "cbf29ce484222325")
    }

    @Test func alwaysSixteenDigits() {
        for index in 0..<200 {
            #expect(Fingerprint.of(["n": "\(index)"]).count == 16)
        }
    }

    /// Go sorts names by bytes: "e\u{301}" (65 CC 81) before "f" (66), although Swift's `<`
    /// puts it after "f" because it compares the NFC form "é" (U+00E9). Value computed with
    /// Prometheus' algorithm.
    @Test func sortsNamesByBytesLikeGo() {
        #expect(Fingerprint.of(["e\u{301}": "1", "f": "2"]) == "b0a50abc37b7552c")
    }

    @Test func alertUsesLabelFingerprintWhenSourceGivesNone() {
        let labels = Self.checkout(instance: "10.0.1.17:8080", pod: "checkout-7d9f8b6c5-x2k4p")
        #expect(Alert(status: .firing, labels: labels).fingerprint == "929f5708236a1c55")
        #expect(Alert(status: .firing, labels: labels, fingerprint: "given").fingerprint == "given")
    }
}
