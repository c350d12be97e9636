import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import NIOCore
import NIOHTTP1

/// infin8linx batch IVR (`App.Sip_Call.PlayVoice`, VENDORS.md §4): ONE multipart/form-data
/// POST carries every recipient of a request, up to 5,000 numbers; larger steps are split
/// into several posts of at most 5,000.
///
/// Options (the rules' `providers.<name>` keys):
/// - `appid`, `accesskey` (required): sent as form fields; infin8linx has no other auth.
/// - `nationcode` (required): `in` India (+91), `id` Indonesia (+62), `ph` Philippines
///   (+63), `mx` Mexico (+52), `co` Colombia (+57), `tha` Thailand (+66). Only numbers of
///   that country can be called; the others are refused with a permanent
///   `klaxon.number_unsupported`, and the rest of the request is still sent.
/// - `disnumber` (caller id), `userkey` (`0`/`1`: collect a key press), `waittime`,
///   `conntime`: sent only when configured.
/// - `todayonly`: `1` (default, always sent) drops numbers not dialled today; `2` carries
///   them over to the next day, which an alert bridge rarely wants.
/// - `endpoint` (common key) replaces the whole URL `http://platform.infin8linx.com/api/yunhu`.
///   The vendor documents plain http, so the access key crosses the network unencrypted;
///   point `endpoint` at an https URL if infin8linx gives you one.
///
/// Request, field by field in this order: `service=App.Sip_Call.PlayVoice`, `appid`,
/// `accesskey`, `nationcode`, `destnumber` (national digits without the country code,
/// joined with ASCII commas, duplicates removed, first occurrence kept), `voicetype`,
/// `voicefile` (from `.infin8linx(voiceFile:voiceType:)`), `userkey`, `disnumber`,
/// `customuuid` (klaxon's call id, echoed in the call-record callback), `waittime`,
/// `conntime`, `todayonly`.
///
/// Answers: infin8linx gives one answer per post, which becomes every recipient's result.
/// It has no per-number call id, so an accepted call's vendor id is
/// `"<customuuid>:<destnumber>"` (e.g. `k3j9x0a1b2c3:9876543210`), exactly what
/// ``Infin8linxCallbackParser`` builds from the call-record callback. `code` or `ret` 200
/// without `data.errors` and with `data.status` absent or 0 is accepted; every other
/// documented code is classified in ``errorCodes``; HTTP 429/5xx, timeouts and transport
/// errors are retryable.
///
/// The access key never appears in results, errors, logs or this value's description.
public struct Infin8linxClient: VoiceProvider, CustomStringConvertible, CustomReflectable {
    public static let defaultEndpoint = "http://platform.infin8linx.com/api/yunhu"
    public static let service = "App.Sip_Call.PlayVoice"
    /// The most numbers infin8linx takes in one post.
    public static let maxNumbersPerRequest = 5000
    /// `nationcode` → the country's calling code.
    public static let countryCodes: [String: String] = ["in": "91", "id": "62", "ph": "63", "mx": "52", "co": "57", "tha": "66"]

    public let name: String
    public let type = ProviderType.infin8linx
    /// The full URL posted to.
    public let endpoint: String
    public let nationCode: String
    public let timeout: Duration
    /// How many numbers one post carries at most (5,000; lower only in tests).
    let batchLimit: Int
    private let appID: String
    private let accessKey: String
    private let optionalFields: [MultipartFormData.Field]
    private let todayOnly: String
    private let environment: ProviderEnvironment

    /// - Throws: ``ProviderConfigError`` when `appid`, `accesskey` or `nationcode` is
    ///   missing, `nationcode` is not one of the six, `userkey` is not 0/1, `todayonly` is
    ///   not 1/2, `waittime`/`conntime` is not a positive whole number, or the endpoint is
    ///   not an http(s) URL.
    public init(config: ProviderConfig, environment: ProviderEnvironment) throws(ProviderConfigError) {
        try self.init(config: config, environment: environment, batchLimit: Self.maxNumbersPerRequest)
    }

