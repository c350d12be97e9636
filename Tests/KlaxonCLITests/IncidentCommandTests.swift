import Foundation
import Hummingbird
import KlaxonTestSupport
import Testing
import VendorFakes

/// `klaxon incidents`, `ack` and `resolve` against something that is not klaxon's API.
@Suite struct IncidentCommandTests {
    /// A proxy's login page answering 200 to everything: no command may read it as success
    /// (an ack that did not happen leaves the escalation ringing).
    @Test func anAnswerThatIsNotKlaxonsFailsTheCommand() async throws {
        let router = Router()
        let page: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html>Sign in</html>")))
        }
        router.get("/api/v1/incidents", use: page)
        router.post("/api/v1/incidents/:id/:action", use: page)
        try await withFakeServer(router) { baseURL in
            for arguments in [["ack", "5"], ["resolve", "5"], ["incidents"]] {
                let output = try await KlaxonProcess.run(arguments + ["--server", baseURL], environment: ["KLAXON_API_TOKEN": "t"])
                #expect(output.status == 1, "\(arguments): \(output.stdout)")
                #expect(output.stderr.contains("answered 200 with something other than klaxon's API answer"), "\(output.stderr)")
                #expect(!output.stdout.contains("acknowledged") && !output.stdout.contains("no open incidents"))
            }
        }
    }

    /// A list the server cut says so, and `--limit` asks for more.
    @Test func aCutListSaysSo() async throws {
        let router = Router()
        router.get("/api/v1/incidents") { request, _ -> Response in
            let limit = request.uri.queryParameters["limit"].map(String.init) ?? "none"
            let body = #"{"incidents":[{"id":9,"state":"open","title":"limit \#(limit)"}],"truncated":true}"#
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await withFakeServer(router) { baseURL in
            let output = try await KlaxonProcess.run(["incidents", "--limit", "1", "--server", baseURL], environment: ["KLAXON_API_TOKEN": "t"])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("limit 1"), "\(output.stdout)")
            #expect(output.stderr.contains("only the newest 1 are shown; more incidents match"), "\(output.stderr)")
            let refused = try await KlaxonProcess.run(["incidents", "--limit", "0", "--server", baseURL], environment: ["KLAXON_API_TOKEN": "t"])
            #expect(refused.status != 0)
        }
    }

    /// Scripts tell "retry later" (75: unreachable, 5xx) from "wrong token" (77) from the rest (1).
    @Test func exitCodesSayWhetherToRetry() async throws {
        let router = Router()
        router.post("/api/v1/incidents/:id/ack") { _, context -> Response in
            let status: HTTPResponse.Status =
                switch context.parameters.get("id") {
                case "401": .unauthorized
                case "503": .serviceUnavailable
                default: .notFound
                }
            return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"x","detail":"y"}"#)))
        }
        try await withFakeServer(router) { baseURL in
            for (id, code) in [("401", Int32(77)), ("503", 75), ("404", 1)] {
                let output = try await KlaxonProcess.run(["ack", id, "--server", baseURL], environment: ["KLAXON_API_TOKEN": "t"])
                #expect(output.status == code, "\(id): \(output.stderr)")
            }
        }
        let port = try FreePort.pick()
        let unreachable = try await KlaxonProcess.run(["incidents", "--server", "http://127.0.0.1:\(port)"], environment: ["KLAXON_API_TOKEN": "t"])
        #expect(unreachable.status == 75, "\(unreachable.stderr)")
    }
}
