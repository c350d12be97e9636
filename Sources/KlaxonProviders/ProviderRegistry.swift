import KlaxonCore

/// From a provider's `type:` to the factory that builds its client. Adding a vendor is
/// one client file and one line in ``standard``.
public struct ProviderRegistry: Sendable {
    public typealias Factory = @Sendable (ProviderConfig, ProviderEnvironment) throws(ProviderConfigError) -> any VoiceProvider

    private var factories: [ProviderType: Factory]

    public init(factories: [ProviderType: Factory]) {
        self.factories = factories
    }

    public static let standard = ProviderRegistry(factories: [
        .aliyun: { config, environment throws(ProviderConfigError) in try AliyunVoiceClient(config: config, environment: environment) },
        .huaweiAICC: { config, environment throws(ProviderConfigError) in try HuaweiAICCClient(config: config, environment: environment) },
        .bitel: { config, environment throws(ProviderConfigError) in try BitelClient(config: config, environment: environment) },
        .infin8linx: { config, environment throws(ProviderConfigError) in try Infin8linxClient(config: config, environment: environment) },
        .simulator: { config, _ throws(ProviderConfigError) in try SimulatorProvider(config: config) },
        .webhook: { config, environment throws(ProviderConfigError) in try WebhookProvider(config: config, environment: environment) },
    ])

    /// Builds the client for `config`; throws when its settings cannot make a working client.
    public func makeProvider(_ config: ProviderConfig, environment: ProviderEnvironment) throws(ProviderConfigError) -> any VoiceProvider {
        guard let factory = factories[config.type] else {
            throw ProviderConfigError(provider: config.name, message: "no client for provider type \(config.type.rawValue)")
        }
        return try factory(config, environment)
    }

    public mutating func register(_ type: ProviderType, factory: @escaping Factory) {
        factories[type] = factory
    }
}

/// A provider's settings cannot make a working client (a bad endpoint URL, say).
public struct ProviderConfigError: Error, Sendable, CustomStringConvertible {
    public var provider: String
    public var message: String

    public init(provider: String, message: String) {
        self.provider = provider
        self.message = message
    }

    public var description: String { "provider \"\(provider)\": \(message)" }
}
