import Foundation
import Hummingbird
import KlaxonEngine
import KlaxonRules
import Logging
import Prometheus

/// What the routes share.
public struct ServerContext: Sendable {
    public let engine: IncidentEngine
    public let reloader: RuleReloader
    /// Where `/metrics` reads from; nil serves an empty page (tests that run several servers).
    public let metrics: PrometheusCollectorRegistry?
    public let logger: Logger
    /// How long a request body may take to arrive (408 after).
    public let bodyTimeout: Duration
    /// How long a connection may send nothing, between requests or within a request's head,
    /// before it is closed: idle sockets would otherwise pile up until no webhook is accepted.
    public let idleTimeout: Duration

    public init(
        engine: IncidentEngine,
        reloader: RuleReloader,
        metrics: PrometheusCollectorRegistry?,
        logger: Logger,
        bodyTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(75)
    ) {
        self.engine = engine
        self.reloader = reloader
        self.metrics = metrics
        self.logger = logger
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }
}

/// Every endpoint of DESIGN.md's HTTP interface.
public func buildRouter(_ server: ServerContext) -> Router<KlaxonRequestContext> {
    let router = Router(context: KlaxonRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    WebhookRoutes(server: server).register(on: router)
    APIRoutes(server: server).register(on: router)
    CallbackRoutes(server: server).register(on: router)

    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/readyz") { _, _ -> Response in
        do {
            try await server.engine.store.ping()
        } catch {
            throw APIError(.serviceUnavailable, "store unavailable", detail: "\(error)")
        }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }
    router.get("/metrics") { _, _ -> Response in
        var bytes: [UInt8] = []
        server.metrics?.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
    router.post("/-/reload") { request, context -> Response in
        guard Credentials.apiAllowed(request, server: server.engine.rules.repository.server) else { throw APIError.unauthorized }
        switch await server.reloader.reload(into: server.engine) {
        case .loaded(let rules, let warnings):
            server.engine.wakeScheduler()
            let body = ReloadBody(status: "reloaded", routes: rules.routes.count, providers: rules.providers.count, warnings: warnings)
            return try context.responseEncoder.encode(body, from: request, context: context)
        case .rejected(let errors):
            let body = ReloadErrorBody(
                error: "rules rejected",
                detail: "the new rules have \(errors.count) error(s); the rules in use keep serving",
                errors: errors
            )
            var response = try context.responseEncoder.encode(body, from: request, context: context)
            response.status = .badRequest
            return response
        case .storeUnavailable(let reason):
            throw APIError(.serviceUnavailable, "store unavailable", detail: "\(reason); the rules in use keep serving; retry")
        }
    }
    return router
}
