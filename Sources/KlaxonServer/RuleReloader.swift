import AsyncHTTPClient
import Foundation
import KlaxonCore
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
        /// The store could not say which incidents are open, which a reload must not strand:
        /// nothing is wrong with the rules; try again when the store is back.
        case storeUnavailable(String)
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

    /// Loads and, when the repository is valid, needs no restart and strands no open
    /// incident, swaps it into the engine.
    public func reload(into engine: IncidentEngine) async -> Outcome {
        // Read before the swap; an incident opened in between is not seen (a narrow window).
        let active: [String: RouteIncidents]
        do {
            active = try await engine.activeIncidentsByRoute()
        } catch {
            let refused = Outcome.storeUnavailable("the store cannot list the open incidents, which a reload must not strand: \(error)")
            log(refused)
            return refused
        }
        return reload(current: { engine.rules }, active: active, install: { engine.replaceRules($0) })
    }

    /// ``reload(into:)`` with the engine's side as closures: `current` gives the rules in use,
    /// `install` swaps in new ones. Both are called while the lock is held. `active`: the
    /// open and acknowledged incidents by route.
    func reload(current: () -> EngineRules, active: [String: RouteIncidents] = [:], install: (EngineRules) -> Void) -> Outcome {
        let outcome = state.withLock { serving -> Outcome in
            let outcome = loadUnlocked()
            guard case .loaded(let rules, _) = outcome else { return outcome }
            let inUse = current()
            let refusals =
                (serving?.refusals(replacing: inUse.repository, with: rules.repository) ?? [])
                + Self.strandings(of: active, old: inUse, new: rules)
            guard refusals.isEmpty else { return .rejected(errors: refusals) }
            install(rules)
            return outcome
        }
        log(outcome)
        return outcome
    }

    /// Why the new rules would leave open incidents where their alerts no longer find them:
    /// incidents are keyed by route name and `dedupe.by` labels, so with the route gone (or
    /// renamed) or its `dedupe.by` changed, a repeat of a firing alert would open a second
    /// incident and page again, and its recovery would leave the first one ringing.
    static func strandings(of active: [String: RouteIncidents], old: EngineRules, new: EngineRules) -> [String] {
        active.sorted { $0.key < $1.key }.compactMap { route, incidents in
            let what: String
            if let newRoute = new.routes[route] {
                guard old.routes[route]?.effective.dedupe?.by != newRoute.effective.dedupe?.by else { return nil }
                what = "the new rules change its dedupe.by"
            } else {
                what = "the new rules have no route of that name"
            }
            let shown = incidents.ids.map(String.init).joined(separator: ", ") + (incidents.count > incidents.ids.count ? ", ..." : "")
            return "route \"\(route)\" holds \(incidents.count) open or acknowledged incident(s) (\(shown)) and \(what): "
                + "their alerts would no longer find them (a repeat would open a second incident and page again); resolve them first (klaxon resolve ID), or keep the route as it is"
        }
    }

    private func log(_ outcome: Outcome) {
        switch outcome {
        case .loaded(let rules, let warnings):
            for warning in warnings { logger.warning("\(warning)") }
            logger.info("rules reloaded", metadata: ["routes": "\(rules.routes.count)", "providers": "\(rules.providers.count)"])
        case .rejected(let errors):
            for error in errors { logger.error("\(error)") }
            logger.error("reload refused: the new rules have errors; the rules in use keep serving", metadata: ["errors": "\(errors.count)"])
        case .storeUnavailable(let reason):
            logger.error("reload not done: \(reason); the rules in use keep serving")
        }
    }

    private func loadUnlocked() -> Outcome {
        let result = RuleLoader(environment: environment, mode: .serve, numberProblem: VendorNumbers.numberProblem).load(paths: paths)
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
