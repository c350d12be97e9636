import Crypto
import Foundation
import Hummingbird
import NIOCore

/// A loopback Dyvmsapi (2017-05-25) that checks requests as the Aliyun gateway does and
/// answers with its codes and HTTP statuses (VENDORS.md §1).
///
/// `GET /` and `POST /` take `SingleCallByVoice` and `SingleCallByTts`. Parameters are
/// merged from the query string and, for an `application/x-www-form-urlencoded` POST, the
/// body; `Signature` is dropped and recomputed with the HTTP method received, by an
/// implementation of its own (not klaxon's signer, so a shared bug cannot hide). Extra
/// parameters are signed like any other and otherwise ignored (the old SDK's `SignatureType=`).
///
/// Checks, in order, with the answer each failure gets:
/// 1. common parameters present: `Action`, `Version`, `AccessKeyId`, `Signature`,
///    `SignatureMethod` (HMAC-SHA1), `SignatureVersion` (1.0), `SignatureNonce`, `Timestamp`
///    → 400 `MissingParameter` / `InvalidParameter`; `Format` absent or `XML` answers in XML,
///    as the real default;
/// 2. `Timestamp` well formed (400 `InvalidTimeStamp.Format`) and within 15 minutes of
///    `now` (400 `InvalidTimeStamp.Expired`);
/// 3. `Version` (400 `InvalidVersion`) and `Action` (404 `InvalidAction.NotFound`);
/// 4. `AccessKeyId` known (404 `InvalidAccessKeyId.NotFound`), signature matching
///    (400 `SignatureDoesNotMatch`, echoing the server's string to sign, as Aliyun does);
/// 5. `SignatureNonce` not seen in the last 15 minutes (400 `SignatureNonceUsed`);
/// 6. operation parameters: `CalledNumber` present and a mainland number without `+86`
///    (400 `isv.MOBILE_NUMBER_ILLEGAL`), `VoiceCode`/`TtsCode` present (400 `MissingParameter`)
///    and approved (400 `isv.VOICE_FILE_ILLEGAL` / `isv.TTS_TEMPLATE_ILLEGAL`), `TtsParam` a
///    JSON object of strings, `CalledShowNumber` bought (400 `isv.DISPLAY_NUMBER_ILLEGAL`),
///    `OutId` 1–15 bytes (400 `isv.PARAM_LENGTH_LIMIT`), `PlayTimes` 1–3, `Volume` 0–100,
///    `Speed` -500–500 (400 `isv.INVALID_PARAMETERS`);
/// 7. per called number, at most 1 accepted call a minute, 5 an hour, 20 a day
///    (400 `isv.BUSINESS_LIMIT_CONTROL`). Aliyun counts per voice file as well; the fake
///    counts per number only, which is stricter.
///
/// Success: 200 `{"Message":"OK","RequestId":"<uuid>","Code":"OK","CallId":"<digits>^<digits>"}`.
/// Every request is recorded in ``state`` first, and its queued faults apply before any check.
public struct AliyunFake: Sendable {
    /// A call the fake accepted, for assertions.
    public struct AcceptedCall: Sendable, Hashable {
        public var method: String
        /// Every parameter received except `Signature`.
        public var parameters: [String: String]
        public var callID: String
        public var acceptedAt: Date
    }

    public let state: FakeVendorState
    /// AccessKeyId → AccessKeySecret pairs the fake accepts.
    public let credentials: [String: String]
    /// Bought display numbers; nil accepts any digits.
    public let showNumbers: Set<String>?
    /// Approved voice files; nil accepts any.
    public let voiceCodes: Set<String>?
    /// Approved TTS templates; nil accepts any.
    public let ttsCodes: Set<String>?
    /// The fake's clock, for timestamp, nonce and throttling windows.
    public let now: @Sendable () -> Date
    private let ledger = Ledger()

    public init(
        credentials: [String: String] = ["testid": "testsecret"],
        state: FakeVendorState = FakeVendorState(),
        showNumbers: Set<String>? = nil,
        voiceCodes: Set<String>? = nil,
        ttsCodes: Set<String>? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.credentials = credentials
        self.state = state
        self.showNumbers = showNumbers
        self.voiceCodes = voiceCodes
        self.ttsCodes = ttsCodes
        self.now = now
    }

    /// The calls accepted so far, in order.
    public func acceptedCalls() async -> [AcceptedCall] { await ledger.accepted }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let fake = self
        @Sendable func handle(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
            let body = try await request.body.collect(upTo: 1 << 20)
            if let faulted = try await fake.state.intercept(request, body: body) { return faulted }
            var parameters = Self.decodeForm(request.uri.query ?? "")
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if request.method == .post, contentType.hasPrefix("application/x-www-form-urlencoded") {
                parameters.merge(Self.decodeForm(String(buffer: body))) { _, fromBody in fromBody }
            }
            let answer = await fake.answer(method: request.method.rawValue, parameters: parameters)
            let isXML = answer.xml
            return Response(
                status: .init(code: answer.status),
                headers: [.contentType: isXML ? "text/xml;charset=utf-8" : "application/json;charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: answer.body))
            )
        }
        router.get("/", use: handle)
        router.post("/", use: handle)
        return router
    }

