import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import NIOCore
import NIOHTTP1

/// Huawei Cloud AICC voice notification (`type: huawei-aicc`): one
/// `createVoiceNotification` request per recipient, V1 (`voiceContent`) or V2 (`playList`).
///
/// Wire format (VENDORS.md §2): `POST {endpoint}/apiaccess/rest/voiceNotification/{v1|v2}/createVoiceNotification`
/// with `Content-Type: application/json;charset=UTF-8`, `X-APP-Key: {app_key}` and
/// `Authorization: Bearer {AccessToken}`; a FLAT JSON body (the documents' `reqBody` /
/// `requestBody` rows are not a wrapper). The token comes from ``HuaweiTokenProvider``.
///
/// Options (`providers.<name>`): `app_key`, `app_secret` (required); `api_version` `v1|v2`
/// (default `v2`); `caller_present` (`callerPresent`, ≤32 characters); `token_expire`
/// (`X-Token-Expire`, 60–3600 s, default 600); `base64_callback_url` (V2 only, default
/// `true`: V1 always Base64-encodes); `play_times` (V2 `playTimes`, 1–5); `endpoint`
/// (default `https://service.besclouds.com`). `callback_shared_key` is read by the callback
/// verifier, not here.
///
/// Decisions:
/// - `called` is the recipient's E.164 number without the leading `+` (`+8613700000000` →
///   `8613700000000`): Huawei dials what it is given and its examples show digits only.
///   A number that is not E.164 is refused (`klaxon.number_unsupported`) before any request.
/// - `priority` is the request's 1–9 as a string, clamped into 1–9.
/// - The prompt must fit the version: V2 takes `.huaweiAICC(playList:)`; V1 takes
///   `.huaweiV1(voiceContent:)`, or a play list of voice IDs only, joined by `~`. Anything
///   else, or a prompt over the vendor's limits, is a permanent `klaxon.voice_missing` /
///   `klaxon.prompt_limit` without a request.
/// - A callback URL Huawei would refuse (not http(s), characters outside `A-Za-z0-9-:./_#?&=`,
///   over 256 characters as sent) is left out with a warning: the page matters more than
///   its status report. For the same reason, when Huawei refuses a callback URL it was sent
///   (retCode `9`, e.g. the host is not on the tenant's callback trustlist), the request is
///   sent once more without it, with a warning that no status report will arrive.
/// - Results: see ``HuaweiRetCode`` for every `retCode`. HTTP 401/403 invalidates the token,
///   fetches a new one and retries the call once; a second 401/403 is a permanent
///   `klaxon.auth`. Timeouts (`klaxon.timeout`), transport errors (`klaxon.transport`), 429
///   and 5xx (`klaxon.http_<status>`) are retryable; other HTTP errors are permanent, except
///   that an error status whose body carries a non-zero `retCode` is classified by it. A
///   token that cannot be had fails the call the same way (`klaxon.auth` when the
///   credentials are refused). An
///   HTTP 2xx whose body cannot be read is retryable (`klaxon.bad_response`): a duplicate
///   call beats a lost page. `retCode` `0` with any 2xx is accepted, and without
///   `callSerialNo` still accepted (the phone rings) under the id
///   `huawei-no-serial-<callID>-<last 4 digits>`, with a warning.
/// - The callee's number is masked wherever Huawei's answer quotes it (`retMsg`, bodies).
public struct HuaweiAICCClient: VoiceProvider, CustomStringConvertible {
    public static let defaultEndpoint = "https://service.besclouds.com"

    public let name: String
    public let type = ProviderType.huaweiAICC
    public let apiVersion: HuaweiAPIVersion
    /// Scheme, host and port, without a trailing `/`.
    public let endpoint: String
    private let appKey: String
    private let callerPresent: String?
    private let playTimes: Int?
    private let base64CallbackURL: Bool
    private let timeout: Duration
    private let tokens: HuaweiTokenProvider
    private let environment: ProviderEnvironment

