import ArgumentParser
import Foundation
import NIOHTTP1

/// `klaxon incidents`: lists incidents from a running server.
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "List incidents of a running klaxon.",
        discussion: """
            The API token comes from --token-file or KLAXON_API_TOKEN. Exits 75 when the server cannot be reached or \
            answers 5xx, 77 when it refuses the token, 1 for anything else that fails.
            """
    )

    enum State: String, ExpressibleByArgument, CaseIterable {
        case open, acked, resolved, active, all
    }

    @OptionGroup var api: APIOptions

    @Option(help: "Which incidents: open, acked, resolved, active (open or acked) or all.")
    var state: State = .open

    @Option(help: "At most this many incidents, newest first (1 to 10000).")
    var limit = 500

    @Flag(help: "Print the server's JSON as it is.")
    var json = false

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000, got \(limit)") }
    }

    func run() async throws {
        let answer = try await APIClient.request(api, .GET, "/api/v1/incidents?state=\(state.rawValue)&limit=\(limit)")
        if json {
            print(answer.text)
            return
        }
        let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        // A proxy's or another server's page must not read as "no open incidents".
        guard let incidents = object?["incidents"] as? [[String: Any]] else { throw APIClient.unexpected(answer, api: api) }
        guard !incidents.isEmpty else {
            print("no \(state == .all ? "" : state.rawValue + " ")incidents")
            return
        }
        let rows = incidents.map { incident -> [String] in
            [
                "\(incident["id"] ?? "")", "\(incident["state"] ?? "")", "\(incident["severity"] ?? "")",
                "\(incident["route"] ?? "")", "\(incident["count"] ?? "")", "\(incident["opened_at"] ?? "")",
                "\(incident["title"] ?? "")",
            ]
        }
        printTable(header: ["ID", "STATE", "SEVERITY", "ROUTE", "COUNT", "OPENED", "TITLE"], rows: rows)
        if object?["truncated"] as? Bool == true {
            StandardError.print("only the newest \(incidents.count) are shown; more incidents match (--limit, up to 10000)")
        }
    }

    private func printTable(header: [String], rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let padded = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(padded.joined(separator: "  "))
        }
    }
}

/// `klaxon ack ID`: acknowledges an incident; its escalation stops.
struct AckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an incident: its escalation stops.")

    @Argument(help: "The incident's id.")
    var id: Int64

    @Option(help: "Who acknowledges (default: $USER).")
    var by: String?

    @OptionGroup var api: APIOptions

    func run() async throws {
        try await changeIncident(api, id: id, action: "ack", by: by, done: "acknowledged")
    }
}

/// `klaxon resolve ID`: resolves an incident by hand.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Resolve an incident by hand: its escalation stops.")

    @Argument(help: "The incident's id.")
    var id: Int64

    @Option(help: "Who resolves (default: $USER).")
    var by: String?

    @OptionGroup var api: APIOptions

    func run() async throws {
        try await changeIncident(api, id: id, action: "resolve", by: by, done: "resolved")
    }
}

/// Asks the server to ack or resolve and prints what it answered: the API answers an
/// incident already in that state with it unchanged, by whoever put it there.
private func changeIncident(_ api: APIOptions, id: Int64, action: String, by: String?, done: String) async throws {
    let asked = (by ?? ProcessInfo.processInfo.environment["USER"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    let actor = asked.isEmpty ? "cli" : asked
    let body = try JSONSerialization.data(withJSONObject: ["by": actor])
    let answer = try await APIClient.request(api, .POST, "/api/v1/incidents/\(id)/\(action)", body: Array(body))
    let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
    // Anything but the incident in the state asked for (a proxy's login page answering 200)
    // is a failure: the escalation may still ring.
    guard let state = object?["state"] as? String, state == (action == "ack" ? "acked" : "resolved") else {
        throw APIClient.unexpected(answer, api: api)
    }
    let recorded = object?[action == "ack" ? "acked_by" : "resolved_by"] as? String
    // The server keeps at most 200 characters of a name.
    if let recorded, recorded == String(actor.prefix(200)) {
        print("incident \(id) \(done) by \(recorded) (state \(state))")
    } else {
        print("incident \(id) was already \(done)\(recorded.map { " by \($0)" } ?? ""); nothing changed (state \(state))")
    }
}

extension APIClient {
    /// Prints that a 2xx answer is not what klaxon's API answers, and exits 1.
    static func unexpected(_ answer: Answer, api: APIOptions) -> ExitCode {
        let start = String(decoding: answer.body.prefix(120), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        StandardError.print("klaxon: \(api.server) answered \(answer.status) with something other than klaxon's API answer (a proxy?): \(start)")
        return ExitCode(1)
    }

    /// Sends a request and returns a 2xx answer; prints the reason and exits otherwise: 75
    /// (EX_TEMPFAIL) when the server cannot be reached or answers 5xx (retry later), 77
    /// (EX_NOPERM) when it refuses the token, 1 for anything else (an unknown incident, one
    /// already resolved, a bad argument), so scripts can tell them apart.
    static func request(_ api: APIOptions, _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws -> Answer {
        let client: APIClient
        do {
            client = try APIClient(api)
        } catch {
            StandardError.print("klaxon: \(error)")
            throw ExitCode(1)
        }
        let server = api.server
        let answer: Answer
        do {
            answer = try await client.send(method, path, body: body)
        } catch {
            StandardError.print("klaxon: cannot reach \(server): \(error)")
            throw ExitCode(75)
        }
        guard (200..<300).contains(answer.status) else {
            StandardError.print("klaxon: \(server) answered \(answer.status): \(errorLine(answer))")
            switch answer.status {
            case 401, 403: throw ExitCode(77)
            case 500..<600: throw ExitCode(75)
            default: throw ExitCode(1)
            }
        }
        return answer
    }
}
