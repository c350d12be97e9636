import Foundation
import KlaxonCore
import KlaxonProviders
import Testing

@Suite struct SimulatorProviderTests {
    @Test func recordsEachCallInMemoryAndAsJSONLines() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-sim-\(UUID().uuidString)/calls.jsonl")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let config = ProviderConfig(name: "sim", type: .simulator, options: ["outcome": "busy", "record_file": file.path])
        let simulator = try SimulatorProvider(config: config)
        let request = CallRequest(
            callID: "0123456789ab",
            recipients: [CallRecipient(name: "alice", phone: "+8613700000001"), CallRecipient(name: "bob", phone: "+8613700000002")],
            prompt: .text("db-1 is down"),
            params: ["db-1"],
            text: "db-1 is down",
            priority: 1
        )
        let results = await simulator.placeCalls(request)
        #expect(results.map(\.result) == [.accepted(vendorCallID: "sim-0123456789ab-1"), .accepted(vendorCallID: "sim-0123456789ab-2")])
        #expect(await simulator.calls.map(\.recipient) == ["alice", "bob"])
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains(#""call_id":"0123456789ab""#))
        #expect(lines[0].contains(#""phone":"+86137****0001""#))
        #expect(!lines[0].contains("+8613700000001"))
        #expect(lines[0].contains(#""outcome":"busy""#))
        let report = try #require(await simulator.statusReport(vendorCallID: "sim-0123456789ab-2"))
        #expect(report.status == .busy)
        #expect(report.callID == "0123456789ab")
    }

    @Test func refusesAnUnknownOutcome() {
        #expect(throws: ProviderConfigError.self) {
            try SimulatorProvider(config: ProviderConfig(name: "sim", type: .simulator, options: ["outcome": "maybe"]))
        }
    }
}
