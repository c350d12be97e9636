import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonRules
import KlaxonTestSupport
import Synchronization
import Testing

@testable import KlaxonEngine

/// A provider that records every request and answers as told: the engine's view of a
/// vendor, for tests of the engine's own decisions. Vendor wire formats are tested against
/// the vendor fakes elsewhere.
final class RecordingProvider: VoiceProvider {
    let name: String
    let type: ProviderType = .simulator
    private let log = Mutex<[CallRequest]>([])
    private let answer: @Sendable (CallRecipient) -> CallResult
    /// Awaited before each request is answered (and after it is recorded).
    private let before: (@Sendable () async -> Void)?

    init(
        name: String = "sim",
        answer: @escaping @Sendable (CallRecipient) -> CallResult = { .accepted(vendorCallID: "v-" + $0.name) },
        before: (@Sendable () async -> Void)? = nil
    ) {
        self.name = name
        self.before = before
        self.answer = answer
    }

    var requests: [CallRequest] { log.withLock { $0 } }
    var calledNames: [String] { requests.flatMap { $0.recipients.map(\.name) } }

    func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        log.withLock { $0.append(request) }
        await before?()
        return request.recipients.map { RecipientResult(recipient: $0, result: answer($0)) }
    }
}

/// How long a PostgreSQL test that expects to connect, or to take the write lock, waits
/// for it: the whole suite at once on two cores, beside the test clusters, has taken over 5 s.
/// Stores that are not testing a timeout also take it as their idle-in-transaction and
/// answer timeouts: this process's tasks can then wait seconds for a thread.
let loadedMachineTimeout = Duration.seconds(30)

let engineRules = """
    providers:
      sim:
        type: simulator
    recipients:
      alice: {phone: "+8613700000001"}
      bob: {phone: "+8613700000002"}
      carol: {phone: "+8613700000003"}
    groups:
      oncall: [alice, bob]
    voices:
      down:
        text: "{{labels.alertname}} on {{labels.instance}}"
        params: ["{{labels.instance}}", "{{count}}"]
    escalations:
      primary:
        steps:
          - after: 0s
            notify: [group:oncall]
          - after: 10m
            notify: [carol]
        stop_on: [answered]
    routes:
      - name: db
        match: {team: db}
        voice: down
        providers: [sim]
        escalation: primary
        priority: 2
    """

/// Which store an engine test runs on: the tests of the engine's decisions run on both.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    /// SQLite with every dedupe key under one hash in its in-memory lookup
    /// (``ActiveIncidentKeys``), so each lookup must tell the keys apart by the rows.
    case sqliteOneKeyHash
    case postgres

    var testDescription: String { rawValue }
}

/// An engine on a fresh SQLite file (or PostgreSQL database) with a manual clock, starting
/// at `start`.
struct EngineHarness {
    let directory: URL
    let path: String
    /// The PostgreSQL database's URL; nil on SQLite.
    let databaseURL: String?
    let clock: ManualClock
    let start: Date
    let provider: RecordingProvider
    let engine: IncidentEngine
    let store: any IncidentStore

    /// The SQLite store, for the tests of SQLite's own machinery.
    var sqlite: SQLiteIncidentStore { store as! SQLiteIncidentStore }

