import Foundation
import KlaxonTestSupport
import NIOHTTP1
import Testing

/// The real Alertmanager 0.25 (Debian's `prometheus-alertmanager`, installed by
/// scripts/test) delivers to klaxon through its own webhook notifier.
@Suite("Alertmanager end to end", .serialized)
struct AlertmanagerEndToEndTests {
    static let alertmanagerBinary = ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func alertmanagerRepeatsCauseNoSecondCallAndResolveEndsTheIncident() async throws {
        let binary = try #require(Self.alertmanagerBinary, "Alertmanager is not installed: scripts/test installs Debian's prometheus-alertmanager")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let calls = directory.appendingPathComponent("calls.jsonl")
        try """
        inputs:
          alertmanager: {type: alertmanager, token: am-secret}
        providers:
          sim: {type: simulator, record_file: \(calls.path)}
        recipients:
          alice: {phone: "+8613700000001"}
        voices:
          down: {text: "{{labels.alertname}} on {{labels.service}}"}
        escalations:
          chain:
            steps:
              - {after: 0s, notify: [alice]}
        routes:
          - name: voice
            match: {oncall: voice}
            voice: down
            providers: [sim]
            escalation: chain
        """.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let klaxon = try await ServerProcess(arguments: [
            "--config", directory.appendingPathComponent("rules.yaml").path,
            "--store", "sqlite:" + directory.appendingPathComponent("klaxon.db").path,
        ])

        let port = try FreePort.pick()
        try """
        route:
          receiver: klaxon
          group_by: [alertname, service]
          group_wait: 0s
          group_interval: 1s
          repeat_interval: 1s
        receivers:
          - name: klaxon
            webhook_configs:
              - url: \(klaxon.baseURL)/webhook/alertmanager
                send_resolved: true
                http_config:
                  authorization: {credentials: am-secret}
        """.write(to: directory.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        let alertmanager = try await Daemon(
            binary: binary,
            arguments: [
                "--config.file=" + directory.appendingPathComponent("alertmanager.yml").path,
                "--storage.path=" + directory.appendingPathComponent("am").path,
                "--web.listen-address=127.0.0.1:\(port)",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            readyURL: "http://127.0.0.1:\(port)/-/ready"
        )
        defer { alertmanager.stop() }

        let startsAt = ISO8601DateFormatter().string(from: Date())
        let alert = """
            [{"labels": {"alertname": "CheckoutDown", "service": "checkout", "oncall": "voice", "instance": "i-1"},
              "annotations": {"summary": "checkout is down"}, "startsAt": "\(startsAt)"}]
            """
        #expect(try await HTTP.send(.POST, "http://127.0.0.1:\(port)/api/v2/alerts", body: alert).status == 200)

        // Alertmanager notifies, then repeats every second: klaxon counts the repeats on one
        // incident and places one call.
        var incident: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let list = try await klaxon.request(.GET, "/api/v1/incidents?state=all")
            let incidents = (try? JSONSerialization.jsonObject(with: Data(list.body.utf8)) as? [String: Any])?["incidents"] as? [[String: Any]]
            if let first = incidents?.first, (first["count"] as? Int ?? 0) >= 3 {
                incident = first
                #expect(incidents?.count == 1)
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect((incident["count"] as? Int ?? 0) >= 3, "Alertmanager's repeat notifications did not arrive:\n\(klaxon.log())")
        #expect(incident["key"] as? String == #"voice|{}:{alertname="CheckoutDown", service="checkout"}"#)
        let recorded = (try? String(contentsOf: calls, encoding: .utf8)) ?? ""
        #expect(recorded.split(separator: "\n").count == 1)

        // The alert ends: Alertmanager sends the resolved notification and the incident resolves.
        let endsAt = ISO8601DateFormatter().string(from: Date())
        let resolved = alert.replacingOccurrences(of: #""startsAt": "\#(startsAt)""#, with: #""startsAt": "\#(startsAt)", "endsAt": "\#(endsAt)""#)
        #expect(try await HTTP.send(.POST, "http://127.0.0.1:\(port)/api/v2/alerts", body: resolved).status == 200)
        var state = ""
        while ContinuousClock.now < deadline, state != "resolved" {
            let detail = try await klaxon.request(.GET, "/api/v1/incidents/1")
            let body = try? JSONSerialization.jsonObject(with: Data(detail.body.utf8)) as? [String: Any]
            state = (body?["incident"] as? [String: Any])?["state"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(state == "resolved")
        #expect(((try? String(contentsOf: calls, encoding: .utf8)) ?? "").split(separator: "\n").count == 1)
        #expect(await klaxon.stop() == 0)
    }
}
