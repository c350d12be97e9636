import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine
import KlaxonIngest
import KlaxonRules
import Logging
import NIOCore

/// `POST /webhook/alertmanager[/{input}]`, `/webhook/json/{input}`, `/webhook/email/{input}`:
/// authenticate, read at most the body limit, parse, commit, and only then answer 200.
struct WebhookRoutes: Sendable {
    let server: ServerContext

    func register(on router: Router<KlaxonRequestContext>) {
        router.post("/webhook/alertmanager") { request, context in
            try await ingest(request, context: context, kind: .alertmanager, input: nil)
        }
        router.post("/webhook/alertmanager/:input") { request, context in
            try await ingest(request, context: context, kind: .alertmanager, input: try context.parameters.require("input"))
        }
        router.post("/webhook/json/:input") { request, context in
            try await ingest(request, context: context, kind: .json, input: try context.parameters.require("input"))
        }
        router.post("/webhook/email/:input") { request, context in
            try await ingest(request, context: context, kind: .email, input: try context.parameters.require("input"))
        }
    }

    private func ingest(_ request: Request, context: KlaxonRequestContext, kind: AlertSource.Kind, input name: String?) async throws -> Response {
        // The rule set, not a copy of its repository: that would retain each of its tables.
        let rules = server.engine.rules
        // Authenticated before the 404 of an unknown input, which would name the inputs.
        let input: InputConfig?
        do {
            input = try Self.input(named: name, kind: kind, in: rules.repository)
        } catch {
            guard Credentials.unknownInputAllowed(request, repository: rules.repository) else { throw APIError.unauthorized }
            throw error
        }
        guard Credentials.sourceAllowed(request, input: input, server: rules.repository.server) else { throw APIError.unauthorized }
        let body = try await Self.readBody(request, context: context, limit: rules.repository.server.bodyLimit, timeout: server.bodyTimeout)
        let bytes = Array(body.readableBytesView)
        let inputName = name ?? input?.name ?? "default"
        let alerts: [Alert]
        // Alertmanager's `truncatedAlerts` (its receiver's `max_alerts`).
        var leftOut = 0
        do {
            switch kind {
            case .alertmanager:
                let payload = try AlertmanagerAdapter.payload(from: bytes)
                alerts = AlertmanagerAdapter.alerts(from: payload, input: inputName)
                leftOut = payload.truncatedAlerts
            case .json:
                alerts = try GenericJSONAdapter.alerts(from: bytes, mapping: input?.mapping, input: inputName, now: server.engine.clock.now())
            case .email:
                var limits = EmailLimits.default
                limits.maxBytes = rules.repository.server.bodyLimit
                alerts = try EmailAdapter.alerts(from: bytes, mapping: input?.emailMapping ?? .default, input: inputName, limits: limits)
                if alerts.isEmpty {
                    context.logger.info(
                        "e-mail updates or acknowledges an alert already reported: nothing recorded",
                        metadata: ["input": "\(inputName)"]
                    )
                }
            }
        } catch {
            throw Self.apiError(error, kind: kind)
        }
        let summary: IngestSummary
        do {
            summary = try await server.engine.ingest(alerts, leftOut: leftOut)
        } catch let error as DurabilityError {
            context.logger.error("alerts recorded but not synced to disk; answering 503 so the sender retries", metadata: ["error": "\(error)"])
            throw APIError(
                .serviceUnavailable,
                "store unavailable",
                detail: "the alerts were recorded but may not be on disk; retry (a retry is deduplicated): \(error)"
            )
        } catch {
            context.logger.error("alerts not recorded; answering 503 so the sender retries", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, "store unavailable", detail: "the alerts were not recorded; retry: \(error)")
        }
        return try IngestBody(alerts: alerts.count, summary: summary).response(from: request, context: context)
    }

    /// The named input, which must exist and be of the endpoint's type. Without a name
    /// (`/webhook/alertmanager`), the input called `alertmanager` when there is one;
    /// `default` needs no entry for JSON and e-mail.
    static func input(named name: String?, kind: AlertSource.Kind, in repository: RuleRepository) throws -> InputConfig? {
        guard let name else {
            if let input = repository.inputs["alertmanager"], input.type == .alertmanager { return input }
            return nil
        }
        guard let input = repository.inputs[name] else {
            if name == "default" && kind != .alertmanager { return nil }
            throw APIError(.notFound, "unknown input", detail: "no input named \"\(name)\" under inputs:")
        }
        guard input.type == kind else {
            throw APIError(
                .notFound,
                "wrong endpoint for input",
                detail: "input \"\(name)\" is type \(input.type.rawValue); post it to /webhook/\(input.type.rawValue)/\(name)"
            )
        }
        return input
    }

    /// The body, refused with 413 as soon as it passes `limit` (a declared length over the
    /// limit is refused before reading anything), and with 408 when it has not all arrived
    /// within `timeout` (a slow or stalled client holds no handler for long).
    static func readBody(_ request: Request, context: KlaxonRequestContext, limit: Int, timeout: Duration) async throws -> ByteBuffer {
        let tooLarge = APIError(.contentTooLarge, "body too large", detail: "the limit is \(limit) bytes (server.body_limit)")
        // The first Content-Length field, read in place: `headers[.contentLength]` joins all
        // of them into a new string, a microsecond of every webhook.
        if let declared = request.headers.first(where: { $0.name == .contentLength }).flatMap({ Int($0.value) }), declared > limit {
            throw tooLarge
        }
        let body: ByteBuffer?
        do {
            body = try await BodyReader.shared.read(request, channel: context.channel, limit: limit, timeout: timeout)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        guard let body else {
            throw APIError(.requestTimeout, "body too slow", detail: "the body did not arrive within \(timeout)")
        }
        return body
    }

    static func apiError(_ error: any Error, kind: AlertSource.Kind) -> APIError {
        guard let error = error as? IngestError else {
            return APIError(.badRequest, "invalid \(kind.rawValue) payload", detail: "\(error)")
        }
        let status: HTTPResponse.Status =
            switch error.code {
            case .messageTooLarge: .contentTooLarge
            case .senderRejected: .forbidden
            case .unusableMessage: .unprocessableContent
            default: .badRequest
            }
        return APIError(status, "invalid \(kind.rawValue) payload", detail: error.description)
    }
}
