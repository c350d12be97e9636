import Foundation
import Hummingbird
import KlaxonCore
import KlaxonEngine
import KlaxonProviders
import KlaxonRules
import Logging

/// `POST /callbacks/{provider}`: a vendor's report of how calls ended. Huawei signs its
/// reports (checked when the provider has `callback_shared_key`); the other vendors sign
/// nothing, so the URL carries `?token=` with `server.callback_token`.
struct CallbackRoutes: Sendable {
    let server: ServerContext

    func register(on router: Router<KlaxonRequestContext>) {
        router.post("/callbacks/:provider") { request, context -> Response in
            let name = try context.parameters.require("provider")
            let rules = server.engine.rules
            guard let provider = rules.repository.provider(named: name) else {
                throw APIError(.notFound, "unknown provider", detail: "no provider named \"\(name)\" under providers:")
            }
            let body = Array(
                try await WebhookRoutes.readBody(request, context: context, limit: rules.repository.server.bodyLimit, timeout: server.bodyTimeout)
                    .readableBytesView
            )
            let sharedKey = provider.type == .huaweiAICC ? provider.options["callback_shared_key"] : nil
            if sharedKey == nil, let token = rules.repository.server.callbackToken {
                let presented = request.uri.queryParameters["token"].map(String.init) ?? ""
                guard Credentials.constantTimeEquals(presented, token) else { throw APIError.unauthorized }
            }
            let reports: [CallStatusReport]
            let reply: String
            do {
                switch provider.type {
                case .aliyun:
                    reports = try AliyunReceiptParser.parse(body, outIDPrefix: provider.options["out_id_prefix"] ?? "")
                    reply = AliyunReceiptParser.replyBody
                case .huaweiAICC:
                    let fields = try HuaweiCallbackParser.fields(body)
                    if let sharedKey {
                        do {
                            try HuaweiCallbackVerifier(sharedKey: sharedKey).verify(fields, now: server.engine.clock.now())
                        } catch {
                            context.logger.warning("Huawei callback refused", metadata: ["reason": "\(error)"])
                            throw APIError.unauthorized
                        }
                    }
                    reports = [try HuaweiCallbackParser.report(from: fields)]
                    reply = HuaweiCallbackParser.replyBody
                case .bitel:
                    reports = try BitelStatusParser.webhook(body).map { [$0] } ?? []
                    reply = #"{"status":"ok"}"#
                case .infin8linx:
                    reports = try Infin8linxCallbackParser.parse(body)
                    reply = #"{"code":200,"msg":"ok"}"#
                case .webhook, .simulator:
                    throw APIError(
                        .notFound,
                        "no callbacks",
                        detail: "provider \"\(name)\" is type \(provider.type.rawValue), which sends no status reports"
                    )
                }
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError(.badRequest, "invalid callback", detail: "\(error)")
            }
            for report in reports {
                let outcome: StatusReportOutcome
                do {
                    outcome = try await server.engine.recordStatus(report, provider: name)
                } catch {
                    throw APIError(.serviceUnavailable, "store unavailable", detail: "the report was not recorded; retry: \(error)")
                }
                if outcome == .unknownCall {
                    context.logger.warning("status report for a call klaxon does not know", metadata: ["provider": "\(name)"])
                }
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: reply))
            )
        }
    }
}
