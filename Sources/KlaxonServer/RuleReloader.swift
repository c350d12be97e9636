import AsyncHTTPClient
import Foundation
import KlaxonEngine
import KlaxonProviders
import KlaxonRules
import Logging
import Synchronization

/// Loads the rule repository and hands it to the engine, at start and on every reload
/// (`POST /-/reload`, SIGHUP). A repository with errors is refused whole and the one in
/// use keeps serving; so is one that would need a restart (see ``ServingSettings``).
public final class RuleReloader: Sendable {
    public let paths: [String]
    let environment: [String: String]
    let httpClient: HTTPClient
    let registry: ProviderRegistry
    let logger: Logger
    /// Held for a whole load, and for a reload's load, check and swap together: of two
    /// reloads at once (SIGHUP and `POST /-/reload`), the one that read the files last
    /// installs its rules last.
    private let state = Mutex<ServingSettings?>(nil)

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

    /// What the server settled at start; once set, reloads that would change it are refused.
    public var serving: ServingSettings? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Loads and validates the repository and builds its provider clients.
    public func load() -> Outcome {
        state.withLock { _ in loadUnlocked() }
    }

    /// Loads and, when the repository is valid and needs no restart, swaps it into the engine.
    public func reload(into engine: IncidentEngine) -> Outcome {
        reload(current: { engine.rules.repository }, install: { engine.replaceRules($0) })
    }

    /// ``reload(into:)`` with the engine's side as closures: `current` gives the rules in use,
    /// `install` swaps in new ones. Both are called while the lock is held.
    func reload(current: () -> RuleRepository, install: (EngineRules) -> Void) -> Outcome {
        let outcome = state.withLock { serving -> Outcome in
            let outcome = loadUnlocked()
            guard case .loaded(let rules, _) = outcome else { return outcome }
            let refusals = serving?.refusals(replacing: current(), with: rules.repository) ?? []
            guard refusals.isEmpty else { return .rejected(errors: refusals) }
            install(rules)
            return outcome
        }
        switch outcome {
        case .loaded(let rules, let warnings):
            for warning in warnings { logger.warning("\(warning)") }
            logger.info("rules reloaded", metadata: ["routes": "\(rules.routes.count)", "providers": "\(rules.providers.count)"])
        case .rejected(let errors):
            for error in errors { logger.error("\(error)") }
            logger.error("reload refused: the new rules have errors; the rules in use keep serving", metadata: ["errors": "\(errors.count)"])
        }
        return outcome
    }

    private func loadUnlocked() -> Outcome {
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
