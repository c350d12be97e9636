import Foundation
import KlaxonCore
import KlaxonIngest
import KlaxonRules

// Figures for bench/README.md. Run from the package root:
//   swift run -c release klaxon-bench

func median(_ samples: [Duration]) -> Duration {
    let sorted = samples.sorted()
    return sorted[sorted.count / 2]
}

func microseconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    return String(format: "%.2f µs", value)
}

let clock = ContinuousClock()

// 1. Alertmanager payload decode, 100 alerts (64 KB captured from Alertmanager 0.25).
let payloadPath = "Tests/KlaxonIngestTests/Fixtures/alertmanager-0.25-100-alerts.json"
guard let payloadData = FileManager.default.contents(atPath: payloadPath) else {
    fatalError("run from the package root: \(payloadPath) not found")
}
let payload = Array(payloadData)
var decodeSamples: [Duration] = []
var decoded = 0
for _ in 0..<2000 {
    let start = clock.now
    let alerts = try AlertmanagerAdapter.alerts(from: payload, input: "bench")
    decodeSamples.append(clock.now - start)
    decoded += alerts.count
}
print(
    "alertmanager decode, 100 alerts (\(payload.count) bytes): median \(microseconds(median(decodeSamples))), best \(microseconds(decodeSamples.min()!)) over \(decodeSamples.count) runs"
)
// The store's text of those alerts' labels and annotations: kept as Alertmanager wrote
// them, against written anew.
let decodedAlerts = try AlertmanagerAdapter.alerts(from: payload, input: "bench")
var writtenSamples: [Duration] = []
var keptSamples: [Duration] = []
var textBytes = 0
for _ in 0..<2000 {
    var start = clock.now
    for alert in decodedAlerts { textBytes += LabelSet(alert.labels.storage).json.utf8.count + LabelSet(alert.annotations.storage).json.utf8.count }
    writtenSamples.append(clock.now - start)
    start = clock.now
    for alert in decodedAlerts { textBytes += alert.labels.json.utf8.count + alert.annotations.json.utf8.count }
    keptSamples.append(clock.now - start)
}
print("label text for the store, 100 alerts: written \(microseconds(median(writtenSamples))), kept as sent \(microseconds(median(keptSamples)))")
// One alert, the webhook benchmark's body: a small payload's fixed costs.
let oneAlertBody = try String(contentsOfFile: "bench/bodies/webhook-1-alert.json", encoding: .utf8)
let oneAlert = Array(oneAlertBody.replacingOccurrences(of: "@SEQ@", with: "seq-1").utf8)
var oneSamples: [Duration] = []
for _ in 0..<20000 {
    let start = clock.now
    let alerts = try AlertmanagerAdapter.alerts(from: oneAlert, input: "bench")
    oneSamples.append(clock.now - start)
    decoded += alerts.count
}
print("alertmanager decode, 1 alert (\(oneAlert.count) bytes): median \(microseconds(median(oneSamples))), best \(microseconds(oneSamples.min()!))")
// The same through the generic JSON tree, the path of payloads in any other shape (Grafana's).
var treeSamples: [Duration] = []
for _ in 0..<2000 {
    let start = clock.now
    let alerts = AlertmanagerAdapter.alerts(from: try AlertmanagerAdapter.decode(try JSONParser.parse(payload)), input: "bench")
    treeSamples.append(clock.now - start)
    decoded += alerts.count
}
print("alertmanager decode through the JSON tree, 100 alerts: median \(microseconds(median(treeSamples))), best \(microseconds(treeSamples.min()!))")

// 2. A generated repository of 1,000 routes: `team` equality plus an `alertname` regex each.
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
var yaml = """
    providers:
      sim: {type: simulator}
    recipients:
      alice: {phone: "+8613700000001"}
      bob: {phone: "+8613700000002"}
    groups:
      oncall: [alice, bob]
    voices:
      down:
        text: "{{labels.alertname}} on {{labels.instance}}"
        params: ["{{labels.alertname}}", "{{labels.instance}}"]
    escalations:
      primary:
        steps:
          - {after: 0s, notify: [group:oncall]}
          - {after: 10m, notify: [bob]}
    routes:

    """
