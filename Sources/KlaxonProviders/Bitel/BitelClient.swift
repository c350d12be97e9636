import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import NIOCore
import NIOHTTP1

/// Bitel (`api.bitel.rest`, VENDORS.md §3): one `POST {endpoint}/api/v2/voice/single` per
/// number, playing a voice uploaded to Bitel beforehand (`.bitel(voiceID:)`).
///
/// Options (the rules' `providers.<name>` keys):
/// - `token` (required): the JWT from the Bitel panel, sent as `Authorization: Bearer …`.
///   Bitel tokens never expire, so a 401 is permanent (`klaxon.auth`): no refresh can help.
/// - `server_id`: the dialer to call from; sent as `serverId` only when configured.
/// - `retry_count`: `0` (default) or `1`, sent as `retryCount`. Bitel's own default is 1
///   redial on busy/no answer; klaxon sends 0 unless told otherwise because it escalates
///   itself, and a vendor redial would ring the person again after klaxon moved on.
/// - `endpoint` (common key) replaces `https://api.bitel.rest`; paths are appended to it.
///
/// Request, byte for byte: `Content-Type: application/json`, body
/// `{"phoneNumber":"09121234567","voiceId":"…","retryCount":0[,"serverId":"…"]}`.
///
/// Numbers: only Iranian mobiles, E.164 `+989` and 9 more digits, which become the national
/// `09…` (11 digits). Any other number is refused with a permanent `klaxon.number_unsupported`
/// before anything is sent. Recipients sharing a number share one call and its result.
///
/// Answers: HTTP 2xx with `result.id` is accepted with that id. Error codes in the
/// `{"result":null,"error":"<Code>"}` envelope: `InvalidRequest`, `InvalidServer`,
/// `InvalidPhoneNumber`, `NotFound`, `InsufficientBalance` and any other code on a 4xx are
/// permanent; HTTP 401/403 is permanent `klaxon.auth`; HTTP 429 and 5xx are retryable
/// (`Retry-After` seconds become ``VendorError/retryAfter``); timeouts and transport errors
/// are retryable `klaxon.timeout` / `klaxon.transport`; a 2xx klaxon cannot read is retryable
/// `klaxon.bad_response`.
///
/// The token never appears in results, errors, logs or this value's description.
public struct BitelClient: VoiceProvider, CustomStringConvertible, CustomReflectable {
    /// Where Bitel's API lives unless `endpoint` says otherwise.
    public static let defaultEndpoint = "https://api.bitel.rest"
    /// How many calls of one request are in flight at once.
    static let concurrency = 8

    public let name: String
    public let type = ProviderType.bitel
    /// The base URL, without a trailing `/`.
    public let endpoint: String
    public let serverID: String?
    public let retryCount: Int
    public let timeout: Duration
    private let token: String
    private let environment: ProviderEnvironment

