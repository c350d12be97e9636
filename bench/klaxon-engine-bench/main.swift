import AsyncHTTPClient
import Foundation
import KlaxonCore
import KlaxonEngine
import KlaxonIngest
import KlaxonProviders
import KlaxonRules
import Logging
import Synchronization

// The incident engine without HTTP: decoded Alertmanager payloads (every one new alerts)
// ingested on a SQLite file by CONCURRENCY tasks at once, as webhooks would. Prints
// alerts/s and the process's CPU time per payload. Run from the package root:
//   swift run -c release klaxon-engine-bench [ALERTS_PER_PAYLOAD] [PAYLOADS] [CONCURRENCY]

let arguments = CommandLine.arguments
let perPayload = arguments.count > 1 ? Int(arguments[1])! : 1
let payloads = arguments.count > 2 ? Int(arguments[2])! : 50_000
let concurrency = arguments.count > 3 ? Int(arguments[3])! : 64

let bodyPath = perPayload == 1 ? "bench/bodies/webhook-1-alert.json" : "bench/bodies/webhook-100-alerts.json"
guard let template = try? String(contentsOfFile: bodyPath, encoding: .utf8) else { fatalError("run from the package root") }

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-engine-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

var environment = ProcessInfo.processInfo.environment
environment["KLAXON_BENCH_RECEIVER"] = "http://127.0.0.1:9/unused"
let loaded = RuleLoader(environment: environment, mode: .serve).load(paths: ["bench/rules"])
guard let repository = loaded.repository else { fatalError("\(loaded.errors)") }
let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
var logger = Logger(label: "bench")
logger.logLevel = .warning
let rules = try EngineRules.build(
    repository: repository,
    registry: .standard,
    environment: ProviderEnvironment(httpClient: httpClient, logger: logger)
)
let store = try await SQLiteIncidentStore.open(path: directory.appendingPathComponent("klaxon.db").path, logger: logger)
let engine = IncidentEngine(store: store, rules: rules, logger: logger)

// Decoded up front: this measures the engine, not the decoder.
let pieces = template.components(separatedBy: "@SEQ@")
let batches = try (0..<payloads).map { index in
    try AlertmanagerAdapter.alerts(from: Array(pieces.joined(separator: "p\(index)").utf8), input: "bench")
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

let clock = ContinuousClock()
let cpuStart = cpuSeconds()
let start = clock.now
let next = Atomic(0)
try await withThrowingTaskGroup(of: Void.self) { group in
    for _ in 0..<concurrency {
        group.addTask {
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < batches.count else { return }
                _ = try await engine.ingest(batches[index])
            }
        }
    }
    try await group.waitForAll()
}
let elapsed = clock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let cpu = cpuSeconds() - cpuStart
print(
    String(
        format: "%d payloads of %d alerts, %d at once: %.0f payloads/s, %.0f alerts/s, CPU %.1f µs a payload",
        payloads,
        perPayload,
        concurrency,
        Double(payloads) / seconds,
        Double(payloads * perPayload) / seconds,
        cpu / Double(payloads) * 1e6
    )
)
try await store.close()
// In top-level code `shutdown()` resolves to the overload that returns a future.
func shutDown(_ client: HTTPClient) async throws { try await client.shutdown() }
try await shutDown(httpClient)