    init(config: ProviderConfig, environment: ProviderEnvironment, batchLimit: Int) throws(ProviderConfigError) {
        func fail(_ message: String) -> ProviderConfigError { ProviderConfigError(provider: config.name, message: message) }
        let options = config.options
        guard let appID = options["appid"], !appID.isEmpty else { throw fail("appid is required") }
        guard let accessKey = options["accesskey"], !accessKey.isEmpty else { throw fail("accesskey is required") }
        guard let nationCode = options["nationcode"] else { throw fail("nationcode is required (one of co, id, in, mx, ph, tha)") }
        guard Self.countryCodes[nationCode] != nil else {
            throw fail("nationcode must be one of co, id, in, mx, ph, tha, not \"\(nationCode)\"")
        }
        var optionalFields: [MultipartFormData.Field] = []
        if let userKey = options["userkey"] {
            guard userKey == "0" || userKey == "1" else { throw fail("userkey must be 0 or 1, not \"\(userKey)\"") }
            optionalFields.append(.init(name: "userkey", value: userKey))
        }
        if let disNumber = options["disnumber"] {
            guard !disNumber.isEmpty, disNumber.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw fail("disnumber must be digits (the caller id as infin8linx dials it)")
            }
            optionalFields.append(.init(name: "disnumber", value: disNumber))
        }
        let todayOnly = options["todayonly"] ?? "1"
        guard todayOnly == "1" || todayOnly == "2" else { throw fail("todayonly must be 1 or 2, not \"\(todayOnly)\"") }
        var endpoint = config.endpoint ?? Self.defaultEndpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"), URL(string: endpoint)?.host != nil else {
            throw fail("endpoint must be an http:// or https:// URL")
        }
        self.name = config.name
        self.endpoint = endpoint
        self.nationCode = nationCode
        self.timeout = config.timeout
        self.batchLimit = max(1, batchLimit)
        self.appID = appID
        self.accessKey = accessKey
        self.todayOnly = todayOnly
        self.environment = environment
        // customuuid comes between disnumber and waittime; waittime and conntime are added per post.
        var timing: [MultipartFormData.Field] = []
        for key in ["waittime", "conntime"] {
            guard let text = options[key] else { continue }
            guard let value = Int(text), value > 0 else { throw fail("\(key) must be a whole number of seconds above 0, not \"\(text)\"") }
            timing.append(.init(name: key, value: String(value)))
        }
        self.optionalFields = optionalFields + timing
        if endpoint.hasPrefix("http://"), let host = URL(string: endpoint)?.host, host != "127.0.0.1", host != "localhost", host != "::1" {
            environment.logger.notice(
                "infin8linx endpoint is plain http, as the vendor documents it: the accesskey crosses the network unencrypted",
                metadata: ["provider": "\(config.name)", "endpoint": "\(endpoint)"]
            )
        }
    }

    public var description: String { "Infin8linxClient(name: \(name), endpoint: \(endpoint), nationcode: \(nationCode))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "endpoint": endpoint, "nationCode": nationCode])
    }

    /// The national digits infin8linx dials for `phone` when it is an E.164 number of
    /// `nationCode`'s country (`+919876543210`, `in` → `9876543210`); nil otherwise.
    public static func nationalNumber(_ phone: String, nationCode: String) -> String? {
        guard let countryCode = countryCodes[nationCode] else { return nil }
        return PhoneNumber.national(phone, countryCode: countryCode)
    }

    // MARK: - Placing calls

    public func placeCalls(_ request: CallRequest) async -> [RecipientResult] {
        guard case .infin8linx(let voiceFile, let voiceType) = request.prompt, !voiceFile.isEmpty else {
            return refuseAll(
                request,
                VendorError(
                    code: "klaxon.voice_missing",
                    message: "the voice has no infin8linx voice file; give it `infin8linx: {voice_file: …, voice_type: 1|2}`"
                )
            )
        }
        guard voiceType == 1 || voiceType == 2 else {
            return refuseAll(
                request,
                VendorError(
                    code: "klaxon.voice_invalid",
                    message: "infin8linx voice_type must be 1 (a file uploaded to infin8linx) or 2 (a URL), not \(voiceType)"
                )
            )
        }

        // Distinct national numbers in the order of their first recipient.
        var numbers: [String] = []
        var seen: Set<String> = []
        let numberOfRecipient = request.recipients.map { recipient -> String? in
            guard let national = Self.nationalNumber(recipient.phone, nationCode: nationCode) else { return nil }
            if seen.insert(national).inserted { numbers.append(national) }
            return national
        }
        let batches = stride(from: 0, to: numbers.count, by: batchLimit).map { Array(numbers[$0..<min($0 + batchLimit, numbers.count)]) }

        let batchResults = await withTaskGroup(of: (Int, CallResult).self) { group in
            for (index, batch) in batches.enumerated() {
                group.addTask {
                    (index, await post(batch, index: index, of: batches.count, voiceFile: voiceFile, voiceType: voiceType, callID: request.callID))
                }
            }
            var results = [CallResult?](repeating: nil, count: batches.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        var resultOfNumber: [String: CallResult] = [:]
        for (batch, result) in zip(batches, batchResults) {
            for number in batch { resultOfNumber[number] = result }
        }

        let countryCode = Self.countryCodes[nationCode] ?? ""
        return zip(request.recipients, numberOfRecipient).map { recipient, national in
            guard let national, let result = resultOfNumber[national] else {
                environment.logger.warning(
                    "infin8linx call not placed: number not supported",
                    metadata: ["provider": "\(name)", "call_id": "\(request.callID)", "to": "\(recipient.maskedPhone)"]
                )
                return RecipientResult(
                    recipient: recipient,
                    result: .permanent(
                        VendorError(
                            code: "klaxon.number_unsupported",
                            message: "this infin8linx provider calls +\(countryCode) numbers only (nationcode \(nationCode)); "
                                + "\(recipient.maskedPhone) is not one"
                        )
                    )
                )
            }
            if case .accepted = result {
                return RecipientResult(recipient: recipient, result: .accepted(vendorCallID: "\(request.callID):\(national)"))
            }
            return RecipientResult(recipient: recipient, result: result)
        }
    }

    /// The form of one post, fields in the documented order.
    func form(numbers: [String], voiceFile: String, voiceType: Int, callID: String) -> MultipartFormData {
        var fields: [MultipartFormData.Field] = [
            .init(name: "service", value: Self.service),
            .init(name: "appid", value: appID),
            .init(name: "accesskey", value: accessKey),
            .init(name: "nationcode", value: nationCode),
            .init(name: "destnumber", value: numbers.joined(separator: ",")),
            .init(name: "voicetype", value: String(voiceType)),
            .init(name: "voicefile", value: voiceFile),
        ]
        fields += optionalFields.filter { $0.name == "userkey" || $0.name == "disnumber" }
        fields.append(.init(name: "customuuid", value: callID))
        fields += optionalFields.filter { $0.name == "waittime" || $0.name == "conntime" }
        fields.append(.init(name: "todayonly", value: todayOnly))
        return MultipartFormData(fields: fields)
    }

    private func post(_ numbers: [String], index: Int, of count: Int, voiceFile: String, voiceType: Int, callID: String) async -> CallResult {
        let form = form(numbers: numbers, voiceFile: voiceFile, voiceType: voiceType, callID: callID)
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: form.contentType)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "klaxon")
        request.body = .bytes(ByteBuffer(bytes: form.encoded()))
        var metadata: Logger.Metadata = [
            "provider": "\(name)", "call_id": "\(callID)", "numbers": "\(numbers.count)", "batch": "\(index + 1)/\(count)",
        ]

        var result: CallResult
        do {
            let response = try await environment.httpClient.execute(request, timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: 1 << 16)
            result = Self.classify(httpStatus: Int(response.status.code), body: Array(body.readableBytesView))
        } catch {
            result = .retryable(Self.transportError(error))
        }
        switch result {
        case .accepted:
            environment.logger.info("infin8linx batch accepted", metadata: metadata)
        case .retryable(let error), .permanent(let error):
            var redacted = error
            redacted.message = redacted.message.replacingOccurrences(of: accessKey, with: "<redacted>")
            redacted.code = redacted.code.replacingOccurrences(of: accessKey, with: "<redacted>")
            if case .retryable = result { result = .retryable(redacted) } else { result = .permanent(redacted) }
            metadata["code"] = "\(redacted.code)"
            metadata["error"] = "\(redacted.message)"
            if let status = redacted.httpStatus { metadata["http_status"] = "\(status)" }
            environment.logger.warning("infin8linx batch not accepted", metadata: metadata)
        }
        return result
    }

    private func refuseAll(_ request: CallRequest, _ error: VendorError) -> [RecipientResult] {
        environment.logger.warning(
            "infin8linx call not placed",
            metadata: ["provider": "\(name)", "call_id": "\(request.callID)", "code": "\(error.code)"]
        )
        return request.recipients.map { RecipientResult(recipient: $0, result: .permanent(error)) }
    }

    // MARK: - Classification

    /// Every code infin8linx documents (VENDORS.md §4.2), whether a retry can help, and what
    /// to check. `ret`/`code` values come from the global error page, `data.errors.code`
    /// values from its "processed but failed" form.
    static let errorCodes: [String: (retryable: Bool, meaning: String)] = [
        "400": (false, "illegal request: a parameter is missing or invalid"),
        "500": (true, "infin8linx server error"),
        "600": (false, "token invalid; check appid and accesskey"),
        "601": (false, "appid not authorised; check appid and accesskey"),
        "602": (false, "the appid's authorisation has expired; renew it with infin8linx"),
        "603": (false, "the account is not licensed for this module (IVR group call)"),
        "604": (false, "this host's IP address is not authorised; ask infin8linx to allow it"),
        "1001": (true, "infin8linx could not connect to its call server"),
        "1002": (true, "abnormal operation on infin8linx's side"),
        "1003": (false, "operation failed (authorisation or sending the play command)"),
        "1010": (false, "extension state 1010 (not expected for IVR calls)"),
        "1011": (false, "extension state 1011 (not expected for IVR calls)"),
        "1012": (false, "extension state 1012 (not expected for IVR calls)"),
        "1013": (false, "extension state 1013 (not expected for IVR calls)"),
        "1014": (false, "extension state 1014 (not expected for IVR calls)"),
        "1015": (false, "extension state 1015 (not expected for IVR calls)"),
        "1016": (false, "extension state 1016 (not expected for IVR calls)"),
        "1017": (false, "extension state 1017 (not expected for IVR calls)"),
        "1018": (false, "extension state 1018 (not expected for IVR calls)"),
    ]

    /// What one infin8linx answer means for every number of its post.
    ///
    /// The body decides when it is infin8linx's envelope (`code` or `ret`), whatever the
    /// HTTP status: success is 200 with no `data.errors` and `data.status` absent or 0.
    /// Without an envelope, HTTP 429/5xx is retryable `klaxon.http`, another non-2xx is
    /// permanent `klaxon.http`, and a 2xx is retryable `klaxon.bad_response`.
    static func classify(httpStatus: Int, body: [UInt8]) -> CallResult {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body)), let status = answer.code ?? answer.ret else {
            if (200..<300).contains(httpStatus) {
                return .retryable(
                    VendorError(
                        code: "klaxon.bad_response",
                        message: "infin8linx answered HTTP \(httpStatus) with a body klaxon cannot read",
                        httpStatus: httpStatus
                    )
                )
            }
            let error = VendorError(code: "klaxon.http", message: "infin8linx answered HTTP \(httpStatus)", httpStatus: httpStatus)
            return httpStatus == 429 || httpStatus >= 500 ? .retryable(error) : .permanent(error)
        }
        let message = answer.msg.flatMap { $0.isEmpty ? nil : $0 }
        if status == 200 {
            if answer.dataUnreadable {
                return .retryable(
                    VendorError(
                        code: "klaxon.bad_response",
                        message: "infin8linx answered 200 with a data field klaxon cannot read, which may hold errors",
                        httpStatus: httpStatus
                    )
                )
            }
            if let errors = answer.data?.errors {
                return classify(code: errors.code ?? "unknown", vendorMessage: errors.codemsg ?? answer.data?.desc ?? message, httpStatus: httpStatus)
            }
            if let dataStatus = answer.data?.status, dataStatus != 0 {
                return .permanent(
                    VendorError(
                        code: "status_\(dataStatus)",
                        message: "infin8linx did not process the request: \(answer.data?.desc ?? message ?? "no reason given")",
                        httpStatus: httpStatus
                    )
                )
            }
            return .accepted(vendorCallID: "")
        }
        return classify(code: String(status), vendorMessage: message, httpStatus: httpStatus)
    }

    private static func classify(code: String, vendorMessage: String?, httpStatus: Int) -> CallResult {
        let known = errorCodes[code]
        var text = vendorMessage ?? "infin8linx refused the request"
        if let known { text += " (klaxon: \(known.meaning))" }
        let error = VendorError(code: code, message: text, httpStatus: httpStatus)
        let retryable = known?.retryable ?? ((Int(code).map { (500..<600).contains($0) } ?? false) || httpStatus == 429 || httpStatus >= 500)
        return retryable ? .retryable(error) : .permanent(error)
    }

    static func transportError(_ error: any Error) -> VendorError {
        if let error = error as? HTTPClientError,
            [HTTPClientError.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout].contains(error)
        {
            return VendorError(code: "klaxon.timeout", message: "infin8linx did not answer in time (\(error))")
        }
        return VendorError(code: "klaxon.transport", message: "could not reach infin8linx: \(error)")
    }

    /// infin8linx's answer in either envelope: `{"code":200,"msg":…,"data":{…}}` or
    /// `{"ret":601,"data":[],"msg":…}`; `data` may be an object, an empty array or absent.
    struct Answer: Decodable {
        var code: Int?
        var ret: Int?
        var msg: String?
        var data: Payload?
        /// `data` is there but is neither an empty array nor an object klaxon can read: its
        /// `errors` may be in it, so the answer is not a success.
        var dataUnreadable = false

        struct Payload: Decodable {
            var status: Int?
            var desc: String?
            var errors: Errors?

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: LenientCodingKey.self)
                status = try container.lenientInt("status")
                desc = try container.lenientString("desc")
                let key = LenientCodingKey("errors")
                if container.contains(key), try !container.decodeNil(forKey: key) {
                    if let errors = try? container.decode(Errors.self, forKey: key) {
                        self.errors = errors
                    } else if let list = try? container.decode([Errors].self, forKey: key), list.isEmpty {
                        self.errors = nil  // `"errors": []`: PHP's empty array, no error
                    } else {
                        self.errors = Errors(code: nil, codemsg: nil)  // some error klaxon cannot read: not a success
                    }
                }
            }
        }

        struct Errors: Decodable {
            var code: String?
            var codemsg: String?

            init(code: String?, codemsg: String?) {
                self.code = code
                self.codemsg = codemsg
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: LenientCodingKey.self)
                code = try container.lenientString("code")
                codemsg = try container.lenientString("codemsg")
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: LenientCodingKey.self)
            code = try container.lenientInt("code")
            ret = try container.lenientInt("ret")
            msg = try container.lenientString("msg")
            // `data` is `[]` on errors; only an object carries status and errors.
            let key = LenientCodingKey("data")
            guard container.contains(key), try !container.decodeNil(forKey: key) else { return }
            if let payload = try? container.decode(Payload.self, forKey: key) {
                data = payload
            } else if let list = try? container.decode([Int].self, forKey: key), list.isEmpty {
                data = nil
            } else {
                dataUnreadable = true
            }
        }
    }
}
