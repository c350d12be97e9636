import Foundation
import KlaxonCore

/// A provider that calls nobody: it records each call in memory and, when `record_file`
/// is set, as one JSON line in that file, and accepts it. How the call "ends" is the
/// configured `outcome` (default `answered`), reported by ``statusReport(vendorCallID:)``.
///
/// For the default `rules/`, demos and tests.
public actor SimulatorProvider: VoiceProvider {
    public nonisolated let name: String
    public nonisolated let type = ProviderType.simulator
    public nonisolated let outcome: CallStatus
    private let recordFile: String?
    private let now: @Sendable () -> Date
    public private(set) var calls: [SimulatedCall] = []

    public init(config: ProviderConfig, environment: ProviderEnvironment? = nil) throws(ProviderConfigError) {
        self.name = config.name
        let outcomeName = config.options["outcome"] ?? CallStatus.answered.rawValue
        guard let outcome = CallStatus(rawValue: outcomeName) else {
            throw ProviderConfigError(
                provider: config.name,
                message: "outcome \"\(outcomeName)\" is not one of \(CallStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.outcome = outcome
        self.recordFile = config.options["record_file"].flatMap { $0.isEmpty ? nil : $0 }
        if let environment {
            self.now = environment.now
        } else {
            self.now = { Date() }
        }
    }

    public func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        var results: [RecipientResult] = []
        for recipient in request.recipients {
            guard PhoneNumber.isE164(recipient.phone) else {
                results.append(
                    RecipientResult(
                        recipient: recipient,
                        result: .permanent(VendorError(code: "klaxon.number_unsupported", message: "\(recipient.maskedPhone) is not an E.164 number"))
                    )
                )
                continue
            }
            let call = SimulatedCall(
                time: ISO8601DateFormatter().string(from: now()),
                provider: name,
                callID: request.callID,
                vendorCallID: "sim-\(request.callID)-\(calls.count + 1)",
                recipient: recipient.name,
                phone: recipient.maskedPhone,
                prompt: Self.describe(request.prompt),
                text: request.text,
                params: request.params,
                priority: request.priority,
                outcome: outcome
            )
            do {
                try append(call)
            } catch {
                results.append(
                    RecipientResult(
                        recipient: recipient,
                        result: .retryable(
                            VendorError(code: "klaxon.simulator_io", message: "cannot write \(recordFile ?? ""): \(error.localizedDescription)")
                        )
                    )
                )
                continue
            }
            calls.append(call)
            results.append(RecipientResult(recipient: recipient, result: .accepted(vendorCallID: call.vendorCallID)))
        }
        return results
    }

    /// The report a vendor would send once the simulated call ended.
    public func statusReport(vendorCallID: String) -> CallStatusReport? {
        guard let call = calls.first(where: { $0.vendorCallID == vendorCallID }) else { return nil }
        let talked = call.outcome == .answered || call.outcome == .keyPressed
        return CallStatusReport(
            vendorCallID: call.vendorCallID,
            callID: call.callID,
            status: call.outcome,
            duration: talked ? .seconds(20) : .zero,
            digits: call.outcome == .keyPressed ? "1" : nil,
            vendorCode: "simulated.\(call.outcome.rawValue)"
        )
    }

    private func append(_ call: SimulatedCall) throws {
        guard let recordFile else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(call)
        line.append(UInt8(ascii: "\n"))
        let url = URL(fileURLWithPath: recordFile)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: recordFile) {
            _ = FileManager.default.createFile(atPath: recordFile, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    static func describe(_ prompt: VoicePrompt) -> String {
        switch prompt {
        case .aliyunVoice(let code): "aliyun voice \(code)"
        case .aliyunTTS(let code, _): "aliyun tts \(code)"
        case .huaweiAICC(let playList): "huawei-aicc play list of \(playList.count)"
        case .huaweiV1(let content): "huawei-aicc v1 \(content)"
        case .bitel(let id): "bitel voice \(id)"
        case .infin8linx(let file, _): "infin8linx \(file)"
        case .text(let text): text
        }
    }
}
