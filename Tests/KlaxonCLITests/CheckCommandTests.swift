import Foundation
import Testing

@Suite struct CheckCommandTests {
    @Test func theExampleRepositoryIsValid() async throws {
        let output = try await KlaxonProcess.run(["check", "rules"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    @Test func everyVendorExampleChecksWithTheRules() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: KlaxonProcess.packageRoot.appendingPathComponent("examples/providers").path)
        #expect(files.count >= 6)
        for file in files.sorted() {
            let output = try await KlaxonProcess.run(["check", "rules", "examples/providers/\(file)"])
            #expect(output.status == 0, "\(file): \(output.stdout)")
            // Credentials come from the environment, which CI does not have: warnings only.
            #expect(output.stderr.contains("warning: environment variable"), "\(file)")
        }
        let inputs = try FileManager.default.contentsOfDirectory(atPath: KlaxonProcess.packageRoot.appendingPathComponent("examples/inputs").path)
        for file in inputs.sorted() {
            let output = try await KlaxonProcess.run(["check", "rules", "examples/inputs/\(file)"])
            #expect(output.status == 0, "\(file): \(output.stdout)")
        }
    }

    /// A person a route's escalation calls whom none of its providers can call is an error:
    /// Aliyun refuses a German number for good, and that person would never be paged. With
    /// a second provider that can call it, the file is fine.
    @Test func aPersonNoProviderOfTheRouteCanCallIsAnError() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = """
            providers:
              ali: {type: aliyun, access_key_id: id, access_key_secret: secret}
              hook: {type: webhook, url: "https://pager.example.com/call"}
            recipients:
              alice: {phone: "+8613700000001"}
              hans: {phone: "+4915112345678"}
            voices:
              down: {text: "down", aliyun: {voice_code: d.wav}}
            escalations:
              primary:
                steps: [{after: 0s, notify: [alice, hans]}]
            routes:
              - {name: all, voice: down, escalation: primary, providers: [ali]}
            """
        let file = directory.appendingPathComponent("rules.yaml")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        let refused = try await KlaxonProcess.run(["check", file.path])
        #expect(refused.status == 1)
        #expect(
            refused.stdout.contains(
                "\(file.path):6:3: error: recipients.hans: route \"all\" calls hans through ali, and none of them can call this number (ali: Aliyun calls mainland China (+86) numbers only"
            ),
            "\(refused.stdout)"
        )
        try rules.replacingOccurrences(of: "providers: [ali]", with: "providers: [ali, hook]").write(to: file, atomically: true, encoding: .utf8)
        let fine = try await KlaxonProcess.run(["check", file.path])
        #expect(fine.status == 0, "\(fine.stdout)")
    }

    @Test func aBrokenRepositoryGetsEveryErrorWithItsPositionSortedAndExitsOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("klaxon-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        recipients:
          alice: {phone: "+8613700000001"}
        escalations:
          primary:
            steps:
              - after: 5m
                notify: [alice]
              - after: 1m
                notify: [bobby]
        """.write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try """
        providers:
          ali:
            type: aliyun
            access_key_id: ${NOT_SET_ANYWHERE_1}
            access_key_secret: x
        routes:
          - matchers: ['team=~"db("']
            escalaton: primary
        """.write(to: directory.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let output = try await KlaxonProcess.run(["check", directory.path])
        #expect(output.status == 1)
        let lines = output.stdout.split(separator: "\n").map(String.init)
        let a = directory.appendingPathComponent("a.yaml").path
        let b = directory.appendingPathComponent("b.yaml").path
        #expect(lines.first == "\(a):8:16: error: escalations.primary.steps[1].after: 1m must be later than the step before it (5m)")
        #expect(lines.contains { $0.hasPrefix("\(a):9:18: error: escalations.primary.steps[1].notify: no recipient named \"bobby\"") })
        #expect(lines.contains("\(b):7:24: error: routes[0].matchers: bad regex \"db(\": missing closing )"))
        #expect(lines.contains("\(b):8:5: error: unknown key \"escalaton\" in routes[0] (did you mean \"escalation\"?)"))
        #expect(lines.allSatisfy { $0.contains(": error: ") })
        #expect(lines.contains { $0.hasPrefix("\(b):7:5: error: routes[0] sets no escalation and inherits none") })
        #expect(lines.count == 7)
        #expect(lines.firstIndex { $0.hasPrefix(b) }! > lines.lastIndex { $0.hasPrefix(a) }!)
        #expect(output.stderr.contains("\(b):4:20: warning: environment variable NOT_SET_ANYWHERE_1 is not set"))
    }

    @Test func aMissingPathIsAUsageError() async throws {
        let output = try await KlaxonProcess.run(["check", "does/not/exist"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("no such file or directory: does/not/exist"))
    }
}