    /// `directory` (SQLite) or `databaseURL` (PostgreSQL) reopens an earlier harness's store.
    static func make(
        _ yaml: String = engineRules,
        on kind: StoreKind = .sqlite,
        start: Date = Date(timeIntervalSince1970: 1_780_000_000),
        provider: RecordingProvider = RecordingProvider(),
        otherProviders: [RecordingProvider] = [],
        directory: URL? = nil,
        databaseURL: String? = nil,
        connectTimeout: Duration = loadedMachineTimeout,
        migrations: Int = SQLiteSchema.version,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> EngineHarness {
        let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("klaxon.db").path
        let loaded = RuleLoader(environment: [:], mode: .serve).load(yaml: yaml, name: "test.yaml")
        #expect(loaded.errors.isEmpty, "\(loaded.errors.map(\.description))", sourceLocation: sourceLocation)
        let repository = try #require(loaded.repository, sourceLocation: sourceLocation)
        let store: any IncidentStore
        var url: String?
        switch kind {
        case .sqlite:
            store = try await SQLiteIncidentStore.open(path: path, migrations: migrations)
        case .sqliteOneKeyHash:
            store = try await SQLiteIncidentStore.open(
                path: path,
                migrations: migrations,
                walSync: WALSync.init(databasePath:),
                activeKeys: ActiveIncidentKeys(hashBytes: { _ in 0 })
            )
        case .postgres:
            let database: String
            if let databaseURL { database = databaseURL } else { database = try await TestPostgres.makeDatabase() }
            url = database
            // The idle and answer timeouts too: with the whole suite on two cores this
            // process's tasks can wait seconds for a thread, and the server, seeing the
            // client idle mid-transaction for 10 s, once ended a migration.
            store = try await PostgresIncidentStore.open(
                url: database,
                lockTimeout: loadedMachineTimeout,
                idleTransactionTimeout: loadedMachineTimeout,
                answerTimeout: loadedMachineTimeout,
                connectTimeout: connectTimeout
            )
        }
        let clock = ManualClock()
        let engine = IncidentEngine(
            store: store,
            rules: EngineRules(
                repository: repository,
                providers: Dictionary(uniqueKeysWithValues: ([provider] + otherProviders).map { ($0.name, $0 as any VoiceProvider) })
            ),
            clock: clock.engineClock(start: start),
            jitter: { 0 }
        )
        return EngineHarness(
            directory: directory,
            path: path,
            databaseURL: url,
            clock: clock,
            start: start,
            provider: provider,
            engine: engine,
            store: store
        )
    }

    /// Swaps the engine's rules, as `POST /-/reload` does.
    func reload(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let loaded = RuleLoader(environment: [:], mode: .serve).load(yaml: yaml, name: "test.yaml")
        #expect(loaded.errors.isEmpty, "\(loaded.errors.map(\.description))", sourceLocation: sourceLocation)
        let repository = try #require(loaded.repository, sourceLocation: sourceLocation)
        engine.replaceRules(EngineRules(repository: repository, providers: [provider.name: provider]))
    }

    func ingest(_ alerts: Alert...) async throws -> IngestSummary {
        try await engine.ingest(alerts)
    }

    /// What a process that dies in the middle of a step leaves: the first due step claimed,
    /// its first person's call recorded as accepted and the others' as started, with no
    /// vendor's answer. Returns the step's id.
    @discardableResult
    func claimFirstStepAndDieWithCallsStarted() async throws -> Int64 {
        try await store.write { transaction -> Int64 in
            let step = try #require(try await transaction.claimDueSteps(now: start, limit: 10).first)
            for (index, recipient) in step.recipients.enumerated() {
                _ = try await transaction.insertCall(
                    CallRecord(
                        callID: "aaaaaaaaaaaa",
                        incidentID: step.incidentID,
                        stepID: step.id,
                        step: 1,
                        recipient: recipient,
                        state: index == 0 ? .accepted : .started,
                        provider: "sim",
                        startedAt: start,
                        updatedAt: start
                    )
                )
            }
            return step.id
        }
    }

    func advance(_ duration: Duration) async throws -> Int {
        clock.advance(by: duration)
        return try await engine.runDueSteps()
    }

    func detail(_ id: Int64, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> IncidentDetail {
        try #require(try await engine.detail(incidentID: id), sourceLocation: sourceLocation)
    }

    /// Every row's declared parent exists (the store does not enforce foreign keys per statement).
    /// On PostgreSQL the database enforces them.
    func expectNoDanglingReferences(sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        guard let store = store as? SQLiteIncidentStore else { return }
        let dangling = try await store.danglingReferences()
        #expect(dangling.isEmpty, "\(dangling)", sourceLocation: sourceLocation)
    }

    func close() async throws {
        try await store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}

func dbAlert(_ instance: String = "db-1", alertname: String = "MySQLDown", status: AlertStatus = .firing, groupKey: String? = nil) -> Alert {
    Alert(
        status: status,
        labels: ["alertname": alertname, "team": "db", "instance": instance],
        annotations: ["summary": "down"],
        source: AlertSource(kind: .alertmanager, input: "alertmanager"),
        groupKey: groupKey
    )
}
