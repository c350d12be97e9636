import ArgumentParser
import Foundation
import NIOHTTP1

/// `klaxon email`: the mail server's pipe. Reads one message on stdin and submits it raw
/// to `POST /webhook/email/{input}`; the exit code tells the mail server what to do.
struct EmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "email",
        abstract: "Submit one e-mail read on stdin (a mail server's pipe) to a running klaxon.",
        discussion: """
            Exit codes follow sysexits, as mail servers expect: 0 accepted; 65 (EX_DATAERR) the
            message cannot become an alert, so the mail server bounces it; 75 (EX_TEMPFAIL) the
            server is unreachable, timed out, answered 5xx or does not know the input, or the
            token file cannot be read, so the mail server keeps the message and retries; 77
            (EX_NOPERM) credentials or sender rejected. One line on stderr says what happened
            (mail servers copy it into bounces). The token comes from --token-file, else
            KLAXON_API_TOKEN (mail servers pass pipes a clean environment).
            """
    )

    static let accepted: Int32 = 0
    static let dataError: Int32 = 65
    static let tempFail: Int32 = 75
    static let noPermission: Int32 = 77

    @OptionGroup var api: APIOptions
    var server: String { api.server }

    @Option(help: "The input under inputs: (type: email) that maps the message.")
    var input = "default"

    @Option(help: "Largest message submitted, in bytes; of a larger one the first this many are (headers and text come first).")
    var maxBytes = 1 << 20

    @Option(help: "Seconds to wait for the server.")
    var timeout = 30

    func run() async throws {
        var message = FileHandle.standardInput.readData(ofLength: maxBytes + 1)
        var cut = ""
        if message.count > maxBytes {
            // A big attachment (a graph, a log) must not bounce the alert: the headers and the
            // text come first, and the MIME reader takes a last part that runs to the end.
            message = message.prefix(maxBytes)
            while !FileHandle.standardInput.readData(ofLength: 1 << 16).isEmpty {}
            cut = "; the message was larger than \(maxBytes) bytes and its first \(maxBytes) were submitted"
        }
        var client: APIClient
        do {
            client = try APIClient(api)
        } catch {
            finish(Self.tempFail, "\(error); the mail server should retry")
        }
        client.timeout = .seconds(timeout)
        let path = "/webhook/email/" + (input.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? input)
        let answer: APIClient.Answer
        do {
            answer = try await client.send(.POST, path, body: Array(message), contentType: "message/rfc822")
        } catch {
            finish(Self.tempFail, "cannot reach \(server): \(error); the mail server should retry")
        }
        switch answer.status {
        case 200..<300:
            let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            let opened = (object?["opened"] as? [Any])?.count ?? 0
            let updated = (object?["updated"] as? [Any])?.count ?? 0
            finish(Self.accepted, "accepted by \(server) (input \(input)): \(opened) incident(s) opened, \(updated) updated\(cut)")
        case 401 where client.token == nil:
            // No token at all is a setup slip (a pipe's clean environment, no --token-file),
            // like an unreadable token file: the mail waits in the queue until it is fixed.
            finish(
                Self.tempFail,
                "\(server) wants a token and none was given (set --token-file PATH, or KLAXON_API_TOKEN); the mail server should retry"
            )
        case 401, 403:
            finish(Self.noPermission, "\(server) refused the message (\(answer.status)): \(APIClient.errorLine(answer))")
        case 404, 408, 429, 500..<600:
            finish(Self.tempFail, "\(server) answered \(answer.status): \(APIClient.errorLine(answer)); the mail server should retry")
        default:
            finish(Self.dataError, "unusable message (\(answer.status)): \(APIClient.errorLine(answer))\(cut)")
        }
    }

    private func finish(_ code: Int32, _ line: String) -> Never {
        StandardError.print("klaxon email: " + line)
        Foundation.exit(code)
    }
}