    /// Builds the client from its `providers:` entry; throws when an option cannot work.
    public init(config: ProviderConfig, environment: ProviderEnvironment) throws(ProviderConfigError) {
        func fail(_ message: String) -> ProviderConfigError { ProviderConfigError(provider: config.name, message: message) }
        let options = config.options
        guard let appKey = options["app_key"], !appKey.isEmpty else { throw fail("app_key is required") }
        guard let appSecret = options["app_secret"], !appSecret.isEmpty else { throw fail("app_secret is required") }
        let versionName = config.apiVersion ?? options["api_version"] ?? HuaweiAPIVersion.v2.rawValue
        guard let version = HuaweiAPIVersion(rawValue: versionName) else { throw fail("api_version \"\(versionName)\" is not v1 or v2") }
        var endpoint = config.endpoint ?? Self.defaultEndpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false else {
            throw fail("endpoint \"\(endpoint)\" is not an http(s) URL")
        }
        let lifetime = try Self.integer(options["token_expire"], named: "token_expire", in: 60...3600, or: 600, fail: fail)
        let playTimes = try Self.integer(options["play_times"], named: "play_times", in: 1...5, or: nil, fail: fail)
        if let caller = options["caller_present"], caller.isEmpty || caller.count > 32 {
            throw fail("caller_present must have 1–32 characters")
        }
        let base64 = options["base64_callback_url"] ?? "true"
        guard base64 == "true" || base64 == "false" else { throw fail("base64_callback_url must be true or false") }

        self.name = config.name
        self.apiVersion = version
        self.endpoint = endpoint
        self.appKey = appKey
        self.callerPresent = options["caller_present"]
        self.playTimes = version == .v2 ? playTimes : nil
        self.base64CallbackURL = version == .v1 || base64 == "true"
        self.timeout = config.timeout
        self.environment = environment
        self.tokens = HuaweiTokenProvider(
            endpoint: endpoint,
            appKey: appKey,
            appSecret: appSecret,
            requestedLifetime: lifetime ?? 600,
            timeout: config.timeout,
            httpClient: environment.httpClient,
            logger: environment.logger,
            now: environment.now
        )
    }

    public var description: String { "huawei-aicc provider \(name) (\(apiVersion.rawValue), \(endpoint))" }

    /// The business path for this client's version.
    public var path: String { "/apiaccess/rest/voiceNotification/\(apiVersion.rawValue)/createVoiceNotification" }

