import AsyncHTTPClient
import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine
import KlaxonRules
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// What `klaxon serve` was asked for on its command line.
public struct ServeOptions: Sendable {
    public var configPaths: [String]
    /// `--listen HOST:PORT`; nil takes `server.listen`, else 127.0.0.1:9095.
    public var listen: String?
    /// `--store URL`; nil takes the rules' `store:`, else `sqlite:data/klaxon.db`.
    public var store: String?

    public init(configPaths: [String], listen: String? = nil, store: String? = nil) {
        self.configPaths = configPaths
        self.listen = listen
        self.store = store
    }

    public static let defaultListen = "127.0.0.1:9095"
    public static let defaultStore = "sqlite:data/klaxon.db"

    /// The listen address asked for with `server`: `--listen`, else `server.listen`, else the default.
    public func listen(for server: ServerConfig) -> String {
        listen ?? server.listen ?? Self.defaultListen
    }

    /// The store asked for with `repository`: `--store`, else its `store:`, else the default.
    public func store(for repository: RuleRepository) -> String {
        store ?? repository.store ?? Self.defaultStore
    }
}

/// Why `klaxon serve` could not start.
public struct ServeError: Error, CustomStringConvertible {
    public var lines: [String]

    public init(_ lines: [String]) {
        self.lines = lines
    }

    public var description: String { lines.joined(separator: "\n") }
}

/// `klaxon serve`: loads the rules, opens the store, resumes interrupted work, then serves
/// until SIGTERM or SIGINT, finishing calls in flight before it closes the store.
public enum KlaxonServe {
    public static func run(_ options: ServeOptions, metrics: PrometheusCollectorRegistry?, logger: Logger) async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await serve(options, httpClient: httpClient, metrics: metrics, logger: logger)
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private static func serve(_ options: ServeOptions, httpClient: HTTPClient, metrics: PrometheusCollectorRegistry?, logger: Logger) async throws {
        let reloader = RuleReloader(paths: options.configPaths, httpClient: httpClient, logger: logger)
        let rules: EngineRules
        switch reloader.load() {
        case .loaded(let loaded, let warnings):
            rules = loaded
            for warning in warnings { logger.warning("\(warning)") }
        case .rejected(let errors):
            throw ServeError(errors)
        case .storeUnavailable(let reason):
            throw ServeError([reason])
        }
        let repository = rules.repository
        let storeURL = options.store(for: repository)
        let fileLock = try storeURL.hasPrefix("sqlite:") ? StoreFileLock(databasePath: String(storeURL.dropFirst("sqlite:".count))) : nil
        defer { withExtendedLifetime(fileLock) {} }
        let store = try await openStore(storeURL, logger: logger)
        let engine = IncidentEngine(store: store, rules: rules, logger: logger)
        do {
            try await engine.recoverInterruptedWork()
            let (host, port) = try listenAddress(options: options, server: repository.server, logger: logger)
            if !isLoopback(host), let unchecked = uncheckedCallbackProviders(repository).first {
                logger.warning(
                    "no callback_token configured: anyone who can reach \(host):\(port) can post a status report for provider \(unchecked) and stop an escalation with \"answered\""
                )
            }
            reloader.serving = ServingSettings(options: options, repository: repository, host: host)
            let context = ServerContext(engine: engine, reloader: reloader, metrics: metrics, logger: logger)
            let app = application(context, host: host, port: port) { address in
                logger.info(
                    "klaxon serving",
                    metadata: ["address": "\(address)", "store": "\(PostgresIncidentStore.redacted(storeURL))", "routes": "\(rules.routes.count)"]
                )
            }
            try await run(app, shutdownTimeout: repository.server.shutdownTimeout, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        logger.info("klaxon stopped")
    }

    /// The Hummingbird application of `klaxon serve` with its scheduler and SIGHUP reloader.
    /// `onRunning` gets the bound address (`HOST:PORT`) once the server listens.
    public static func application(
        _ context: ServerContext,
        host: String,
        port: Int,
        onRunning: @escaping @Sendable (String) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let (listening, listens) = AsyncStream<Void>.makeStream()
        return Application(
            router: buildRouter(context),
            server: .http1(configuration: .init(idleTimeout: TimeAmount(context.idleTimeout))),
            configuration: .init(address: .hostname(host, port: port), serverName: "klaxon"),
            services: [
                SchedulerService(engine: context.engine, listening: listening),
                HangupReloadService(reloader: context.reloader, engine: context.engine),
            ],
            onServerRunning: { channel in
                listens.yield()
                listens.finish()
                await onRunning("\(host):\(channel.localAddress?.port ?? port)")
            },
            logger: context.logger
        )
    }

    /// Runs until SIGTERM or SIGINT. Calls still in flight `shutdownTimeout` after the
    /// signal are cut short: their steps stay claimed and their calls `started`, so the next
    /// start (or another instance) places them again, as after a crash.
    static func run(_ app: some ApplicationProtocol, shutdownTimeout: Duration, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        // Past this the process ends with a crash report rather than hang; with the default
        // timeout, still inside the 30 s a supervisor gives before SIGKILL.
        configuration.maximumCancellationDuration = .seconds(4)
        try await ServiceGroup(configuration: configuration).run()
    }

    static func openStore(_ url: String, logger: Logger) async throws -> any IncidentStore {
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ServeError(["store \(url): expected sqlite:PATH"]) }
            do {
                return try await SQLiteIncidentStore.open(path: path, logger: logger)
            } catch {
                throw ServeError(["\(error)"])
            }
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            do {
                return try await PostgresIncidentStore.open(url: url, logger: logger)
            } catch {
                throw ServeError(["\(error)"])
            }
        }
        throw ServeError(["store \(PostgresIncidentStore.redacted(url)): expected sqlite:PATH or postgres://USER@HOST/DATABASE"])
    }

    /// `--listen`, else `server.listen`, else 127.0.0.1:9095. With no token configured
    /// anywhere, only an explicit `--listen` may leave loopback.
    static func listenAddress(options: ServeOptions, server: ServerConfig, logger: Logger) throws -> (String, Int) {
        let text = options.listen(for: server)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ServeError(["listen address \"\(text)\": expected HOST:PORT"])
        }
        var host = ServingSettings.host(of: text) ?? "0.0.0.0"
        if ServingSettings.isOpen(server) {
            if options.listen == nil && !isLoopback(host) {
                logger.warning("no api_token or source_token configured: listening on 127.0.0.1 only, not \(host)")
                host = "127.0.0.1"
            } else {
                logger.warning("no api_token or source_token configured: anyone who can reach \(host):\(port) can post alerts and ack incidents")
            }
        }
        return (host, port)
    }

    /// Providers whose status reports nothing authenticates: none sign theirs but Huawei
    /// with `callback_shared_key`, so without `callback_token` anyone may post them.
    static func uncheckedCallbackProviders(_ repository: RuleRepository) -> [String] {
        guard repository.server.callbackTokens.isEmpty else { return [] }
        return repository.providers.filter { provider in
            CallbackRoutes.takesReports(provider.type) && !(provider.type == .huaweiAICC && provider.options["callback_shared_key"] != nil)
        }.map(\.name)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