    /// What Dyvmsapi answers to `parameters` (as received, `Signature` included) sent with
    /// `method`: the HTTP status, the body, and whether the body is XML.
    public func answer(method: String, parameters: [String: String]) async -> (status: Int, body: String, xml: Bool) {
        let xml = parameters["Format"].map { $0.uppercased() == "XML" } ?? true
        func fail(_ status: Int, _ code: String, _ message: String) -> (status: Int, body: String, xml: Bool) {
            (
                status, Self.render(["RequestId": UUID().uuidString, "HostId": "dyvmsapi.aliyuncs.com", "Code": code, "Message": message], xml: xml),
                xml
            )
        }
        func missing(_ name: String) -> (status: Int, body: String, xml: Bool) {
            fail(400, "MissingParameter", "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied.")
        }

        for name in ["Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"]
        where (parameters[name] ?? "").isEmpty {
            return missing(name)
        }
        if let format = parameters["Format"], !["JSON", "XML"].contains(format.uppercased()) {
            return fail(400, "InvalidParameter", "Specified parameter Format is not valid.")
        }
        guard parameters["SignatureMethod"] == "HMAC-SHA1" else {
            return fail(400, "InvalidParameter", "Specified signature method is not supported.")
        }
        guard parameters["SignatureVersion"] == "1.0" else {
            return fail(400, "InvalidParameter", "Specified signature version is not supported.")
        }
        guard let timestamp = Self.parseTimestamp(parameters["Timestamp"]!) else {
            return fail(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
        }
        let currentTime = now()
        guard abs(timestamp.timeIntervalSince(currentTime)) <= 15 * 60 else {
            return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        }
        guard parameters["Version"] == "2017-05-25" else {
            return fail(400, "InvalidVersion", "Specified parameter Version is not valid.")
        }
        let action = parameters["Action"]!
        guard action == "SingleCallByVoice" || action == "SingleCallByTts" else {
            return fail(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
        }
        guard let secret = credentials[parameters["AccessKeyId"]!] else {
            return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        }
        var signed = parameters
        let received = signed.removeValue(forKey: "Signature")!
        let stringToSign = Self.stringToSign(signed, method: method)
        guard Self.sign(stringToSign, secret: secret) == received else {
            return fail(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to sign is:\(stringToSign)"
            )
        }
        guard await ledger.useNonce(parameters["SignatureNonce"]!, at: currentTime) else {
            return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        }

        if let refusal = check(operation: action, parameters) { return fail(400, refusal.code, refusal.message) }
        let number = parameters["CalledNumber"]!
        guard let callID = await ledger.accept(method: method, parameters: signed, number: number, at: currentTime) else {
            return fail(400, "isv.BUSINESS_LIMIT_CONTROL", "该被叫号触发被叫流控,partnerId=,prodId=")
        }
        return (
            200,
            Self.render(["Message": "OK", "RequestId": UUID().uuidString, "Code": "OK", "CallId": callID], xml: xml, root: "\(action)Response"),
            xml
        )
    }

    /// The first business-parameter problem, as Dyvmsapi's code and message.
    private func check(operation action: String, _ parameters: [String: String]) -> (code: String, message: String)? {
        func missing(_ name: String) -> (code: String, message: String) {
            ("MissingParameter", "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied.")
        }
        guard let number = parameters["CalledNumber"], !number.isEmpty else { return missing("CalledNumber") }
        guard Self.isMainlandNumber(number) else {
            return ("isv.MOBILE_NUMBER_ILLEGAL", "号码格式非法: CalledNumber must be a mainland China number without +86")
        }
        if action == "SingleCallByVoice" {
            guard let voiceCode = parameters["VoiceCode"], !voiceCode.isEmpty else { return missing("VoiceCode") }
            if let voiceCodes, !voiceCodes.contains(voiceCode) { return ("isv.VOICE_FILE_ILLEGAL", "语音文件不合法: VoiceCode is not approved") }
        } else {
            guard let ttsCode = parameters["TtsCode"], !ttsCode.isEmpty else { return missing("TtsCode") }
            if let ttsCodes, !ttsCodes.contains(ttsCode) { return ("isv.TTS_TEMPLATE_ILLEGAL", "TTS模板不合法: TtsCode is not approved") }
            if let ttsParam = parameters["TtsParam"] {
                let object = try? JSONSerialization.jsonObject(with: Data(ttsParam.utf8)) as? [String: Any]
                guard let object, object.values.allSatisfy({ $0 is String }) else {
                    return ("isv.INVALID_PARAMETERS", "参数异常: TtsParam must be a JSON object of strings")
                }
            }
        }
        if let show = parameters["CalledShowNumber"] {
            let bought = showNumbers.map { $0.contains(show) } ?? (!show.isEmpty && show.allSatisfy { $0.isASCII && $0.isNumber })
            if !bought { return ("isv.DISPLAY_NUMBER_ILLEGAL", "显示号码不合法: CalledShowNumber is not a number of this account") }
        }
        if let outID = parameters["OutId"] {
            if outID.utf8.count > 15 { return ("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制: OutId is longer than 15 bytes") }
            if outID.isEmpty { return ("isv.INVALID_PARAMETERS", "参数异常: OutId is empty") }
        }
        for (name, range) in [("PlayTimes", 1...3), ("Volume", 0...100), ("Speed", -500...500)] {
            if let text = parameters[name], Int(text).map({ !range.contains($0) }) ?? true {
                return ("isv.INVALID_PARAMETERS", "参数异常: \(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
        }
        return nil
    }

    // MARK: - The gateway's own signature (independent of klaxon's AliyunRPCSigner)

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved)!
    }

    static func stringToSign(_ parameters: [String: String], method: String) -> String {
        var pairs: [(String, String)] = parameters.map { (encode($0.key), encode($0.value)) }
        pairs.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var canonical = ""
        for (index, pair) in pairs.enumerated() {
            if index > 0 { canonical += "&" }
            canonical += pair.0 + "=" + pair.1
        }
        return method + "&" + encode("/") + "&" + encode(canonical)
    }

    static func sign(_ stringToSign: String, secret: String) -> String {
        var hmac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: Array("\(secret)&".utf8)))
        hmac.update(data: Array(stringToSign.utf8))
        return Data(hmac.finalize()).base64EncodedString()
    }

