import KlaxonCore
import KlaxonProviders
import KlaxonRules

/// One loaded rule set with its provider clients: what the engine pages with. Replaced
/// whole on reload, so a step never sees half of an old rule set and half of a new one.
/// A class: every webhook and step holds the rule set it started with, and passing it on
/// is then one reference, not a copy of every table in it.
public final class EngineRules: Sendable {
    public let repository: RuleRepository
    public let planner: AlertPlanner
    /// Clients by provider name.
    public let providers: [String: any VoiceProvider]
    /// Every route of the tree by name.
    public let routes: [String: Route]
    /// What ingest reads of each route, by name: looking up a whole route copies it.
    let ingestSettings: [String: RouteIngestSettings]

    public init(repository: RuleRepository, providers: [String: any VoiceProvider]) {
        self.repository = repository
        self.planner = AlertPlanner(repository: repository)
        self.providers = providers
        var routes: [String: Route] = [:]
        func collect(_ list: [Route]) {
            for route in list {
                routes[route.name] = routes[route.name] ?? route
                collect(route.routes)
            }
        }
        collect(repository.routes)
        self.routes = routes
        self.ingestSettings = routes.mapValues {
            RouteIngestSettings(dedupeWindow: $0.effective.dedupe?.window, storm: $0.effective.storm)
        }
    }

    /// Builds every configured provider's client with `registry`.
    public static func build(
        repository: RuleRepository,
        registry: ProviderRegistry = .standard,
        environment: ProviderEnvironment
    ) throws(ProviderConfigError) -> EngineRules {
        var providers: [String: any VoiceProvider] = [:]
        for config in repository.providers {
            providers[config.name] = try registry.makeProvider(config, environment: environment)
        }
        return EngineRules(repository: repository, providers: providers)
    }
}

/// A route's settings that decide what a new alert joins.
struct RouteIngestSettings: Sendable {
    var dedupeWindow: Duration?
    var storm: StormGuard?
}
