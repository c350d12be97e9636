import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine
import KlaxonRules

/// `/api/v1`: incidents with their alerts, calls and timeline; ack and resolve; calls.
struct APIRoutes: Sendable {
    let server: ServerContext

    /// `{"by": "name"}`, optional.
    struct ActorBody: Decodable {
        let by: String?
    }

    func register(on router: Router<KlaxonRequestContext>) {
        let api = router.group("api/v1").add(middleware: APIAuthMiddleware(server: server))
        api.get("incidents") { request, _ -> IncidentListBody in
            let text = request.uri.queryParameters["state"].map(String.init) ?? "all"
            guard let filter = IncidentFilter(rawValue: text) else {
                throw APIError(.badRequest, "invalid state", detail: "state must be one of open, acked, resolved, active, all; got \"\(text)\"")
            }
            let limit = try Self.limit(request)
            // One more than asked for, so the answer can say that it was cut.
            let incidents = try await store { try await server.engine.incidents(filter, limit: limit + 1) }
            return IncidentListBody(incidents: incidents.prefix(limit).map(IncidentBody.init), truncated: incidents.count > limit)
        }
        api.get("incidents/:id") { _, context -> IncidentDetailBody in
            let id = try Self.id(context)
            guard let detail = try await store({ try await server.engine.detail(incidentID: id) }) else {
                throw APIError(.notFound, "unknown incident", detail: "no incident \(id)")
            }
            return IncidentDetailBody(detail)
        }
        api.post("incidents/:id/ack") { request, context -> IncidentBody in
            let id = try Self.id(context)
            let by = try await Self.actor(request, context: context, timeout: server.bodyTimeout)
            return IncidentBody(try await change { try await server.engine.ack(incidentID: id, by: by) })
        }
        api.post("incidents/:id/resolve") { request, context -> IncidentBody in
            let id = try Self.id(context)
            let by = try await Self.actor(request, context: context, timeout: server.bodyTimeout)
            return IncidentBody(try await change { try await server.engine.resolve(incidentID: id, by: by) })
        }
        api.get("calls") { request, _ -> CallListBody in
            let limit = try Self.limit(request)
            let calls = try await store { try await server.engine.recentCalls(limit: limit + 1) }
            return CallListBody(calls: calls.prefix(limit).map(CallBody.init), truncated: calls.count > limit)
        }
    }

    static func id(_ context: KlaxonRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw APIError(.badRequest, "invalid incident id", detail: "expected a positive integer, got \"\(text)\"")
        }
        return id
    }

    static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return 500 }
        guard let limit = Int(text), (1...10_000).contains(limit) else {
            throw APIError(.badRequest, "invalid limit", detail: "limit must be an integer from 1 to 10000, got \"\(text)\"")
        }
        return limit
    }

    static func actor(_ request: Request, context: KlaxonRequestContext, timeout: Duration) async throws -> String {
        let body = try await WebhookRoutes.readBody(request, context: context, limit: 64 * 1024, timeout: timeout)
        if body.readableBytes == 0 { return "api" }
        let decoded: ActorBody
        do {
            decoded = try JSONDecoder().decode(ActorBody.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError(.badRequest, "invalid body", detail: "expected {\"by\": \"name\"}, with by a string")
        }
        guard let by = decoded.by?.trimmingCharacters(in: .whitespacesAndNewlines), !by.isEmpty else { return "api" }
        // The name goes into log lines and the timeline as it is: a line break in it would
        // forge a log line.
        guard !by.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw APIError(.badRequest, "invalid body", detail: "by: control characters (line breaks, tabs) are not allowed in a name")
        }
        return String(by.prefix(200))
    }

    private func store<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw APIError(.serviceUnavailable, "store unavailable", detail: "\(error)")
        }
    }

    private func change(_ body: () async throws -> Incident) async throws -> Incident {
        do {
            return try await body()
        } catch let error as EngineError {
            switch error {
            case .notFound(let message): throw APIError(.notFound, "unknown incident", detail: message)
            case .conflict(let message): throw APIError(.conflict, "incident already resolved", detail: message)
            }
        } catch {
            throw APIError(.serviceUnavailable, "store unavailable", detail: "\(error)")
        }
    }
}

/// The API's bearer token (`server.api_token`), read from the rules in use at each request.
struct APIAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let server: ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Credentials.apiAllowed(request, server: server.engine.rules.repository.server) else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
