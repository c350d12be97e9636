import Foundation
import Hummingbird
import Testing
import VendorFakes

/// `klaxon call` through real providers against loopback fakes, run as the built binary.
@Suite struct CallCommandTests {
    /// A throw-away rule repository: the people and voices of `rules/` plus `providers`.
    func config(_ providers: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-call-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in ["people.yaml", "voices.yaml", "escalations.yaml"] {
            try FileManager.default.copyItem(
                at: KlaxonProcess.packageRoot.appendingPathComponent("rules/\(file)"),
                to: directory.appendingPathComponent(file)
            )
        }
        try providers.write(to: directory.appendingPathComponent("providers.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    @Test func theSimulatorTakesTheCallAndRecordsIt() async throws {
        let directory = try config(
            """
            providers:
              sim: {type: simulator, record_file: "RECORD"}
            """.replacingOccurrences(
                of: "RECORD",
                with: FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-call-\(UUID().uuidString).jsonl").path
            )
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try await KlaxonProcess.run([
            "call", "--config", directory.path, "--provider", "sim", "--to", "+8613700000009", "--voice", "db-down",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("provider  sim (simulator)"))
        #expect(output.stdout.contains("to        +86137****0009"))
        #expect(output.stdout.contains("answer    accepted, vendor call id sim-"))
        #expect(!output.stdout.contains("+8613700000009"))
    }

    @Test func aWebhookGetsTheRenderedBody() async throws {
        let state = FakeVendorState()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if let fault = try await state.intercept(request, body: body) { return fault }
            return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        try await withFakeServer(router) { baseURL in
            let directory = try config(
                """
                providers:
                  chat:
                    type: webhook
                    url: \(baseURL)/hook
                    headers: {X-Token: "${CHAT_TOKEN}"}
                    body: '{{labels.alertname}} for {{#recipients}}{{name}}{{/recipients}}'
                """
            )
            defer { try? FileManager.default.removeItem(at: directory) }
            let output = try await KlaxonProcess.run(
                ["call", "--config", directory.path, "--provider", "chat", "--to", "+8613700000009", "--voice", "db-down"],
                environment: ["CHAT_TOKEN": "t0ken-value"]
            )
            #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
            #expect(output.stdout.contains("answer    accepted"))
            #expect(!output.stdout.contains("t0ken-value") && !output.stderr.contains("t0ken-value"))
        }
        let requests = await state.requests
        #expect(requests.count == 1)
        #expect(requests.first?.bodyText == "KlaxonTestCall for klaxon-call")
        #expect(requests.first?.headers["x-token"] == "t0ken-value")
    }

    @Test func aRefusalExitsOneWithTheVendorsAnswer() async throws {
        let state = FakeVendorState()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            return try await state.intercept(request, body: body) ?? Response(status: .ok)
        }
        await state.setStandingFault(.respond(status: 403, body: #"{"error":"forbidden"}"#))
        try await withFakeServer(router) { baseURL in
            let directory = try config("providers:\n  chat: {type: webhook, url: \"\(baseURL)/hook\"}\n")
            defer { try? FileManager.default.removeItem(at: directory) }
            let output = try await KlaxonProcess.run([
                "call", "--config", directory.path, "--provider", "chat", "--to", "+8613700000009", "--voice", "db-down",
            ])
            #expect(output.status == 1)
            #expect(output.stdout.contains(#"answer    refused: HTTP 403 webhook.http_403: {"error":"forbidden"}"#))
        }
    }

    @Test func usageErrors() async throws {
        let directory = try config("providers:\n  sim: {type: simulator}\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let unknownProvider = try await KlaxonProcess.run([
            "call", "--config", directory.path, "--provider", "nope", "--to", "+8613700000009", "--voice", "db-down",
        ])
        #expect(unknownProvider.status == 2)
        #expect(unknownProvider.stderr.contains("no provider named \"nope\""))
        let badNumber = try await KlaxonProcess.run([
            "call", "--config", directory.path, "--provider", "sim", "--to", "13700000009", "--voice", "db-down",
        ])
        #expect(badNumber.status == 2)
        let unknownVoice = try await KlaxonProcess.run([
            "call", "--config", directory.path, "--provider", "sim", "--to", "+8613700000009", "--voice", "nope",
        ])
        #expect(unknownVoice.status == 2)
    }

    @Test func aMissingSecretIsAnErrorHere() async throws {
        let directory = try config("providers:\n  bt: {type: bitel, token: \"${KLAXON_TEST_UNSET_TOKEN}\"}\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try await KlaxonProcess.run([
            "call", "--config", directory.path, "--provider", "bt", "--to", "+989120000000", "--voice", "db-down",
        ])
        #expect(output.status == 1)
        #expect(output.stderr.contains("error: environment variable KLAXON_TEST_UNSET_TOKEN is not set"))
    }
}
