import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import NIOCore
import NIOHTTP1

/// Alibaba Cloud voice notifications (Dyvmsapi 2017-05-25): `SingleCallByVoice` for an
/// approved voice file, `SingleCallByTts` for a TTS template.
///
/// One HTTP request per recipient (Aliyun takes one number per request), at most
/// ``maxConcurrentRequests`` at a time, results in the request's order. Each request is
/// `POST /` with every parameter, `Signature` included, in an
/// `application/x-www-form-urlencoded` body, signed with method `POST` (``AliyunRPCSigner``),
/// with a fresh UUID `SignatureNonce` and a `Timestamp` from the environment's clock.
///
/// Refused before any request is sent (permanent):
/// - a prompt that is not `.aliyunVoice`/`.aliyunTTS` (`klaxon.voice_missing`);
/// - a number outside mainland China (`klaxon.number_unsupported`): Aliyun stopped
///   international voice notifications for new customers in March 2022, and klaxon does
///   not send numbers it cannot place; a number that is not E.164 (`klaxon.number_invalid`);
/// - an `OutId` (`out_id_prefix` + call id) over 15 bytes (`klaxon.out_id_too_long`).
///
/// Options (YAML keys): `access_key_id`, `access_key_secret` (required),
/// `called_show_number`, `volume` (0–100), `play_times` (1–3), `region_id`, `out_id_prefix`.
public struct AliyunVoiceClient: VoiceProvider {
    /// Dyvmsapi's one central endpoint.
    public static let defaultEndpoint = "https://dyvmsapi.aliyuncs.com/"
    public static let apiVersion = "2017-05-25"
    /// `OutId` is 1–15 bytes and carries `out_id_prefix` + klaxon's call id.
    public static let outIDLimit = 15
    /// Requests in flight at once for one ``placeCalls(_:)``.
    public static let maxConcurrentRequests = 4
    /// Larger answers are not Dyvmsapi's and are not read further.
    static let maxResponseBytes = 64 * 1024

    public let name: String
    public var type: ProviderType { .aliyun }

    private let url: String
    private let accessKeyID: String
    private let accessKeySecret: String
    private let calledShowNumber: String?
    private let volume: Int?
    private let playTimes: Int?
    private let regionID: String?
    private let outIDPrefix: String
    private let timeout: Duration
    private let environment: ProviderEnvironment

