import Foundation
import KlaxonCore
import Testing

@testable import KlaxonIngest

/// Hostile and mangled input: parsing must return or throw, never trap or hang. The time
/// these take is measured by `bench/klaxon-bench` in a release build, never asserted here.
@Suite struct EmailRobustnessTests {
    /// Parses and maps, discarding the outcome: the only thing checked is that it comes back.
    private func survive(_ bytes: [UInt8]) {
        _ = try? EmailAdapter.alerts(from: bytes, mapping: Self.mapping, input: "fuzz")
    }

    private static let mapping: EmailMapping = {
        do {
            return EmailMapping(
                subjectPatterns: [try EmailPattern(#"^\[[A-Z]+(?::\d+)?\] (?<alertname>\S+)"#)],
                bodyPatterns: [try EmailPattern(#"(?m)^ - instance = (?<instance>\S+)"#)],
                fields: .annotation,
                severityMap: ["high": "critical"],
                senders: ["@example.com"]
            )
        } catch {
            fatalError("\(error)")
        }
    }()

    /// SplitMix64: a seeded generator so a failure reproduces.
    private struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
    }

    @Test(arguments: ["zabbix-problem.eml", "nested-multipart.eml", "gbk-subject-gb2312-body.eml", "attachment.eml", "big5.eml"])
    func everyPrefixOfARealMessage(name: String) async throws {
        let message = try Fixtures.email(name)
        for length in 0...message.count {
            survive(Array(message[0..<length]))
            // CPU-bound loops yield so the loopback servers of parallel tests keep answering.
            if length % 64 == 0 { await Task.yield() }
        }
    }

    @Test func seededRandomMutations() async throws {
        let sources = try ["alertmanager-0.25-firing.eml", "grafana-firing.eml", "nested-multipart.eml", "qp-soft-breaks.eml"].map(Fixtures.email)
        var random = SeededGenerator(state: 0x6B6C_6178_6F6E)
        let interesting: [[UInt8]] = ["\r\n", "\n", "--", "=", "=?", "?=", ":", " ", "<", "&", "\0", "\u{FF}", "=?GBK?B?", "boundary="].map {
            Array($0.utf8)
        }
        for round in 0..<600 {
            var bytes = sources[round % sources.count]
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                guard !bytes.isEmpty else { break }
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(contentsOf: interesting.randomElement(using: &random)!, at: position)
                case 3:
                    let end = min(bytes.count, position + Int.random(in: 1...200, using: &random))
                    bytes.removeSubrange(position..<end)
                case 4:
                    let end = min(bytes.count, position + Int.random(in: 1...200, using: &random))
                    bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &random))
                default: bytes = Array(bytes[0..<position])
                }
            }
            survive(bytes)
            await Task.yield()
        }
    }

    @Test func hostileMessagesOfOneMebibyte() async throws {
        for (name, message) in HostileMail.all() {
            #expect(message.count <= EmailLimits.default.maxBytes, "\(name)")
            do {
                _ = try RFC5322Parser.parse(message)
            } catch {
                #expect(error.code == .malformedMessage, "\(name): \(error)")
            }
            await Task.yield()
            survive(message)
            await Task.yield()
        }
    }

    @Test func hostileOutcomes() throws {
        let all = Dictionary(uniqueKeysWithValues: HostileMail.all())
        #expect(throws: IngestError.self) { try RFC5322Parser.parse(all["nested boundaries"]!) }
        #expect(throws: IngestError.self) { try RFC5322Parser.parse(all["sibling parts"]!) }
        #expect(throws: IngestError.self) { try RFC5322Parser.parse(all["many header fields"]!) }
        let huge = try RFC5322Parser.parse(all["huge encoded subject"]!)
        #expect(huge.subject.hasPrefix(String(repeating: "告警", count: EncodedWords.maxWords)))
        let alert = try EmailAdapter.alert(from: huge, mapping: .default)
        #expect((alert.labels["alertname"]?.count ?? 0) <= EmailAdapter.labelValueLimit + 1)
        #expect((alert.annotations["subject"]?.count ?? 0) <= EmailAdapter.subjectLimit + 1)
        let folded = try RFC5322Parser.parse(all["folded header"]!)
        #expect(folded.subject.count > 500_000)
        let stars = try EmailAdapter.alert(from: try RFC5322Parser.parse(all["trailing stars"]!), mapping: .default)
        #expect(stars.labels["alertname"] == "x" && stars.status == .firing)
        let unclosed = try RFC5322Parser.parse(all["unclosed encoded words"]!)
        #expect(unclosed.subject.hasPrefix("=?utf-8?q?a=?utf-8?q?a"))
        let invalid = try RFC5322Parser.parse(all["invalid GBK"]!)
        #expect(invalid.text.unicodeScalars.allSatisfy { $0 == "\u{FFFD}" || $0 == "\n" })
    }
}
