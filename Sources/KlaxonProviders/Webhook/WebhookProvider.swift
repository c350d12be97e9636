import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import NIOCore
import NIOHTTP1

/// A declarative provider for any other vendor or chat system: one HTTP request per step
/// carrying every recipient.
///
/// The body is the provider's `body` template rendered by the rules over the alert and the
/// step's `recipients` (``CallRequest/body``), or, without a template, a JSON document with
/// `call_id`, `recipients` (name and phone), `text`, `params` and `priority`. Success is a
/// status in `success_status` (default any 2xx) and, when `success_field` is set, that
/// field of the JSON answer (a dotted path) equal to `success_value`.
public struct WebhookProvider: VoiceProvider {
    public let name: String
    public let type = ProviderType.webhook
    let url: String
    let method: HTTPMethod
    let headers: [(String, String)]
    let contentType: String
    let successStatus: Set<Int>
    let successField: [String]?
    let successValue: String?
    let timeout: Duration
    let environment: ProviderEnvironment

    public init(config: ProviderConfig, environment: ProviderEnvironment) throws(ProviderConfigError) {
        guard let url = config.options["url"], url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ProviderConfigError(provider: config.name, message: "url must be an http:// or https:// URL")
        }
        self.name = config.name
        self.url = config.endpoint ?? url
        self.method = HTTPMethod(rawValue: config.options["method"] ?? "POST")
        self.headers = (config.maps["headers"] ?? [:]).sorted { $0.key < $1.key }
        self.contentType = config.options["content_type"] ?? "application/json"
        self.successStatus = Set((config.options["success_status"] ?? "").split(separator: ",").compactMap { Int($0) })
        self.successField = config.options["success_field"].map { $0.split(separator: ".").map(String.init) }
        self.successValue = config.options["success_value"]
        self.timeout = config.timeout
        self.environment = environment
    }

    public func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        let result = await send(request)
        return request.recipients.map { RecipientResult(recipient: $0, result: result) }
    }

    private func send(_ call: CallRequest) async -> CallResult {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: "klaxon")
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: Array((call.body ?? Self.defaultBody(call)).utf8)))
        do {
            let response = try await environment.httpClient.execute(request, timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            let text = String(buffer: body)
            let ok = successStatus.isEmpty ? (200..<300).contains(status) : successStatus.contains(status)
            guard ok else {
                let error = VendorError(code: "webhook.http_\(status)", message: String(text.prefix(200)), httpStatus: status)
                return status == 429 || status >= 500 ? .retryable(error) : .permanent(error)
            }
            if let field = successField {
                let value = Self.value(at: field, in: text)
                guard value == successValue else {
                    return .permanent(
                        VendorError(
                            code: "webhook.unexpected_answer",
                            message:
                                "\(field.joined(separator: ".")) is \(value.map { "\"\($0)\"" } ?? "missing"), expected \"\(successValue ?? "")\"",
                            httpStatus: status
                        )
                    )
                }
            }
            return .accepted(vendorCallID: "webhook-\(call.callID)")
        } catch {
            environment.logger.warning("webhook call failed", metadata: ["provider": "\(name)", "error": "\(error)"])
            return .retryable(VendorError(code: "klaxon.transport", message: "\(error)"))
        }
    }

    static func defaultBody(_ call: CallRequest) -> String {
        var object: [String: Any] = [
            "call_id": call.callID,
            "recipients": call.recipients.map { ["name": $0.name, "phone": $0.phone] },
            "params": call.params,
            "priority": call.priority,
        ]
        if let text = call.text { object["text"] = text }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The scalar at a dotted path of a JSON answer, as text (`true`, `0`, `"ok"` → `ok`).
    static func value(at path: [String], in text: String) -> String? {
        guard var current = try? JSONDecoder().decode(AnswerValue.self, from: Data(text.utf8)) else { return nil }
        for key in path {
            switch current {
            case .object(let members) where members[key] != nil: current = members[key]!
            case .array(let items) where Int(key).map(items.indices.contains) == true: current = items[Int(key)!]
            default: return nil
            }
        }
        return current.scalarText
    }
}

/// Any JSON value, to read one field of a webhook's answer.
enum AnswerValue: Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnswerValue])
    case object([String: AnswerValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnswerValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnswerValue].self))
        }
    }

    var scalarText: String? {
        switch self {
        case .bool(let value): value ? "true" : "false"
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): value
        case .null, .array, .object: nil
        }
    }
}