    /// `a=1&b=x%20y`, with `+` as a space as HTML forms (and the gateway) read it.
    public static func decodeForm(_ text: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            parameters[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return parameters
    }

    /// Strictly `yyyy-MM-dd'T'HH:mm:ss'Z'`.
    static func parseTimestamp(_ text: String) -> Date? {
        let pattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/
        guard let match = text.wholeMatch(of: pattern) else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(secondsFromGMT: 0)
        components.year = Int(match.1)
        components.month = Int(match.2)
        components.day = Int(match.3)
        components.hour = Int(match.4)
        components.minute = Int(match.5)
        components.second = Int(match.6)
        guard components.isValidDate else { return nil }
        return components.date
    }

    /// A mainland mobile (`1[3-9]` + 9 digits) or a landline with its area code (`0` + 9–11 digits).
    static func isMainlandNumber(_ number: String) -> Bool {
        number.wholeMatch(of: /1[3-9]\d{9}/) != nil || number.wholeMatch(of: /0[1-9]\d{8,10}/) != nil
    }

    /// Keys in the vendor's order for the JSON envelope, or `<root>` elements in XML.
    private static func render(_ fields: KeyValuePairs<String, String>, xml: Bool, root: String = "Error") -> String {
        if xml {
            let elements = fields.map { "<\($0.key)>\(escapeXML($0.value))</\($0.key)>" }.joined()
            return "<?xml version='1.0' encoding='UTF-8'?><\(root)>\(elements)</\(root)>"
        }
        let members = fields.map { "\"\($0.key)\":\(jsonString($0.value))" }.joined(separator: ",")
        return "{\(members)}"
    }

    private static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    private static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Nonces and accepted calls: the fake's memory.
    private actor Ledger {
        var accepted: [AcceptedCall] = []
        private var nonces: [String: Date] = [:]
        private var sequence = 116_004_767_703

        /// False when `nonce` was used in the 15 minutes before `time`.
        func useNonce(_ nonce: String, at time: Date) -> Bool {
            nonces = nonces.filter { time.timeIntervalSince($0.value) < 15 * 60 }
            guard nonces[nonce] == nil else { return false }
            nonces[nonce] = time
            return true
        }

        /// Records the call and returns its CallId, or nil when the number's limits are reached.
        func accept(method: String, parameters: [String: String], number: String, at time: Date) -> String? {
            let earlier = accepted.filter { $0.parameters["CalledNumber"] == number }.map { time.timeIntervalSince($0.acceptedAt) }
            for (window, limit) in [(60.0, 1), (3600.0, 5), (86400.0, 20)] where earlier.filter({ $0 < window }).count >= limit {
                return nil
            }
            sequence += 1
            let callID = "\(sequence)^\(sequence - 13_197_960_000)"
            accepted.append(AcceptedCall(method: method, parameters: parameters, callID: callID, acceptedAt: time))
            return callID
        }
    }
}