for index in 0..<1000 {
    yaml += """
          - name: team-\(index)
            match: {team: team-\(index)}
            matchers: ['alertname=~"(Disk|Cpu|Mem)Alert-\(index % 50).*"']
            voice: down
            escalation: primary
            providers: [sim]

        """
}
let rulesFile = directory.appendingPathComponent("routes.yaml")
try yaml.write(to: rulesFile, atomically: true, encoding: .utf8)

var checkSamples: [Duration] = []
var repository: RuleRepository?
for _ in 0..<5 {
    let start = clock.now
    let result = RuleLoader(environment: [:], mode: .check).load(paths: [directory.path])
    checkSamples.append(clock.now - start)
    precondition(result.errors.isEmpty, "\(result.errors)")
    repository = result.repository
}
print("check of 1,000 routes (\(yaml.utf8.count) bytes of YAML): median \(microseconds(median(checkSamples))) over \(checkSamples.count) runs")

// 3. Route one alert through the 1,000 routes.
let router = AlertRouter(repository: repository!)
var alerts: [Alert] = []
for index in 0..<1000 {
    let team = (index * 7919) % 1000
    let name = index % 3 == 0 ? "NoSuchAlert" : "DiskAlert-\(team % 50)-x"
    alerts.append(
        Alert(status: .firing, labels: ["alertname": name, "team": "team-\(team)", "instance": "10.0.0.\(index % 250):9100", "severity": "critical"])
    )
}
var routeSamples: [Duration] = []
var matched = 0
for round in 0..<100 {
    for alert in alerts {
        let start = clock.now
        let routes = router.matchingRoutes(for: alert)
        routeSamples.append(clock.now - start)
        if round == 0 { matched += routes.count }
    }
}
print(
    "route one alert through 1,000 routes: median \(microseconds(median(routeSamples))), p99 \(microseconds(routeSamples.sorted()[routeSamples.count * 99 / 100])) over \(routeSamples.count) alerts (\(matched) of \(alerts.count) matched)"
)

let planner = AlertPlanner(repository: repository!)
var planSamples: [Duration] = []
for alert in alerts {
    let start = clock.now
    _ = planner.plan(alert, count: 1)
    planSamples.append(clock.now - start)
}
print("full plan of one alert (route, params, escalation): median \(microseconds(median(planSamples)))")

// 5. E-mail: the Alertmanager 0.25 mail, and hostile 1 MiB messages (HostileMail.swift is the
// test suite's own builder) through RFC5322Parser and EmailAdapter.
let mailPath = "Tests/KlaxonIngestTests/Fixtures/email/alertmanager-0.25-firing.eml"
guard let mailData = FileManager.default.contents(atPath: mailPath) else { fatalError("\(mailPath) not found") }
let mail = Array(mailData)
var mailSamples: [Duration] = []
for _ in 0..<2000 {
    let start = clock.now
    _ = try EmailAdapter.alerts(from: mail, mapping: .default, input: "bench")
    mailSamples.append(clock.now - start)
}
print("email: Alertmanager 0.25 mail (\(mail.count) bytes) to an alert: median \(microseconds(median(mailSamples)))")
for (name, message) in HostileMail.all() {
    var samples: [Duration] = []
    var outcome = ""
    for _ in 0..<5 {
        let start = clock.now
        do {
            _ = try EmailAdapter.alerts(from: message, mapping: .default, input: "bench")
            outcome = "parsed"
        } catch {
            outcome = "rejected: \(error)"
        }
        samples.append(clock.now - start)
    }
    print("email: hostile \(name) (\(message.count) bytes): worst \(microseconds(samples.max()!)), \(outcome.prefix(90))")
}