    public func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        await placeCalls(request, accepted: { _ in })
    }

    /// One request per recipient, side by side; each accepted call is told as it comes.
    public func placeCalls(_ request: CallRequest, accepted: @Sendable (RecipientResult) async -> Void) async -> [RecipientResult] {
        let body: HuaweiCallBody
        switch makeBody(request) {
        case .success(let made):
            body = made
        case .failure(let error):
            environment.logger.warning(
                "huawei call not sent",
                metadata: ["provider": "\(name)", "call_id": "\(request.callID)", "code": "\(error.code)", "error": "\(error.message)"]
            )
            return request.recipients.map { RecipientResult(recipient: $0, result: .permanent(error)) }
        }
        return await withTaskGroup(of: (Int, CallResult).self) { group in
            for (index, recipient) in request.recipients.enumerated() {
                group.addTask { (index, await place(recipient, body: body, callID: request.callID)) }
            }
            var results = [CallResult?](repeating: nil, count: request.recipients.count)
            for await (index, result) in group {
                results[index] = result
                if result.isAccepted { await accepted(RecipientResult(recipient: request.recipients[index], result: result)) }
            }
            return zip(request.recipients, results).map { RecipientResult(recipient: $0, result: $1!) }
        }
    }

    /// The body shared by every recipient of `request`, or why nothing may be sent.
    func makeBody(_ request: CallRequest) -> Result<HuaweiCallBody, VendorError> {
        HuaweiCallBody.renderPrompt(request.prompt, version: apiVersion).map { prompt in
            var callBackUrl: String?
            if let url = request.callbackURL {
                switch HuaweiCallBody.callBackUrl(url, base64: base64CallbackURL) {
                case .success(let value):
                    callBackUrl = value
                case .failure(let error):
                    environment.logger.warning(
                        "huawei callback URL left out; the call goes ahead without a status report",
                        metadata: ["provider": "\(name)", "call_id": "\(request.callID)", "error": "\(error.message)"]
                    )
                }
            }
            return HuaweiCallBody(
                version: apiVersion,
                prompt: prompt,
                playTimes: playTimes,
                callerPresent: callerPresent,
                callBackUrl: callBackUrl,
                priority: String(min(9, max(1, request.priority)))
            )
        }
    }

    /// One recipient: token, request, and on 401/403 one fresh token and one retry.
    private func place(_ recipient: CallRecipient, body: HuaweiCallBody, callID: String) async -> CallResult {
        var metadata: Logger.Metadata = ["provider": "\(name)", "call_id": "\(callID)", "callee": "\(recipient.maskedPhone)"]
        guard PhoneNumber.isE164(recipient.phone) else {
            let error = VendorError(code: "klaxon.number_unsupported", message: "\(recipient.maskedPhone) is not an E.164 number")
            environment.logger.warning("huawei call not sent", metadata: metadata.merging(["code": "\(error.code)"]) { $1 })
            return .permanent(error)
        }
        let called = String(recipient.phone.dropFirst())
        var result: CallResult
        do throws(HuaweiTokenProvider.Failure) {
            result = try await exchange(body.json(called: called), phone: recipient.phone, metadata: metadata)
            if case .permanent(let error) = result, error.code == HuaweiRetCode.callbackURLRefused, body.callBackUrl != nil {
                environment.logger.warning(
                    "huawei refused the callback URL (retCode 9; is its host on the tenant's callback trustlist?); calling again without it, so no status report will arrive for this call",
                    metadata: metadata
                )
                var plain = body
                plain.callBackUrl = nil
                result = try await exchange(plain.json(called: called), phone: recipient.phone, metadata: metadata)
            }
        } catch {
            let vendorError = VendorError(code: error.code, message: error.message, httpStatus: error.httpStatus)
            result = error.isRetryable ? .retryable(vendorError) : .permanent(vendorError)
        }
        switch result {
        case .accepted(var serial):
            if serial.isEmpty {
                serial = "huawei-no-serial-\(callID)-\(recipient.phone.suffix(4))"
                environment.logger.warning("huawei accepted the call without a callSerialNo; its status report cannot be matched", metadata: metadata)
            }
            metadata["vendor_call_id"] = "\(serial)"
            environment.logger.info("huawei call accepted", metadata: metadata)
            return .accepted(vendorCallID: serial)
        case .retryable(let error), .permanent(let error):
            metadata["code"] = "\(error.code)"
            metadata["error"] = "\(error.message)"
            environment.logger.warning(result.isRetryable ? "huawei call failed, retryable" : "huawei call failed", metadata: metadata)
            return result
        }
    }

    /// One request with a token; on 401/403 one fresh token and one retry.
    private func exchange(_ json: String, phone: String, metadata: Logger.Metadata) async throws(HuaweiTokenProvider.Failure) -> CallResult {
        var token = try await tokens.token()
        var answer = await send(json, token: token, phone: phone)
        if case .unauthorized = answer {
            environment.logger.info("huawei token refused; fetching a new one and retrying once", metadata: metadata)
            await tokens.invalidate(token)
            token = try await tokens.token()
            answer = await send(json, token: token, phone: phone)
        }
        switch answer {
        case .result(let classified):
            return classified
        case .unauthorized(let status, let excerpt):
            return .permanent(
                VendorError(
                    code: "klaxon.auth",
                    message: "createVoiceNotification refused a fresh token (check app_key and the tenant's subscription): \(excerpt)",
                    httpStatus: status
                )
            )
        }
    }

    private enum Answer {
        case result(CallResult)
        /// 401/403: the token was refused.
        case unauthorized(status: Int, excerpt: String)
    }

    private func send(_ json: String, token: String, phone: String) async -> Answer {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json;charset=UTF-8")
        request.headers.add(name: "X-APP-Key", value: appKey)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(string: json))
        let status: Int
        let text: String
        do {
            let response = try await environment.httpClient.execute(request, timeout: TimeAmount(timeout))
            status = Int(response.status.code)
            text = String(buffer: try await response.body.collect(upTo: 1 << 16))
        } catch let error as HTTPClientError where Self.isTimeout(error) {
            return .result(.retryable(VendorError(code: "klaxon.timeout", message: "createVoiceNotification timed out after \(timeout)")))
        } catch {
            return .result(.retryable(VendorError(code: "klaxon.transport", message: "createVoiceNotification failed: \(error)")))
        }
        let excerpt = HuaweiRedaction.excerpt(text, hiding: [token], masking: phone)
        if status == 401 || status == 403 { return .unauthorized(status: status, excerpt: excerpt) }
        let answer = try? JSONDecoder().decode(HuaweiCallResponse.self, from: Data(text.utf8))
        if let answer, (200..<300).contains(status) || answer.retCode != "0" {
            let message = answer.retMsg.map { HuaweiRedaction.excerpt($0, hiding: [token], masking: phone) }
            return .result(HuaweiRetCode.classify(retCode: answer.retCode, retMsg: message, callSerialNo: answer.callSerialNo, httpStatus: status))
        }
        if (200..<300).contains(status) {
            return .result(
                .retryable(
                    VendorError(code: "klaxon.bad_response", message: "createVoiceNotification answer has no retCode: \(excerpt)", httpStatus: status)
                )
            )
        }
        let error = VendorError(
            code: "klaxon.http_\(status)",
            message: "createVoiceNotification answered HTTP \(status): \(excerpt)",
            httpStatus: status
        )
        return .result(status == 429 || status >= 500 ? .retryable(error) : .permanent(error))
    }

    /// AsyncHTTPClient's ways of saying "no answer in time".
    static func isTimeout(_ error: HTTPClientError) -> Bool {
        [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout].contains(error)
    }

    private static func integer(
        _ text: String?,
        named key: String,
        in range: ClosedRange<Int>,
        or fallback: Int?,
        fail: (String) -> ProviderConfigError
    ) throws(ProviderConfigError) -> Int? {
        guard let text else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw fail("\(key) must be a whole number in \(range.lowerBound)–\(range.upperBound), got \"\(text)\"")
        }
        return value
    }
}

extension CallResult {
    fileprivate var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }
}