    /// Builds the client; throws when a required option is missing or empty, a number
    /// option is out of range, the endpoint is not an http(s) URL, or `out_id_prefix` leaves
    /// no room for a 12-character call id in 15 bytes.
    public init(config: ProviderConfig, environment: ProviderEnvironment) throws(ProviderConfigError) {
        func fail(_ message: String) -> ProviderConfigError { ProviderConfigError(provider: config.name, message: message) }
        func required(_ key: String) throws(ProviderConfigError) -> String {
            guard let value = config.options[key], !value.isEmpty else { throw fail("\(key) is required") }
            return value
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws(ProviderConfigError) -> Int? {
            guard let text = config.options[key], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw fail("\(key) must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
            }
            return value
        }
        func optional(_ key: String) -> String? { config.options[key].flatMap { $0.isEmpty ? nil : $0 } }

        self.name = config.name
        self.accessKeyID = try required("access_key_id")
        self.accessKeySecret = try required("access_key_secret")
        self.calledShowNumber = optional("called_show_number")
        self.volume = try integer("volume", in: 0...100)
        self.playTimes = try integer("play_times", in: 1...3)
        self.regionID = optional("region_id")
        self.outIDPrefix = optional("out_id_prefix") ?? ""
        let room = Self.outIDLimit - CallID.length
        guard outIDPrefix.utf8.count <= room else {
            throw fail(
                "out_id_prefix \"\(outIDPrefix)\" is \(outIDPrefix.utf8.count) bytes; Aliyun's OutId holds 15, of which \(CallID.length) are the call id"
            )
        }
        self.url = try Self.endpointURL(config.endpoint ?? Self.defaultEndpoint, fail: fail)
        self.timeout = config.timeout
        self.environment = environment
    }

    public func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        var results = [CallResult?](repeating: nil, count: request.recipients.count)
        await withTaskGroup(of: (Int, CallResult).self) { group in
            var next = 0
            func startNext() {
                guard next < request.recipients.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await placeCall(request, to: request.recipients[index])) }
            }
            for _ in 0..<Self.maxConcurrentRequests { startNext() }
            for await (index, result) in group {
                results[index] = result
                startNext()
            }
        }
        return zip(request.recipients, results).map { RecipientResult(recipient: $0, result: $1!) }
    }

    /// Aliyun's `CalledNumber` for an E.164 number: a mainland mobile without `+86`
    /// (`+8613700000000` → `13700000000`) or a landline with its trunk `0`
    /// (`+8657112345678` → `057112345678`). Throws a permanent-failure error otherwise,
    /// including for a number starting with `1` that is not an 11-digit mobile: Beijing's
    /// `10` is the only area code starting with `1`, so `+861381234567` is a mobile with a
    /// digit missing, not a landline.
    public static func calledNumber(_ phone: String) throws(VendorError) -> String {
        guard PhoneNumber.isE164(phone) else {
            throw VendorError(code: "klaxon.number_invalid", message: "\(PhoneNumber.mask(phone)) is not an E.164 number (+ country code and digits)")
        }
        guard let national = PhoneNumber.national(phone, countryCode: "86") else {
            throw VendorError(
                code: "klaxon.number_unsupported",
                message: "Aliyun calls mainland China (+86) numbers only; \(PhoneNumber.mask(phone)) is not one "
                    + "(Aliyun stopped international voice notifications for new customers in March 2022)"
            )
        }
        let digits = Array(national.utf8)
        if digits.count == 11, digits[0] == UInt8(ascii: "1"), (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(digits[1]) {
            return national
        }
        let beijing = digits.count == 10 && national.hasPrefix("10")
        if (9...11).contains(digits.count), digits[0] != UInt8(ascii: "1") || beijing {
            return "0" + national
        }
        let hint = digits[0] == UInt8(ascii: "1") ? " (a mobile number has 11 digits after +86)" : ""
        throw VendorError(
            code: "klaxon.number_unsupported",
            message: "\(PhoneNumber.mask(phone)) is neither a mainland China mobile (+86 1xx xxxx xxxx) nor a landline with area code\(hint)"
        )
    }

    /// TTS template parameters as Aliyun's `TtsParam`: a compact JSON object with keys in
    /// byte order, strings escaped as JSON requires and nothing else escaped.
    public static func ttsParam(_ params: [String: String]) -> String {
        let members = params.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            .map { "\(JSONStringLiteral.quoted($0.key)):\(JSONStringLiteral.quoted($0.value))" }
        return "{" + members.joined(separator: ",") + "}"
    }

    // MARK: - One recipient

    private func placeCall(_ request: CallRequest, to recipient: CallRecipient) async -> CallResult {
        var logger = environment.logger
        logger[metadataKey: "provider"] = "\(name)"
        logger[metadataKey: "call_id"] = "\(request.callID)"
        logger[metadataKey: "to"] = "\(recipient.maskedPhone)"

        let parameters: [String: String]
        let calledNumber: String
        do throws(VendorError) {
            calledNumber = try Self.calledNumber(recipient.phone)
            parameters = try operationParameters(request, calledNumber: calledNumber)
        } catch {
            logger.warning("aliyun call refused before sending", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            return .permanent(error)
        }

        let result = await send(parameters, calledNumber: calledNumber, phone: recipient.phone, logger: logger)
        switch result {
        case .accepted(let vendorCallID):
            logger.info("aliyun call accepted", metadata: ["vendor_call_id": "\(vendorCallID)", "action": "\(parameters["Action"] ?? "")"])
        case .retryable(let error), .permanent(let error):
            logger.warning(
                "aliyun call failed",
                metadata: ["code": "\(error.code)", "reason": "\(error.message)", "retryable": "\(!result.isPermanent)"]
            )
        }
        return result
    }

    /// The operation's parameters (everything but the common signing parameters).
    private func operationParameters(_ request: CallRequest, calledNumber: String) throws(VendorError) -> [String: String] {
        var parameters = ["CalledNumber": calledNumber]
        switch request.prompt {
        case .aliyunVoice(let voiceCode) where !voiceCode.isEmpty:
            parameters["Action"] = "SingleCallByVoice"
            parameters["VoiceCode"] = voiceCode
        case .aliyunTTS(let ttsCode, let params) where !ttsCode.isEmpty:
            parameters["Action"] = "SingleCallByTts"
            parameters["TtsCode"] = ttsCode
            if !params.isEmpty { parameters["TtsParam"] = Self.ttsParam(params) }
        default:
            throw VendorError(
                code: "klaxon.voice_missing",
                message: "the voice has no Aliyun voice_code or tts_code for provider \"\(name)\""
            )
        }
        let outID = outIDPrefix + request.callID
        guard outID.utf8.count <= Self.outIDLimit else {
            throw VendorError(
                code: "klaxon.out_id_too_long",
                message: "OutId \"\(outID)\" is \(outID.utf8.count) bytes; Aliyun allows \(Self.outIDLimit) (shorten out_id_prefix)"
            )
        }
        if !outID.isEmpty { parameters["OutId"] = outID }
        if let calledShowNumber { parameters["CalledShowNumber"] = calledShowNumber }
        if let playTimes { parameters["PlayTimes"] = String(playTimes) }
        if let volume { parameters["Volume"] = String(volume) }
        return parameters
    }

    private func send(_ operation: [String: String], calledNumber: String, phone: String, logger: Logger) async -> CallResult {
        var parameters = operation
        parameters["AccessKeyId"] = accessKeyID
        parameters["Format"] = "JSON"
        parameters["SignatureMethod"] = "HMAC-SHA1"
        parameters["SignatureNonce"] = UUID().uuidString.lowercased()
        parameters["SignatureVersion"] = "1.0"
        parameters["Timestamp"] = AliyunRPCSigner.timestamp(environment.now())
        parameters["Version"] = Self.apiVersion
        if let regionID { parameters["RegionId"] = regionID }

        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        request.body = .bytes(ByteBuffer(string: AliyunRPCSigner.signedQuery(parameters, method: "POST", secret: accessKeySecret)))

        let status: Int
        let body: ByteBuffer
        do {
            let response = try await environment.httpClient.execute(request, timeout: TimeAmount(timeout), logger: logger)
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: Self.maxResponseBytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .retryable(VendorError(code: "klaxon.timeout", message: "no answer from Aliyun within \(timeout)"))
        } catch is NIOTooManyBytesError {
            return .retryable(
                VendorError(
                    code: "klaxon.bad_response",
                    message: "Aliyun's answer is larger than \(Self.maxResponseBytes) bytes; not Dyvmsapi's JSON"
                )
            )
        } catch {
            return .retryable(
                VendorError(code: "klaxon.transport", message: "could not reach Aliyun: \(scrub(String(describing: error), calledNumber, phone))")
            )
        }

        guard let answer = AliyunResponse.decode(body.readableBytesView) else {
            let snippet = String(decoding: body.readableBytesView.prefix(120), as: UTF8.self)
            return .retryable(
                VendorError(
                    code: "klaxon.bad_response",
                    message: "Aliyun answered HTTP \(status) with a body that is not Dyvmsapi's JSON: \(scrub(snippet, calledNumber, phone))",
                    httpStatus: status
                )
            )
        }
        if answer.code == "OK" {
            if answer.callID == nil { logger.warning("aliyun accepted the call without a CallId") }
            return .accepted(vendorCallID: answer.callID ?? "")
        }
        let message = scrub(answer.message ?? "(no message)", calledNumber, phone)
        return AliyunErrorClassifier.classify(code: answer.code, message: message, httpStatus: status)
    }

    /// `text` with the called number masked (in either form, as the masked E.164 number) and
    /// the secret removed, in case a vendor or transport message echoes them.
    private func scrub(_ text: String, _ calledNumber: String, _ phone: String) -> String {
        text.replacingOccurrences(of: accessKeySecret, with: "<redacted>")
            .replacingOccurrences(of: phone, with: PhoneNumber.mask(phone))
            .replacingOccurrences(of: calledNumber, with: PhoneNumber.mask(phone))
    }

    // MARK: - Helpers

    private static func endpointURL(_ endpoint: String, fail: (String) -> ProviderConfigError) throws(ProviderConfigError) -> String {
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, components.query == nil
        else {
            throw fail("endpoint \"\(endpoint)\" is not an http(s) URL without a query string")
        }
        return components.path.isEmpty ? endpoint + "/" : endpoint
    }
}

extension CallResult {
    fileprivate var isPermanent: Bool {
        if case .permanent = self { return true }
        return false
    }
}
