import Foundation
import NIOHTTP1
import Testing

/// `klaxon email` as a mail server runs it: a message on stdin, an exit code back.
@Suite("klaxon email", .serialized)
struct EmailCommandTests {
    let directory: URL
    var rulesPath: String { directory.appendingPathComponent("rules.yaml").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-email-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
        server:
          api_token: mail-secret
          source_token: source-secret
        providers:
          sim: {type: simulator, record_file: \(directory.appendingPathComponent("calls.jsonl").path)}
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
        """.write(toFile: rulesPath, atomically: true, encoding: .utf8)
    }

    func serve() async throws -> ServerProcess {
        try await ServerProcess(arguments: [
            "--config", rulesPath, "--config", "examples/inputs/zabbix-mail.yaml",
            "--store", "sqlite:" + directory.appendingPathComponent("klaxon.db").path,
        ])
    }

    func email(_ file: String, server: ServerProcess?, token: String = "mail-secret", extra: [String] = []) async throws -> KlaxonProcess.Output {
        let message =
            file.hasPrefix("/") || file.hasPrefix("examples")
            ? try Data(contentsOf: URL(fileURLWithPath: file, relativeTo: KlaxonProcess.packageRoot)) : Data(file.utf8)
        return try await KlaxonProcess.run(
            ["email", "--server", server?.baseURL ?? "http://127.0.0.1:1", "--input", "zabbix-mail"] + extra,
            stdin: message,
            environment: ["KLAXON_API_TOKEN": token]
        )
    }

    @Test func problemThenRecoveryOpensAndResolvesTheIncident() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await serve()
        let problem = try await email("examples/emails/zabbix-problem.eml", server: server)
        #expect(problem.status == 0)
        #expect(problem.stderr.hasPrefix("klaxon email: accepted by \(server.baseURL) (input zabbix-mail): 1 incident(s) opened"))
        let recovery = try await email("examples/emails/zabbix-recovery.eml", server: server)
        #expect(recovery.status == 0)
        let detail = try await server.request(.GET, "/api/v1/incidents/1")
        #expect(detail.status == 401)
        let list = try await KlaxonProcess.run(
            ["incidents", "--state", "all", "--server", server.baseURL],
            environment: ["KLAXON_API_TOKEN": "mail-secret"]
        )
        #expect(list.stdout.contains("resolved"))
        #expect(list.stdout.contains("High CPU utilization"))
        #expect(await server.stop() == 0)
    }

    /// Postfix and exim pass pipes a clean environment: the token comes from a file.
    @Test func theTokenComesFromAFileWhenTheEnvironmentHasNone() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("mail-token").path
        try "  mail-secret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try await serve()
        let fromFile = try await email("examples/emails/zabbix-problem.eml", server: server, token: "", extra: ["--token-file", tokenFile])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        // The file wins over a stale environment.
        let overEnvironment = try await email(
            "examples/emails/zabbix-recovery.eml",
            server: server,
            token: "old",
            extra: ["--token-file", tokenFile]
        )
        #expect(overEnvironment.status == 0, "\(overEnvironment.stderr)")

        let missing = try await email("examples/emails/zabbix-problem.eml", server: server, extra: ["--token-file", tokenFile + ".nosuch"])
        #expect(missing.status == 75)
        #expect(
            missing.stderr
                == "klaxon email: cannot read the token file \(tokenFile).nosuch: No such file or directory; the mail server should retry\n"
        )
        let empty = directory.appendingPathComponent("empty").path
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let blank = try await email("examples/emails/zabbix-problem.eml", server: server, extra: ["--token-file", empty])
        #expect(blank.status == 75)
        #expect(blank.stderr == "klaxon email: cannot read the token file \(empty): the file is empty; the mail server should retry\n")

        let list = try await KlaxonProcess.run(["incidents", "--state", "all", "--server", server.baseURL, "--token-file", tokenFile])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("resolved"))
        let unreadable = try await KlaxonProcess.run(["incidents", "--server", server.baseURL, "--token-file", directory.path])
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr == "klaxon: cannot read the token file \(directory.path): Is a directory\n")
        #expect(await server.stop() == 0)
    }

    @Test func exitCodesTellTheMailServerWhatToDo() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        // Server down: keep the message and retry.
        let down = try await email("examples/emails/zabbix-problem.eml", server: nil)
        #expect(down.status == 75)
        #expect(down.stderr.hasPrefix("klaxon email: cannot reach http://127.0.0.1:1"))

        let server = try await serve()
        let garbage = try await email("\u{1}\u{2}binary garbage without headers", server: server)
        #expect(garbage.status == 65)
        #expect(garbage.stderr.hasPrefix("klaxon email: unusable message (400): invalid email payload"))

        // A refused sender or token bounces (EX_NOPERM, as DESIGN.md says).
        let stranger = try await email("From: mallory@example.net\r\nSubject: Problem: x\r\n\r\nbody\r\n", server: server)
        #expect(stranger.status == 77)
        #expect(stranger.stderr.contains("(403)"))

        // No token at all is a setup slip: the mail waits in the queue.
        let noToken = try await KlaxonProcess.run(
            ["email", "--server", server.baseURL],
            stdin: Data("Subject: x\r\n\r\ny\r\n".utf8),
            environment: ["KLAXON_API_TOKEN": ""]
        )
        #expect(noToken.status == 75)
        #expect(noToken.stderr.contains("wants a token and none was given"))

        let badToken = try await email("examples/emails/zabbix-problem.eml", server: server, token: "wrong")
        #expect(badToken.status == 77)
        #expect(badToken.stderr == "klaxon email: \(server.baseURL) refused the message (401): unauthorized\n")

        // A message over the limit (a big attachment) is cut, not bounced: its headers and
        // text come first.
        let huge = String(repeating: "x", count: 2 << 20)
        let tooLarge = try await email("From: <zabbix@example.com>\r\nSubject: Problem: big\r\n\r\n" + huge, server: server)
        #expect(tooLarge.status == 0, "\(tooLarge.stderr)")
        #expect(tooLarge.stderr.hasPrefix("klaxon email: accepted by"), "\(tooLarge.stderr)")
        #expect(tooLarge.stderr.contains("larger than 1048576 bytes and its first 1048576 were submitted"))

        let unknownInput = try await KlaxonProcess.run(
            ["email", "--server", server.baseURL, "--input", "nosuch"],
            stdin: Data("Subject: x\r\n\r\ny\r\n".utf8),
            environment: ["KLAXON_API_TOKEN": "mail-secret"]
        )
        #expect(unknownInput.status == 75)
        #expect(await server.stop() == 0)
    }
}
