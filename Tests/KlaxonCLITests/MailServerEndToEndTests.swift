import Foundation
import KlaxonTestSupport
import NIOHTTP1
import Testing

/// A real mail server (Debian's exim4, installed by scripts/test) receives a message over
/// SMTP from swaks and delivers it through its pipe transport to `klaxon email`.
@Suite("Mail server end to end", .serialized)
struct MailServerEndToEndTests {
    let directory: URL
    let smtpPort: Int
    let klaxonPort: Int

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-mta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("spool"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("log"), withIntermediateDirectories: true)
        smtpPort = try FreePort.pick()
        klaxonPort = try FreePort.pick()
    }

    static let exim = "/usr/sbin/exim4"
    static let swaks = "/usr/bin/swaks"
    /// Exim drops to its own user when run with -C, so the pipe runs as that user too.
    static let eximUser = "Debian-exim"

    func writeConfigs() throws {
        try """
        server:
          api_token: mail-secret
          source_token: source-secret
        providers:
          sim: {type: simulator}
        recipients:
          alice: {phone: "+8613700000001"}
        voices:
          down: {text: "{{labels.alertname}}"}
        escalations:
          chain:
            steps:
              - {after: 0s, notify: [alice]}
        routes:
          - name: all
            voice: down
            providers: [sim]
            escalation: chain
        """.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let spool = directory.appendingPathComponent("spool").path
        try """
        primary_hostname = klaxon-test.localdomain
        spool_directory = \(spool)
        log_file_path = \(directory.path)/log/%slog
        pid_file_path = \(directory.path)/exim.pid
        daemon_smtp_ports = \(smtpPort)
        local_interfaces = 127.0.0.1
        domainlist local_domains = example.com
        acl_smtp_rcpt = acl_check_rcpt
        host_lookup =
        tls_advertise_hosts =

        begin acl
        acl_check_rcpt:
          accept domains = +local_domains
          deny message = relay not permitted

        begin routers
        klaxon:
          driver = accept
          local_parts = ops-alerts
          domains = +local_domains
          transport = klaxon_pipe

        begin transports
        klaxon_pipe:
          driver = pipe
          command = \(KlaxonProcess.binary.path) email --server http://127.0.0.1:\(klaxonPort) --input zabbix-mail
          environment = KLAXON_API_TOKEN=mail-secret
          user = \(Self.eximUser)
          group = \(Self.eximUser)
          temp_errors = 75
          return_fail_output

        begin retry
        *  *  F,1h,1s
        """.write(to: directory.appendingPathComponent("exim.conf"), atomically: true, encoding: .utf8)
        try chownRecursively(directory, to: Self.eximUser)
        // Exim reads a configuration only when root owns it and nobody else may write it.
        try FileManager.default.setAttributes(
            [.ownerAccountName: "root", .groupOwnerAccountName: "root", .posixPermissions: 0o644],
            ofItemAtPath: directory.appendingPathComponent("exim.conf").path
        )
    }

    func chownRecursively(_ url: URL, to user: String) throws {
        let attributes: [FileAttributeKey: Any] = [.ownerAccountName: user, .groupOwnerAccountName: user]
        try FileManager.default.setAttributes(attributes, ofItemAtPath: url.path)
        for case let path as String in FileManager.default.enumerator(atPath: url.path) ?? .init() {
            try FileManager.default.setAttributes(attributes, ofItemAtPath: url.appendingPathComponent(path).path)
        }
    }

    func startExim() async throws -> Daemon {
        let port = smtpPort
        return try await Daemon(binary: Self.exim, arguments: ["-C", directory.appendingPathComponent("exim.conf").path, "-bdf"]) {
            isListening(port: port)
        }
    }

    func startKlaxon() async throws -> ServerProcess {
        try await ServerProcess(
            arguments: [
                "--config", directory.appendingPathComponent("rules.yaml").path, "--config", "examples/inputs/zabbix-mail.yaml",
                "--store", "sqlite:" + directory.appendingPathComponent("klaxon.db").path,
            ],
            listen: "127.0.0.1:\(klaxonPort)"
        )
    }

    func sendMail(_ example: String) async throws -> KlaxonProcess.Output {
        try await Subprocess.run(
            Self.swaks,
            [
                "--server", "127.0.0.1:\(smtpPort)", "--from", "zabbix@example.com", "--to", "ops-alerts@example.com",
                "--data", KlaxonProcess.packageRoot.appendingPathComponent(example).path,
            ]
        )
    }

    func incidents(_ klaxon: ServerProcess) async throws -> [[String: Any]] {
        let answer = try await HTTP.send(.GET, klaxon.baseURL + "/api/v1/incidents?state=all", headers: [("Authorization", "Bearer mail-secret")])
        let body = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        return body?["incidents"] as? [[String: Any]] ?? []
    }

    func eximLog() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("log/mainlog"), encoding: .utf8)) ?? ""
    }

    func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what); exim's log:\n\(eximLog())")
    }

    @Test func aMailDeliveredThroughThePipeOpensAnIncident() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.exim), "exim4 is not installed: scripts/test installs exim4-daemon-light")
        try #require(FileManager.default.isExecutableFile(atPath: Self.swaks), "swaks is not installed: scripts/test installs it")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeConfigs()
        let klaxon = try await startKlaxon()
        let exim = try await startExim()
        defer { exim.stop() }

        let sent = try await sendMail("examples/emails/zabbix-problem.eml")
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        try await waitFor("the incident") { try await incidents(klaxon).count == 1 }
        #expect(try await incidents(klaxon).first?["title"] as? String == "High CPU utilization (over 90% for 5m)")
        #expect(try await incidents(klaxon).first?["state"] as? String == "open")

        // The recovery mail is a reply in the problem's thread: it resolves the incident.
        #expect(try await sendMail("examples/emails/zabbix-recovery.eml").status == 0)
        try await waitFor("the resolve") { try await incidents(klaxon).first?["state"] as? String == "resolved" }
        #expect(eximLog().contains("=> ops-alerts <ops-alerts@example.com> R=klaxon T=klaxon_pipe"))
        #expect(await klaxon.stop() == 0)
    }

    @Test func whileKlaxonIsDownTheMailServerDefersAndDeliversLater() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.exim), "exim4 is not installed: scripts/test installs exim4-daemon-light")
        try #require(FileManager.default.isExecutableFile(atPath: Self.swaks), "swaks is not installed: scripts/test installs it")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeConfigs()
        let exim = try await startExim()
        defer { exim.stop() }

        #expect(try await sendMail("examples/emails/zabbix-problem.eml").status == 0)
        try await waitFor("the deferral") { eximLog().contains("returned 75") }
        #expect(eximLog().contains("== ops-alerts@example.com R=klaxon T=klaxon_pipe defer"))

        let klaxon = try await startKlaxon()
        let queueRun = try await Subprocess.run(Self.exim, ["-C", directory.appendingPathComponent("exim.conf").path, "-qff"])
        #expect(queueRun.status == 0)
        try await waitFor("the delivery") { try await incidents(klaxon).count == 1 }
        #expect(eximLog().contains("=> ops-alerts <ops-alerts@example.com> R=klaxon T=klaxon_pipe"))
        #expect(await klaxon.stop() == 0)
    }
}

/// Runs any program to completion on a thread of its own.
enum Subprocess {
    static func run(_ path: String, _ arguments: [String]) async throws -> KlaxonProcess.Output {
        let (output, descriptor) = try makeLogFile(name: "klaxon-sub")
        defer { try? FileManager.default.removeItem(at: output) }
        let child: ChildProcess
        do {
            defer { close(descriptor) }
            child = try ChildProcess(path, arguments, stdout: descriptor, stderr: descriptor)
        }
        let status = await child.exitStatus()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return KlaxonProcess.Output(status: status, stdout: text, stderr: "")
    }
}
