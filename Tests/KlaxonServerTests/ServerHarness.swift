import AsyncHTTPClient
import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine
import KlaxonServer
import KlaxonTestSupport
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

/// A klaxon server on 127.0.0.1 with an OS-chosen port, its own rules file and SQLite file,
/// and a manual clock for the escalation scheduler.
struct RunningKlaxon: Sendable {
    let baseURL: String
    let engine: IncidentEngine
    let reloader: RuleReloader
    let clock: ManualClock
    let directory: URL

    struct Answer: Sendable {
        var status: Int
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: buffer))
    }

    func post(_ path: String, _ body: String, headers: [(String, String)] = []) async throws -> Answer {
        try await request(.POST, path, body: Array(body.utf8), headers: headers)
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Answer {
        try await request(.GET, path, headers: headers)
    }

    /// Moves the scheduler's clock and waits until it sleeps again with the work it found done.
    func advance(_ duration: Duration) async {
        clock.advance(by: duration)
        await settle()
    }

    /// Waits until the scheduler sleeps and no step is running.
    func settle() async {
        for _ in 0..<3000 {
            await clock.waitForSleepers()
            let running =
                (try? await engine.store.read { transaction in
                    try await transaction.incidents(.all, limit: 1000).asyncFlatMapSteps(transaction)
                }) ?? []
            if !running.contains(where: { $0.state == .running }) {
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension Array where Element == Incident {
    func asyncFlatMapSteps(_ transaction: any IncidentTransaction) async throws -> [ScheduledStep] {
        var steps: [ScheduledStep] = []
        for incident in self { steps += try await transaction.steps(incidentID: incident.id) }
        return steps
    }
}

let quietLogger = Logger(label: "klaxon.test", factory: { _ in SwiftLogNoOpLogHandler() })

func withKlaxon<R: Sendable>(
    _ yaml: String,
    environment: [String: String] = [:],
    bodyTimeout: Duration = .seconds(10),
    idleTimeout: Duration = .seconds(75),
    sourceLocation: Testing.SourceLocation = #_sourceLocation,
    _ body: @Sendable (RunningKlaxon) async throws -> R
) async throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let rulesPath = directory.appendingPathComponent("rules.yaml").path
    try yaml.write(toFile: rulesPath, atomically: true, encoding: .utf8)
    let reloader = RuleReloader(paths: [rulesPath], environment: environment, httpClient: .shared, logger: quietLogger)
    guard case .loaded(let rules, _) = reloader.load() else {
        if case .rejected(let errors) = reloader.load() { Issue.record("rules rejected: \(errors)", sourceLocation: sourceLocation) }
        throw CancellationError()
    }
    // As `klaxon serve --config rules.yaml` settles them, without --listen or --store.
    reloader.serving = ServingSettings(options: ServeOptions(configPaths: [rulesPath]), repository: rules.repository, host: "127.0.0.1")
    let store = try await SQLiteIncidentStore.open(path: directory.appendingPathComponent("klaxon.db").path, logger: quietLogger)
    let clock = ManualClock()
    let engine = IncidentEngine(store: store, rules: rules, clock: clock.engineClock(start: Date()), logger: quietLogger, jitter: { 0 })
    let context = ServerContext(
        engine: engine,
        reloader: reloader,
        metrics: nil,
        logger: quietLogger,
        bodyTimeout: bodyTimeout,
        idleTimeout: idleTimeout
    )
    let (ports, continuation) = AsyncStream<String>.makeStream()
    let app = KlaxonServe.application(context, host: "127.0.0.1", port: 0) { address in
        continuation.yield(address)
        continuation.finish()
    }
    var configuration = ServiceGroupConfiguration(services: [app], logger: quietLogger)
    configuration.maximumGracefulShutdownDuration = .seconds(5)
    let group = ServiceGroup(configuration: configuration)
    let result = try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let address = await iterator.next() else {
            await group.triggerGracefulShutdown()
            throw CancellationError()
        }
        let running = RunningKlaxon(baseURL: "http://\(address)", engine: engine, reloader: reloader, clock: clock, directory: directory)
        do {
            let result = try await body(running)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
    try await store.close()
    return result
}

/// Polls until `condition` holds, for up to 30 seconds of real time.
func eventually(
    _ what: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation,
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
}

/// Alertmanager 0.25's own payloads, kept with the ingest tests.
let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../KlaxonIngestTests/Fixtures").standardized

func sample(_ name: String) throws -> String {
    try String(contentsOf: samples.appendingPathComponent(name), encoding: .utf8)
}
