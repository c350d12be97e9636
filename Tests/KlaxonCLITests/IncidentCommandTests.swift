import Foundation
import Hummingbird
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
}
