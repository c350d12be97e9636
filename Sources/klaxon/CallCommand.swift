import ArgumentParser
import AsyncHTTPClient
import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonRules
import Logging

/// `klaxon call`: places one real call through a configured provider and prints the
/// vendor's answer, so a user can check credentials before trusting a route.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Place one test call through a configured provider.",
        discussion: """
            Loads the rules as `serve` does (every ${NAME} must be set), renders the voice for
            the provider, sends exactly one request and prints the vendor's answer. Secrets are
            never printed; the number is masked. Exits 0 when the vendor took the call, 1 when
            it refused or could not be reached, 2 on usage errors.
            """
    )

    @Option(help: "The provider's name under providers:.")
    var provider: String

    @Option(help: "The number to call, in E.164 (+8613700000000).")
    var to: String

    @Option(help: "The voice's name under voices:.")
    var voice: String

    @Option(name: .customLong("param"), help: "A template parameter; repeat for several. Replaces the voice's params.")
    var params: [String] = []

    @Option(help: "Rule directory or file; repeat to merge several (default: rules).")
    var config: [String] = []

    func run() async throws {
        let paths = config.isEmpty ? ["rules"] : config
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            StandardError.print("klaxon call: no such file or directory: \(path)")
            throw ExitCode(2)
        }
        let loaded = RuleLoader(mode: .serve).load(paths: paths)
        for warning in loaded.warnings { StandardError.print(warning.description) }
        guard let repository = loaded.repository else {
            for error in loaded.errors { StandardError.print(error.description) }
            throw ExitCode(1)
        }
        guard let providerConfig = repository.provider(named: provider) else {
            StandardError.print("klaxon call: no provider named \"\(provider)\"")
            throw ExitCode(2)
        }
        guard let voiceConfig = repository.voices[voice] else {
            StandardError.print("klaxon call: no voice named \"\(voice)\"")
            throw ExitCode(2)
        }
        guard PhoneNumber.isE164(to) else {
            StandardError.print("klaxon call: --to must be an E.164 number like +8613700000000")
            throw ExitCode(2)
        }
        let alert = Alert(status: .firing, labels: ["alertname": "KlaxonTestCall"], annotations: ["summary": "klaxon test call"])
        let context = ParamRenderer.context(for: alert, severity: "test", count: 1, route: "klaxon-call")
        guard let rendered = ParamRenderer.render(voiceConfig, for: providerConfig, context: context, params: params.isEmpty ? nil : params)
        else {
            StandardError.print("klaxon call: voice \"\(voice)\" has nothing for provider \"\(provider)\" (type \(providerConfig.type.rawValue))")
            throw ExitCode(2)
        }
        for warning in rendered.warnings { StandardError.print("warning: \(warning)") }
        let recipient = CallRecipient(name: "klaxon-call", phone: to)
        let request = CallRequest(
            callID: CallID.make(),
            recipients: [recipient],
            prompt: rendered.prompt,
            params: rendered.params,
            text: rendered.text,
            priority: 1,
            callbackURL: repository.server.publicURL.map { $0 + "/callbacks/" + provider },
            body: ParamRenderer.webhookBody(repository.webhookBodies[provider], context: context, recipients: [recipient])
        )
        let logger = Logger(
            label: "klaxon.call",
            factory: { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .warning
                return handler
            }
        )
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let results: [RecipientResult]
        do {
            let environment = ProviderEnvironment(httpClient: client, logger: logger)
            let voiceProvider = try ProviderRegistry.standard.makeProvider(providerConfig, environment: environment)
            results = await voiceProvider.placeCalls(request)
        } catch {
            try? await client.shutdown()
            StandardError.print("klaxon call: \(error)")
            throw ExitCode(1)
        }
        try await client.shutdown()
        print("provider  \(provider) (\(providerConfig.type.rawValue))")
        print("to        \(recipient.maskedPhone)")
        print("call id   \(request.callID)")
        var accepted = false
        for result in results {
            switch result.result {
            case .accepted(let vendorCallID):
                accepted = true
                print("answer    accepted, vendor call id \(vendorCallID)")
            case .retryable(let error):
                print("answer    refused, worth retrying: \(error)")
            case .permanent(let error):
                print("answer    refused: \(error)")
            }
        }
        if !accepted { throw ExitCode(1) }
    }
}
