import AsyncHTTPClient
import Foundation
import KlaxonEngine
import KlaxonProviders
import KlaxonRules
import Logging
import Synchronization

/// Loads the rule repository and hands it to the engine, at start and on every reload
/// (`POST /-/reload`, SIGHUP). A repository with errors is refused whole and the one in
/// use keeps serving.
public final class RuleReloader: Sendable {
    public let paths: [String]
    let environment: [String: String]
    let httpClient: HTTPClient
    let registry: ProviderRegistry
    let logger: Logger
    private let serial = Mutex(())

    public init(
        paths: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: HTTPClient,
        registry: ProviderRegistry = .standard,
        logger: Logger
    ) {
        self.paths = paths
        self.environment = environment
        self.httpClient = httpClient
        self.registry = registry
        self.logger = logger
    }

    /// The outcome of one load.
    public enum Outcome: Sendable {
        case loaded(EngineRules, warnings: [String])
        case rejected(errors: [String])
    }

    /// Loads and validates the repository and builds its provider clients.
    public func load() -> Outcome {
        serial.withLock { _ in
            let result = RuleLoader(environment: environment, mode: .serve).load(paths: paths)
            guard let repository = result.repository else {
                return .rejected(errors: result.errors.map(\.description))
            }
            do {
                let environment = ProviderEnvironment(httpClient: httpClient, logger: logger)
                let rules = try EngineRules.build(repository: repository, registry: registry, environment: environment)
                return .loaded(rules, warnings: result.warnings.map(\.description))
            } catch {
                return .rejected(errors: ["\(error)"])
            }
        }
    }

    /// Loads and, when the repository is valid, swaps it into the engine.
    public func reload(into engine: IncidentEngine) -> Outcome {
        let outcome = load()
        switch outcome {
        case .loaded(let rules, let warnings):
            engine.replaceRules(rules)
            for warning in warnings { logger.warning("\(warning)") }
            logger.info("rules reloaded", metadata: ["routes": "\(rules.routes.count)", "providers": "\(rules.providers.count)"])
        case .rejected(let errors):
            for error in errors { logger.error("\(error)") }
            logger.error("reload refused: the new rules have errors; the rules in use keep serving", metadata: ["errors": "\(errors.count)"])
        }
        return outcome
    }
}
