import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine
import KlaxonProviders
import KlaxonRules
import Logging

/// `POST /callbacks/{provider}`: a vendor's report of how calls ended. Huawei signs its
/// reports (checked when the provider has `callback_shared_key`); the other vendors sign
/// nothing, so the URL carries `server.callback_token`: as `?token=`, or as a last path
/// segment (`/callbacks/{provider}/{token}`), which Huawei's callback URLs need (they may not
/// hold `=`). The caller is checked before the answer tells whether the provider exists or
/// what type it is.
struct CallbackRoutes: Sendable {
    let server: ServerContext

    func register(on router: Router<KlaxonRequestContext>) {
        router.post("/callbacks/:provider") { request, context -> Response in
            try await report(request, context: context)
        }
        router.post("/callbacks/:provider/:token") { request, context -> Response in
            try await report(request, context: context)
        }
    }

    private func report(_ request: Request, context: KlaxonRequestContext) async throws -> Response {
        let name = try context.parameters.require("provider")
        let rules = server.engine.rules
        let configured = rules.repository.provider(named: name)
        // A provider that sends no reports answers like an unknown name until the caller
        // has shown the callback token: neither its existence nor its type is told.
        let provider = configured.flatMap { Self.takesReports($0.type) ? $0 : nil }
        let sharedKey = provider?.type == .huaweiAICC ? provider?.options["callback_shared_key"] : nil
        if sharedKey == nil {
            let token = context.parameters.get("token") ?? request.uri.queryParameters["token"].map(String.init)
            guard Credentials.callbackAllowed(token: token, known: provider != nil, repository: rules.repository) else { throw APIError.unauthorized }
        }
        guard let provider else {
            if let configured { throw Self.noReports(configured) }
            throw APIError(.notFound, "unknown provider", detail: "no provider named \"\(name)\" under providers:")
        }
        let body: [UInt8]
        do {
            body = Array(
                try await WebhookRoutes.readBody(request, context: context, limit: rules.repository.server.bodyLimit, timeout: server.bodyTimeout)
                    .readableBytesView
            )
        } catch let error where sharedKey != nil {
            // Unverified, the caller is a stranger: a 413 or 408 would tell it that a
            // signed provider of this name exists.
            context.logger.warning("Huawei callback refused", metadata: ["reason": "\(error)"])
            throw APIError.unauthorized
        }
        let reports: [CallStatusReport]
        let reply: String
        do {
            switch provider.type {
            case .aliyun:
                let batch = try AliyunReceiptParser.parseBatch(body, outIDPrefix: provider.options["out_id_prefix"] ?? "")
                reports = try Self.readable(
                    batch.reports,
                    problems: batch.problems,
                    of: "Aliyun VoiceReport",
                    provider: name,
                    logger: context.logger
                )
                reply = AliyunReceiptParser.replyBody
            case .huaweiAICC:
                let fields: [String: String]
                if let sharedKey {
                    // A body that is not even JSON is refused like a bad signature, for the
                    // same reason as above.
                    do {
                        fields = try HuaweiCallbackParser.fields(body)
                        try HuaweiCallbackVerifier(sharedKey: sharedKey).verify(fields, now: server.engine.clock.now())
                    } catch {
                        context.logger.warning("Huawei callback refused", metadata: ["reason": "\(error)"])
                        throw APIError.unauthorized
                    }
                } else {
                    fields = try HuaweiCallbackParser.fields(body)
                }
                reports = [try HuaweiCallbackParser.report(from: fields)]
                reply = HuaweiCallbackParser.replyBody
            case .bitel:
                reports = try BitelStatusParser.webhook(body).map { [$0] } ?? []
                reply = #"{"status":"ok"}"#
            case .infin8linx:
                let batch = try Infin8linxCallbackParser.parseBatch(body)
                reports = try Self.readable(
                    batch.reports,
                    problems: batch.problems,
                    of: "infin8linx call record",
                    provider: name,
                    logger: context.logger
                )
                reply = #"{"code":200,"msg":"ok"}"#
            case .webhook, .simulator:
                throw Self.noReports(provider)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "invalid callback", detail: "\(error)")
        }
        let outcomes: [StatusReportOutcome]
        do {
            outcomes = try await server.engine.recordStatuses(reports, provider: name)
        } catch {
            throw APIError(.serviceUnavailable, "store unavailable", detail: "the reports were not recorded; retry: \(error)")
        }
        for (report, outcome) in zip(reports, outcomes) {
            if outcome == .unknownCall {
                context.logger.warning(
                    "status report for a call klaxon does not know",
                    metadata: [
                        "provider": "\(name)", "vendor_call_id": "\(report.vendorCallID ?? "-")", "call_id": "\(report.callID ?? "-")",
                        "status": "\(report.status.rawValue)",
                    ]
                )
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: reply))
        )
    }

    /// The readable records of a body that holds several, the others logged: the vendor
    /// sends the same bytes again, and the answer beside a broken record must not be lost.
    /// A body with none readable is refused with the first problem.
    private static func readable(
        _ reports: [CallStatusReport],
        problems: [some Error & CustomStringConvertible],
        of what: String,
        provider: String,
        logger: Logger
    ) throws -> [CallStatusReport] {
        guard let first = problems.first else { return reports }
        logger.warning("\(what) records klaxon cannot read", metadata: ["provider": "\(provider)", "problems": "\(problems.map(\.description))"])
        if reports.isEmpty { throw first }
        return reports
    }

    static func noReports(_ provider: ProviderConfig) -> APIError {
        APIError(
            .notFound,
            "no callbacks",
            detail: "provider \"\(provider.name)\" is type \(provider.type.rawValue), which sends no status reports"
        )
    }

    static func takesReports(_ type: ProviderType) -> Bool {
        switch type {
        case .aliyun, .huaweiAICC, .bitel, .infin8linx: true
        case .webhook, .simulator: false
        }
    }
}
