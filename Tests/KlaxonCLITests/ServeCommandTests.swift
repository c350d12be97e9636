import Foundation
import Hummingbird
import KlaxonTestSupport
import NIOHTTP1
import Testing
import VendorFakes

/// `klaxon serve` as a process: restarts, crashes and the commands that use its API.
@Suite("klaxon serve as a process", .serialized)
struct ServeCommandTests {
    let directory: URL
    let callsFile: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        callsFile = directory.appendingPathComponent("calls.jsonl")
        let rules = """
            providers:
              sim:
                type: simulator
                record_file: \(callsFile.path)
            recipients:
              alice: {phone: "+8613700000001"}
              bob: {phone: "+8613700000002"}
            voices:
              down:
                text: "{{labels.alertname}} is down"
            escalations:
              chain:
                steps:
                  - after: 0s
                    notify: [alice]
                  - after: 10s
                    notify: [bob]
            routes:
              - name: all
                voice: down
                providers: [sim]
                escalation: chain
            """
        try rules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
    }

    var arguments: [String] {
        ["--config", directory.appendingPathComponent("rules.yaml").path, "--store", "sqlite:" + directory.appendingPathComponent("klaxon.db").path]
    }

    func calledNames() -> [String] {
        let text = (try? String(contentsOf: callsFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["recipient"] as? String
        }
    }

    func waitForCalls(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while calledNames().count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    let alert = #"[{"labels": {"alertname": "DiskFull", "instance": "db-1"}, "severity": "critical"}]"#

    @Test func aPendingStepFiresOnceInTheNextProcess() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try await ServerProcess(arguments: arguments)
        let posted = ContinuousClock.now
        #expect(try await first.request(.POST, "/webhook/json/default", body: alert).status == 200)
        try await waitForCalls(1)
        #expect(calledNames() == ["alice"])
        #expect(await first.stop() == 0)
        // 10 s: a stop under the whole suite's load has taken over 4 s.
        #expect(ContinuousClock.now - posted < .seconds(10), "the first process had to stop before step 2 was due")
        #expect(first.log().contains("klaxon stopped"))

        try await Task.sleep(until: posted + .seconds(10.5))
        let second = try await ServerProcess(arguments: arguments)
        try await waitForCalls(2)
        try await Task.sleep(for: .seconds(1))
        #expect(calledNames() == ["alice", "bob"])
        #expect(await second.stop() == 0)
    }

    /// Two processes on one PostgreSQL database, as behind a load balancer: each is posted
    /// the same alert, one incident and one call come of it, and when one is killed the
    /// other places the next step.
    @Test func twoInstancesOnOnePostgreSQLDatabaseShareTheIncidentAndItsSteps() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try await TestPostgres.makeDatabase()
        let arguments = ["--config", directory.appendingPathComponent("rules.yaml").path, "--store", url]
        let a = try await ServerProcess(arguments: arguments)
        let b = try await ServerProcess(arguments: arguments)
        async let fromA = a.request(.POST, "/webhook/json/default", body: alert)
        async let fromB = b.request(.POST, "/webhook/json/default", body: alert)
        #expect(try await fromA.status == 200)
        #expect(try await fromB.status == 200)
        try await waitForCalls(1)
        await a.kill()

        // Step 2 is due 10 s after the alert: b places it.
        try await waitForCalls(2)
        try await Task.sleep(for: .seconds(1))
        #expect(calledNames() == ["alice", "bob"])
        let list = try await b.request(.GET, "/api/v1/incidents?state=all")
        #expect(list.body.components(separatedBy: #""title":"DiskFull""#).count == 2, "one incident: \(list.body)")
        #expect(await b.stop() == 0)
    }

    /// A second `klaxon serve` on the same SQLite file would take the first one's running
    /// steps for a stopped process's and call their people again: it is refused, and the
    /// first goes on.
    @Test func aSecondServeOnTheSameSQLiteFileIsRefused() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try await ServerProcess(arguments: arguments)
        #expect(try await first.request(.POST, "/webhook/json/default", body: alert).status == 200)
        let error = await #expect(throws: ServerProcessError.self) { _ = try await ServerProcess(arguments: arguments) }
        #expect(error?.message.contains("is in use by another klaxon serve (pid") == true, "\(String(describing: error))")
        try await waitForCalls(1)
        #expect(try await first.request(.GET, "/readyz").status == 200)
        #expect(await first.stop() == 0)
        #expect(calledNames() == ["alice"])
    }

    /// A SIGHUP that comes while klaxon is still starting (a configuration tool's reload
    /// right after a restart) does not end it, and the rules changed before it are in force
    /// once klaxon is ready. Another process holds the store's write lock for 3 s, so the
    /// start waits in its recovery, after it read the rules; 1 s in they change (step 1
    /// calls bob), and the SIGHUP comes.
    @Test func aSIGHUPWhileStartingReloadsOnceReady() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(await (try await ServerProcess(arguments: arguments)).stop() == 0)
        let database = directory.appendingPathComponent("klaxon.db").path
        let holder = try ChildProcess(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE'); time.sleep(3)",
                database,
            ]
        )
        try await Task.sleep(for: .milliseconds(300))
        let rulesFile = directory.appendingPathComponent("rules.yaml")
        let changed = try String(contentsOf: rulesFile, encoding: .utf8).replacingOccurrences(of: "notify: [alice]", with: "notify: [bob, alice]")
        let server = try await ServerProcess(arguments: arguments, signal: (SIGHUP, .seconds(1))) {
            try changed.write(to: rulesFile, atomically: true, encoding: .utf8)
        }
        // Ready can come before the SIGHUP, when the holder took the lock late.
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.log().contains("rules reloaded"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await server.request(.GET, "/readyz").status == 200)
        #expect(try await server.request(.POST, "/webhook/json/default", body: alert).status == 200)
        try await waitForCalls(2)
        #expect(calledNames() == ["bob", "alice"])
        #expect(await server.stop() == 0)
        _ = await holder.exitStatus()
    }

    /// A vendor that never answers does not hold SIGTERM past `server.shutdown_timeout`, and
    /// the call it cut short is placed again by the next start, not recorded as failed.
    @Test func SIGTERMCutsAHangingCallShortAfterTheShutdownTimeout() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let state = FakeVendorState()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if let fault = try await state.intercept(request, body: body) { return fault }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        try await withFakeServer(router) { baseURL in
            let rules = """
                server: {shutdown_timeout: 1s}
                providers:
                  hook: {type: webhook, url: "\(baseURL)/hook", timeout: 60s, retry: {attempts: 1}}
                recipients:
                  alice: {phone: "+8613700000001"}
                voices:
                  down: {text: "{{labels.alertname}} is down"}
                escalations:
                  chain: {steps: [{after: 0s, notify: [alice]}]}
                routes:
                  - {name: all, voice: down, providers: [hook], escalation: chain}
                """
            try rules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
            await state.setStandingFault(.hang)
            let first = try await ServerProcess(arguments: arguments)
            #expect(try await first.request(.POST, "/webhook/json/default", body: alert).status == 200)
            let deadline = ContinuousClock.now + .seconds(30)
            while await state.requests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await state.requests.count == 1)
            let stopping = ContinuousClock.now
            #expect(await first.stop() == 0)
            #expect(ContinuousClock.now - stopping < .seconds(10), "SIGTERM waited for the vendor's 60 s timeout")
            #expect(first.log().contains("shutdown cut an escalation step short"))

            await state.setStandingFault(nil)
            let second = try await ServerProcess(arguments: arguments)
            while await state.requests.count < 2, ContinuousClock.now < deadline + .seconds(30) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await state.requests.count == 2, "the call cut short was not placed again")
            // The acceptance is recorded once the vendor's answer is back, after the request.
            var detail = try await second.request(.GET, "/api/v1/incidents/1")
            while !detail.body.contains(#""state":"accepted""#), ContinuousClock.now < deadline + .seconds(30) {
                try await Task.sleep(for: .milliseconds(20))
                detail = try await second.request(.GET, "/api/v1/incidents/1")
            }
            #expect(detail.body.contains(#""state":"interrupted""#))
            #expect(detail.body.contains(#""state":"accepted""#))
            #expect(await second.stop() == 0)
        }
    }

    @Test func anAlertAnswered200SurvivesSIGKILL() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try await ServerProcess(arguments: arguments)
        #expect(try await first.request(.POST, "/webhook/json/default", body: alert).status == 200)
        await first.kill()

        let second = try await ServerProcess(arguments: arguments)
        let list = try await second.request(.GET, "/api/v1/incidents?state=open")
        #expect(list.body.contains(#""title":"DiskFull""#))
        // Killed before or after alice's call was placed: she is called (at most twice), never lost.
        try await waitForCalls(1)
        #expect(calledNames().first == "alice")
        #expect(calledNames().filter { $0 == "alice" }.count <= 2)

        let server = ["--server", second.baseURL]
        let incidents = try await KlaxonProcess.run(["incidents"] + server)
        #expect(incidents.status == 0)
        #expect(incidents.stdout.hasPrefix("ID  STATE  SEVERITY  ROUTE  COUNT  OPENED"))
        #expect(incidents.stdout.contains("DiskFull"))
        let ack = try await KlaxonProcess.run(["ack", "1", "--by", "carol"] + server)
        #expect(ack.stdout == "incident 1 acknowledged by carol (state acked)\n")
        let resolve = try await KlaxonProcess.run(["resolve", "1"] + server, environment: ["USER": "dave"])
        #expect(resolve.stdout == "incident 1 resolved by dave (state resolved)\n")
        let again = try await KlaxonProcess.run(["ack", "1"] + server)
        #expect(again.status == 1)
        #expect(again.stderr.contains("answered 409: incident already resolved: incident 1 is already resolved"))
        let none = try await KlaxonProcess.run(["incidents"] + server)
        #expect(none.stdout == "no open incidents\n")
        #expect(await second.stop() == 0)
    }

    /// `ack` and `resolve` print what the server recorded, not their own arguments: an
    /// incident alice acknowledged stays hers when bob acks it too, and bob is told so.
    @Test func ackAndResolvePrintWhatTheServerRecorded() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServerProcess(arguments: arguments)
        #expect(try await server.request(.POST, "/webhook/json/default", body: alert).status == 200)
        let url = ["--server", server.baseURL]
        let alice = try await KlaxonProcess.run(["ack", "1", "--by", "alice"] + url)
        #expect(alice.stdout == "incident 1 acknowledged by alice (state acked)\n")
        let bob = try await KlaxonProcess.run(["ack", "1", "--by", "bob"] + url)
        #expect(bob.status == 0)
        #expect(bob.stdout == "incident 1 was already acknowledged by alice; nothing changed (state acked)\n")
        #expect(try await server.request(.GET, "/api/v1/incidents/1").body.contains(#""acked_by":"alice""#))

        let carol = try await KlaxonProcess.run(["resolve", "1", "--by", "carol"] + url)
        #expect(carol.stdout == "incident 1 resolved by carol (state resolved)\n")
        let dave = try await KlaxonProcess.run(["resolve", "1"] + url, environment: ["USER": "dave"])
        #expect(dave.status == 0)
        #expect(dave.stdout == "incident 1 was already resolved by carol; nothing changed (state resolved)\n")
        #expect(await server.stop() == 0)
    }

    /// The store is opened once: a reload, by `POST /-/reload` or SIGHUP, that names
    /// another is refused and says a restart is needed.
    @Test func aReloadThatChangesTheStoreIsRefused() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = directory.appendingPathComponent("rules.yaml")
        let original = try String(contentsOf: rules, encoding: .utf8)
        let store = "sqlite:" + directory.appendingPathComponent("klaxon.db").path
        try (original + "\nstore: \(store)\n").write(to: rules, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(arguments: ["--config", rules.path])
        try (original + "\nstore: sqlite:other.db\n").write(to: rules, atomically: true, encoding: .utf8)
        let refused = try await server.request(.POST, "/-/reload")
        #expect(refused.status == 400)
        let error = "store changed from \(store) to sqlite:other.db: it takes effect only when klaxon serve restarts"
        #expect(refused.body.contains(error))
        server.process.signal(SIGHUP)
        let deadline = ContinuousClock.now + .seconds(10)
        while server.log().components(separatedBy: error).count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.log().components(separatedBy: error).count == 3, "logged once for each reload:\n\(server.log())")
        #expect(await server.stop() == 0)
    }

    /// An alert that matches no route calls nobody: it is counted and logged as a warning,
    /// so a mistyped label shows before the page it lost is missed.
    @Test func anAlertMatchingNoRouteIsCountedAndLogged() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("rules.yaml")
        let rules = try String(contentsOf: file, encoding: .utf8)
        let narrowed = rules.replacingOccurrences(of: "  - name: all\n", with: "  - name: all\n    match: {instance: db-1}\n")
        #expect(narrowed != rules)
        try narrowed.write(to: file, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(arguments: arguments)
        let stray = alert.replacingOccurrences(of: "db-1", with: "db-9")
        let answer = try await server.request(.POST, "/webhook/json/default", body: stray)
        #expect(answer.status == 200 && answer.body.contains(#""unrouted":1"#))
        let counted = #"klaxon_alerts_unrouted_total{source="json",status="firing"} 1"#
        let deadline = ContinuousClock.now + .seconds(30)
        #expect(try await server.request(.GET, "/metrics").body.contains(counted))
        let warning = "firing alerts match no route: nobody is called for them"
        while !server.log().contains(warning), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.log().contains(warning) && server.log().contains("instance=\"db-9\""), "\(server.log())")
        #expect(await server.stop() == 0)
    }

    /// A call held back by the rate limit is counted (`outcome="held_back"`) and logged as a
    /// warning; when it was the step's only call, the log says nobody is called for it.
    @Test func aCallHeldBackByTheRateLimitIsCountedAndLogged() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("rules.yaml")
        let rules = try String(contentsOf: file, encoding: .utf8)
        try (rules + "\n    rate_limit: {calls: 1, window: 1h}\n").write(to: file, atomically: true, encoding: .utf8)
        let server = try await ServerProcess(arguments: arguments)
        #expect(try await server.request(.POST, "/webhook/json/default", body: alert).status == 200)
        try await waitForCalls(1)
        let other = alert.replacingOccurrences(of: "db-1", with: "db-2")
        #expect(try await server.request(.POST, "/webhook/json/default", body: other).status == 200)
        let heldBack = #"klaxon_calls_total{provider="none",outcome="held_back"} 1"#
        let deadline = ContinuousClock.now + .seconds(30)
        var metrics = try await server.request(.GET, "/metrics").body
        while !metrics.contains(heldBack), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            metrics = try await server.request(.GET, "/metrics").body
        }
        #expect(metrics.contains(heldBack))
        // The log goes out from a thread of its own, 10 ms of lines at a time.
        let warning = "rate limit held back every call of an escalation step: nobody is called for it"
        while !server.log().contains(warning), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.log().contains(warning))
        #expect(calledNames() == ["alice"])
        #expect(await server.stop() == 0)
    }

    /// `/metrics` of the running process after one webhook: the README's metrics, with the
    /// labels it names, and the time the WAL sync took.
    @Test func metricsCountWhatTheWebhookDid() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServerProcess(arguments: arguments)
        #expect(try await server.request(.POST, "/webhook/json/default", body: alert).status == 200)
        func scrape() async throws -> [String: Double] {
            let metrics = try await server.request(.GET, "/metrics").body
            return Dictionary(
                metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (String, Double)? in
                    guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
                    return (String(line[..<space]), value)
                },
                uniquingKeysWith: { first, _ in first }
            )
        }
        // The call is counted once the provider has answered, just after the simulator wrote it down.
        let accepted = #"klaxon_calls_total{provider="sim",outcome="accepted"}"#
        let deadline = ContinuousClock.now + .seconds(30)
        var samples = try await scrape()
        while samples[accepted] == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            samples = try await scrape()
        }
        #expect(samples[#"klaxon_alerts_received_total{source="json",status="firing"}"#] == 1)
        #expect(samples[#"klaxon_escalation_steps_fired_total{route="all"}"#] == 1)
        #expect(samples[accepted] == 1)
        #expect(samples[#"klaxon_vendor_request_seconds_count{provider="sim"}"#] == 1)
        #expect(samples[#"klaxon_http_request_seconds_count{endpoint="/webhook/json/{input}",status="2xx"}"#] == 1)
        #expect((samples["klaxon_store_sync_seconds_count"] ?? 0) >= 1)
        #expect(samples[#"klaxon_store_sync_seconds_bucket{le="+Inf"}"#] == samples["klaxon_store_sync_seconds_count"])
        #expect(samples["klaxon_store_errors_total"] ?? 0 == 0)
        #expect(await server.stop() == 0)
    }

    /// Files that cannot grow, as on a full disk: webhooks whose commit cannot be written
    /// are answered 503 (Alertmanager retries 5xx), every webhook answered 200 is kept, the
    /// process goes on serving, and once the WAL has been copied back and starts over,
    /// webhooks are taken again.
    @Test(.timeLimit(.minutes(2))) func aFullDiskAnswers503AndKeepsWhatWasAnswered200() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        // 2 MiB a file: the WAL reaches it within a burst of webhooks, before a checkpoint
        // has copied it back so that it can start over.
        let server = try await ServerProcess(arguments: arguments, fileSizeLimitBlocks: 4096)
        var accepted: [String] = []
        var refused = 0
        for index in 0..<3000 where refused < 5 {
            let body = #"[{"labels": {"alertname": "Burst\#(index)", "instance": "db-1"}, "severity": "info"}]"#
            let answer = try await server.request(.POST, "/webhook/json/default", body: body)
            switch answer.status {
            case 200: accepted.append("Burst\(index)")
            case 503: refused += 1
            default: Issue.record("webhook \(index) answered \(answer.status): \(answer.body)")
            }
        }
        #expect(refused > 0, "no webhook was refused; \(accepted.count) accepted")
        #expect(try await server.request(.GET, "/healthz").status == 200)
        // Once the WAL has been copied back, it starts over from its beginning: no growth needed.
        var recovered = false
        let deadline = ContinuousClock.now + .seconds(20)
        while !recovered, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let body = #"[{"labels": {"alertname": "After", "instance": "db-1"}, "severity": "info"}]"#
            recovered = try await server.request(.POST, "/webhook/json/default", body: body).status == 200
        }
        #expect(recovered, "webhooks still refused 20 s after the burst")
        let list = try await server.request(.GET, "/api/v1/incidents?state=open&limit=5000")
        #expect(list.status == 200)
        let missing = accepted.filter { !list.body.contains(#""title":"\#($0)""#) }
        #expect(missing.isEmpty, "answered 200 but not kept: \(missing.prefix(5))")
        #expect(await server.stop() == 0)
    }

    @Test func brokenRulesStopTheStartWithTheirErrors() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = directory.appendingPathComponent("rules.yaml")
        try (try String(contentsOf: rules, encoding: .utf8)).replacingOccurrences(of: "escalation: chain", with: "escalation: chian")
            .write(to: rules, atomically: true, encoding: .utf8)
        let result = try await KlaxonProcess.run(["serve"] + arguments)
        #expect(result.status == 1)
        #expect(result.stderr.contains("rules.yaml:"))
        #expect(result.stderr.contains("chian"))
    }

    @Test func unreachableServerIsReported() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await KlaxonProcess.run(["incidents", "--server", "http://127.0.0.1:1"])
        #expect(result.status == 75)
        #expect(result.stderr.hasPrefix("klaxon: cannot reach http://127.0.0.1:1"))
    }
}