    /// - Throws: ``ProviderConfigError`` when `token` is missing or empty, `retry_count` is
    ///   not 0 or 1, `server_id` is empty, or the endpoint is not an http(s) URL.
    public init(config: ProviderConfig, environment: ProviderEnvironment) throws(ProviderConfigError) {
        guard let token = config.options["token"], !token.isEmpty else {
            throw ProviderConfigError(provider: config.name, message: "token is required (the JWT from the Bitel panel)")
        }
        let retryCount: Int
        if let text = config.options["retry_count"] {
            guard let value = Int(text), (0...1).contains(value) else {
                throw ProviderConfigError(provider: config.name, message: "retry_count must be 0 or 1, not \"\(text)\"")
            }
            retryCount = value
        } else {
            retryCount = 0
        }
        if let serverID = config.options["server_id"], serverID.isEmpty {
            throw ProviderConfigError(provider: config.name, message: "server_id is empty; leave it out to use Bitel's default dialer")
        }
        var endpoint = config.endpoint ?? Self.defaultEndpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://"), URL(string: endpoint)?.host != nil else {
            throw ProviderConfigError(provider: config.name, message: "endpoint must be an http:// or https:// URL")
        }
        self.name = config.name
        self.endpoint = endpoint
        self.serverID = config.options["server_id"]
        self.retryCount = retryCount
        self.timeout = config.timeout
        self.token = token
        self.environment = environment
    }

    public var description: String { "BitelClient(name: \(name), endpoint: \(endpoint))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "endpoint": endpoint, "serverID": serverID as Any, "retryCount": retryCount])
    }

    // MARK: - Placing calls

    public func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        await placeCalls(request, accepted: { _ in })
    }

    /// One request per distinct number, a few at a time; each accepted call is told as it
    /// comes.
    public func placeCalls(_ request: CallRequest, accepted: @Sendable (RecipientResult) async -> Void) async -> [RecipientResult] {
        guard case .bitel(let voiceID) = request.prompt, !voiceID.isEmpty else {
            let error = VendorError(
                code: "klaxon.voice_missing",
                message: "the voice has no Bitel voice id; give it `bitel: {voice_id: …}` (the id of a voice uploaded to Bitel)"
            )
            environment.logger.warning("bitel call not placed: no voice id", metadata: metadata(request))
            return request.recipients.map { RecipientResult(recipient: $0, result: .permanent(error)) }
        }

        // Distinct national numbers, in the order of their first recipient.
        var numbers: [String] = []
        var slot: [String: Int] = [:]
        let numberOfRecipient = request.recipients.map { recipient -> String? in
            guard let national = Self.nationalNumber(recipient.phone) else { return nil }
            if slot[national] == nil {
                slot[national] = numbers.count
                numbers.append(national)
            }
            return national
        }

        let outcomes = await withTaskGroup(of: (Int, CallResult).self) { group in
            var outcomes = [CallResult?](repeating: nil, count: numbers.count)
            var next = 0
            func start() {
                let index = next
                let number = numbers[index]
                next += 1
                group.addTask { (index, await placeCall(to: number, voiceID: voiceID, callID: request.callID)) }
            }
            while next < min(numbers.count, Self.concurrency) { start() }
            while let (index, result) = await group.next() {
                outcomes[index] = result
                if next < numbers.count { start() }
                guard result.isAccepted else { continue }
                for (recipient, national) in zip(request.recipients, numberOfRecipient) where national == numbers[index] {
                    await accepted(RecipientResult(recipient: recipient, result: result))
                }
            }
            return outcomes
        }

        return zip(request.recipients, numberOfRecipient).map { recipient, national in
            guard let national, let index = slot[national], let result = outcomes[index] else {
                environment.logger.warning(
                    "bitel call not placed: number not supported",
                    metadata: metadata(request).merging(["to": "\(recipient.maskedPhone)"]) { $1 }
                )
                return RecipientResult(
                    recipient: recipient,
                    result: .permanent(
                        VendorError(
                            code: "klaxon.number_unsupported",
                            message: "Bitel calls Iranian mobile numbers only (+989 and 9 digits); \(recipient.maskedPhone) is not one"
                        )
                    )
                )
            }
            return RecipientResult(recipient: recipient, result: result)
        }
    }

    /// Bitel's national form of an E.164 Iranian mobile number: `+989121234567` →
    /// `09121234567`; nil for any other number.
    public static func nationalNumber(_ phone: String) -> String? {
        guard let national = PhoneNumber.national(phone, countryCode: "98"), national.count == 10, national.hasPrefix("9") else {
            return nil
        }
        return "0" + national
    }

    private func placeCall(to number: String, voiceID: String, callID: String) async -> CallResult {
        let body = BitelSingleCallBody(phoneNumber: number, voiceID: voiceID, retryCount: retryCount, serverID: serverID)
        var request = HTTPClientRequest(url: endpoint + "/api/v2/voice/single")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "klaxon")
        request.body = .bytes(ByteBuffer(string: body.json))
        let masked = PhoneNumber.mask("+98" + number.dropFirst())
        var logMetadata: Logger.Metadata = ["provider": "\(name)", "call_id": "\(callID)", "to": "\(masked)"]

        let result: CallResult
        do {
            let response = try await environment.httpClient.execute(request, timeout: TimeAmount(timeout))
            let answer = try await response.body.collect(upTo: 1 << 16)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds(max(0, $0)) }
            result = Self.classify(httpStatus: Int(response.status.code), body: Array(answer.readableBytesView), retryAfter: retryAfter)
        } catch {
            result = .retryable(Self.transportError(error))
        }
        switch result {
        case .accepted(let id):
            logMetadata["vendor_call_id"] = "\(id)"
            environment.logger.info("bitel call accepted", metadata: logMetadata)
            return result
        case .retryable(let error), .permanent(let error):
            let redacted = redact(error)
            logMetadata["code"] = "\(redacted.code)"
            logMetadata["error"] = "\(redacted.message)"
            if let status = redacted.httpStatus { logMetadata["http_status"] = "\(status)" }
            environment.logger.warning(result.isRetryable ? "bitel call failed, retryable" : "bitel call refused", metadata: logMetadata)
            return result.isRetryable ? .retryable(redacted) : .permanent(redacted)
        }
    }

    // MARK: - Call status

    /// How the call with Bitel id `vendorCallID` ended, read from
    /// `GET {endpoint}/api/v2/voice/status/{id}`; nil while Bitel still has it `WAITING`.
    /// See ``BitelStatusParser`` for the status mapping.
    /// - Throws: ``VendorError``: the vendor's code (`NotFound` for an id Bitel does not
    ///   know), `klaxon.auth` on 401/403, `klaxon.http` for other HTTP errors,
    ///   `klaxon.timeout`/`klaxon.transport` when Bitel could not be reached,
    ///   `klaxon.bad_response` for an answer that is not a call record, and
    ///   `klaxon.invalid_call_id` for an id that is not letters and digits (never sent).
    public func callStatus(vendorCallID: String) async throws(VendorError) -> CallStatusReport? {
        guard !vendorCallID.isEmpty, vendorCallID.utf8.allSatisfy(Self.isIDByte) else {
            throw VendorError(code: "klaxon.invalid_call_id", message: "a Bitel call id is ASCII letters, digits, - and _ only")
        }
        var request = HTTPClientRequest(url: endpoint + "/api/v2/voice/status/" + vendorCallID)
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "klaxon")
        let status: Int
        let body: [UInt8]
        do {
            let response = try await environment.httpClient.execute(request, timeout: TimeAmount(timeout))
            body = Array(try await response.body.collect(upTo: 1 << 16).readableBytesView)
            status = Int(response.status.code)
        } catch {
            throw redact(Self.transportError(error))
        }
        guard (200..<300).contains(status) else {
            switch Self.classify(httpStatus: status, body: body, retryAfter: nil) {
            case .retryable(let error), .permanent(let error): throw redact(error)
            case .accepted:
                throw VendorError(code: "klaxon.bad_response", message: "Bitel answered the status request with HTTP \(status)", httpStatus: status)
            }
        }
        do {
            return try BitelStatusParser.callDetail(body)
        } catch {
            throw VendorError(code: "klaxon.bad_response", message: error.message, httpStatus: status)
        }
    }

    // MARK: - Classification

    /// Codes Bitel documents (and `InsufficientBalance`, the name VENDORS.md §3.3 gives the
    /// balance error), with what to check. All are permanent: a retry sends the same request.
    public static let permanentCodes: [String: String] = [
        "InvalidRequest": "Bitel found the request invalid; check the voice's voice_id",
        "InvalidServer": "check the provider's server_id",
        "InvalidPhoneNumber": "Bitel calls Iranian mobile numbers (09…) only",
        "NotFound": "Bitel does not know this id",
        "InsufficientBalance": "top up the Bitel account",
        "Unauthorized": "check the provider's token",
    ]

    /// What a Bitel answer means for klaxon (see the type's documentation).
    static func classify(httpStatus: Int, body: [UInt8], retryAfter: Duration?) -> CallResult {
        let envelope = try? JSONDecoder().decode(BitelEnvelope<BitelCallID>.self, from: Data(body))
        let code = envelope?.error.flatMap { $0.isEmpty ? nil : $0 }
        if httpStatus == 401 || httpStatus == 403 {
            return .permanent(
                VendorError(
                    code: "klaxon.auth",
                    message: "Bitel refused the token (\(code ?? "HTTP \(httpStatus)")); Bitel tokens never expire, "
                        + "so neither a retry nor a refresh helps: check the provider's token",
                    httpStatus: httpStatus
                )
            )
        }
        if (200..<300).contains(httpStatus), code == nil {
            if let id = envelope?.result?.id, !id.isEmpty { return .accepted(vendorCallID: id) }
            return .retryable(
                VendorError(code: "klaxon.bad_response", message: "Bitel answered HTTP \(httpStatus) without a call id", httpStatus: httpStatus)
            )
        }
        let retryable = httpStatus == 429 || httpStatus >= 500
        guard let code else {
            let error = VendorError(
                code: "klaxon.http",
                message: "Bitel answered HTTP \(httpStatus) without an error code",
                httpStatus: httpStatus,
                retryAfter: retryable ? retryAfter : nil
            )
            return retryable ? .retryable(error) : .permanent(error)
        }
        if let hint = permanentCodes[code] {
            return .permanent(VendorError(code: code, message: "Bitel refused the call: \(hint)", httpStatus: httpStatus))
        }
        let error = VendorError(code: code, message: "Bitel refused the call", httpStatus: httpStatus, retryAfter: retryable ? retryAfter : nil)
        return retryable ? .retryable(error) : .permanent(error)
    }

    /// A failure to reach Bitel or to read its whole answer in time.
    static func transportError(_ error: any Error) -> VendorError {
        if let error = error as? HTTPClientError,
            [HTTPClientError.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout].contains(error)
        {
            return VendorError(code: "klaxon.timeout", message: "Bitel did not answer in time (\(error))")
        }
        return VendorError(code: "klaxon.transport", message: "could not reach Bitel: \(error)")
    }

    /// `error` with every occurrence of the token cut out, whatever the vendor echoed.
    private func redact(_ error: VendorError) -> VendorError {
        var error = error
        error.message = error.message.replacingOccurrences(of: token, with: "<redacted>")
        error.code = error.code.replacingOccurrences(of: token, with: "<redacted>")
        return error
    }

    /// ASCII letters, digits, `-` and `_`: safe as a path segment without escaping.
    private static func isIDByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
    }

    private func metadata(_ request: CallRequest) -> Logger.Metadata {
        ["provider": "\(name)", "call_id": "\(request.callID)"]
    }
}

extension CallResult {
    fileprivate var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }
}
