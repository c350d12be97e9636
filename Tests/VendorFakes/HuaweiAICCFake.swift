import Crypto
import Foundation
import Hummingbird
import NIOCore

/// A loopback Huawei AICC voice-notification service that checks requests as the vendor
/// does and answers with its result codes and HTTP statuses (VENDORS.md §2).
///
/// `POST /apigovernance/api/oauth/tokenByAkSk` issues tokens:
/// 1. `Content-Type` JSON and `X-Token-Expire` a whole number 1–3600 → else 400
///    `{"error_code":"AICC.00400","error_msg":…}`;
/// 2. body `{"app_key","app_secret"}` matching ``appKey``/``appSecret`` → else 401
///    `{"error_code":"AICC.00401",…}` (the real error body is undocumented);
/// 3. 200 `{"AccessToken":"<random>","ApplyType":"Bearer","CreateTime":"<s>","Expires":"<X-Token-Expire>",…}`,
///    the token valid until `now + X-Token-Expire` on the fake's clock. Every token request
///    is counted (``tokenRequestCount()``), answered or not.
///
/// `POST /apiaccess/rest/voiceNotification/{v1|v2}/createVoiceNotification`:
/// 1. `Authorization: Bearer <token>` with a token it issued, not expired, not revoked →
///    else 401; `X-APP-Key` equal to the app key the token was issued to → else 403;
/// 2. `Content-Type: application/json` → else 400; a JSON object body → else 400;
/// 3. `called`: a string of 1–32 digits → else retCode `5` (so a body wrapped in
///    `reqBody`/`requestBody` fails with `5`, as VENDORS.md §2.3 asks);
/// 4. no field outside the version's documented ones → else 400 (the vendor's behaviour is
///    unknown; the fake refuses so that a client sending extra fields is caught);
/// 5. `callerPresent` (optional): 1–32 digits → else `7`;
/// 6. V2: `playTimes` (optional) a JSON number 1–5 → else `10`; `playList` an array of 1–5
///    → else `11`; each entry has only `voiceId`/`voiceFileName`/`templateId`/
///    `templateParams` (else 400) and a non-empty id → else `12`; `templateParams`
///    (optional) an array of 1–10 → else `15`, of strings of at most 32 bytes → else `13`,
///    without `$`, `{`, `}` → else `14`;
///    V1: `voiceContent` a non-empty string of at most 1000 characters made of `~`-joined
///    voice IDs and `$text$` segments → else `8`;
/// 7. `priority` (optional) the STRING "1"–"9" → else `36` (documented for V1; the V2 table
///    is cut off, the fake uses the same code);
/// 8. `callBackUrl` (optional): V1 the Base64 of an http(s) URL made of `A-Za-z0-9-:./_#?&=`;
///    V2 that or the plain URL; at most 256 characters; its host on the tenant's callback
///    trustlist when one is set (``setCallbackTrustlist(_:)``) → else `9`.
///
/// Success: 200 `{"retCode":"0","retMsg":"Created successfully.","result":{"callSerialNo":"<19 digits>"}}`.
/// Business failures are HTTP 200 with the retCode and a `retMsg`. Every request is recorded
/// in ``state`` first, and its queued faults apply before any check.
public struct HuaweiAICCFake: Sendable {
    /// A call the fake accepted, for assertions.
    public struct AcceptedCall: Sendable, Hashable {
        /// `v1` or `v2`.
        public var version: String
        public var called: String
        public var callSerialNo: String
        /// The body as received.
        public var body: String
    }

    /// Where the token answer puts the lifetime.
    public enum LifetimeField: Sendable, Hashable {
        /// `"Expires":"600"`, as documented.
        case expires
        /// `"expiresIn":600`, as one public client reads it.
        case expiresIn
        /// Neither: the client must fall back to what it asked for.
        case omitted
    }

    public let state: FakeVendorState
    public let appKey: String
    public let appSecret: String
    /// The fake's clock, for token expiry.
    public let now: @Sendable () -> Date
    private let ledger = Ledger()

    public init(
        appKey: String = "2049230d-0000-0000-0000-000000000001",
        appSecret: String = "s3cr3t",
        state: FakeVendorState = FakeVendorState(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.appKey = appKey
        self.appSecret = appSecret
        self.state = state
        self.now = now
    }

    // MARK: - Test controls

    /// How many `tokenByAkSk` requests arrived.
    public func tokenRequestCount() async -> Int { await ledger.tokenRequests }
    /// The calls accepted so far, in order.
    public func acceptedCalls() async -> [AcceptedCall] { await ledger.accepted }
    /// Forgets every token issued so far: business calls carrying one get 401.
    public func revokeAllTokens() async { await ledger.revokeAll() }
    /// Makes every token issued so far expired.
    public func expireAllTokens() async { await ledger.expireAll() }
    /// While true, every business call gets 401, even with a fresh token (a lapsed subscription).
    public func setRejectingAllTokens(_ rejecting: Bool) async { await ledger.setRejecting(rejecting) }
    public func setLifetimeField(_ field: LifetimeField) async { await ledger.setLifetimeField(field) }
    /// The hosts a `callBackUrl` may name (retCode `9` for others), as the tenant's callback
    /// trustlist; nil (the default) accepts any host.
    public func setCallbackTrustlist(_ hosts: Set<String>?) async { await ledger.setCallbackTrustlist(hosts) }

    // MARK: - Server

    public static let tokenPath = "/apigovernance/api/oauth/tokenByAkSk"
    public static func callPath(_ version: String) -> String { "/apiaccess/rest/voiceNotification/\(version)/createVoiceNotification" }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let fake = self
        router.post(RouterPath(Self.tokenPath)) { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if let faulted = try await fake.state.intercept(request, body: body) { return faulted }
            let answer = await fake.tokenAnswer(headers: Self.headers(of: request), body: Array(body.readableBytesView))
            return Self.response(answer)
        }
        for version in ["v1", "v2"] {
            router.post(RouterPath(Self.callPath(version))) { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                if let faulted = try await fake.state.intercept(request, body: body) { return faulted }
                let answer = await fake.callAnswer(version: version, headers: Self.headers(of: request), body: Array(body.readableBytesView))
                return Self.response(answer)
            }
        }
        return router
    }

    /// What `tokenByAkSk` answers; `headers` have lower-cased names.
    public func tokenAnswer(headers: [String: String], body: [UInt8]) async -> (status: Int, body: String) {
        await ledger.countTokenRequest()
        func fail(_ status: Int, _ message: String) -> (status: Int, body: String) {
            (status, Self.json(["error_code": .string("AICC.00\(status)"), "error_msg": .string(message)]))
        }
        guard Self.isJSON(headers["content-type"]) else { return fail(400, "Content-Type must be application/json") }
        guard let expireText = headers["x-token-expire"], let lifetime = Int(expireText), (1...3600).contains(lifetime) else {
            return fail(400, "X-Token-Expire must be a number of seconds from 1 to 3600")
        }
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(body)),
            case .string(let key)? = fields["app_key"], case .string(let secret)? = fields["app_secret"],
            key == appKey, secret == appSecret
        else {
            return fail(401, "app_key or app_secret is incorrect")
        }
        let issuedAt = now()
        let token = Self.randomToken()
        let field = await ledger.issue(token, appKey: key, expiresAt: issuedAt.addingTimeInterval(TimeInterval(lifetime)))
        var answer: [String: JSONValue] = [
            "AccessToken": .string(token),
            "ApplyType": .string("Bearer"),
            "CreateTime": .string(String(Int(issuedAt.timeIntervalSince1970))),
            "Scope": .string("default"),
            "AppKey": .string(key),
            "UserID": .string("Anonymous"),
        ]
        switch field {
        case .expires: answer["Expires"] = .string(String(lifetime))
        case .expiresIn: answer["expiresIn"] = .integer(lifetime)
        case .omitted: break
        }
        return (200, Self.json(answer))
    }

    /// What `createVoiceNotification` (`version` `v1` or `v2`) answers; `headers` have lower-cased names.
    public func callAnswer(version: String, headers: [String: String], body: [UInt8]) async -> (status: Int, body: String) {
        func fail(_ status: Int, _ message: String) -> (status: Int, body: String) {
            (status, Self.json(["error_code": .string("AICC.00\(status)"), "error_msg": .string(message)]))
        }
        func refuse(_ code: String, _ message: String) -> (status: Int, body: String) {
            (200, Self.json(["retCode": .string(code), "retMsg": .string(message)]))
        }
        let authorization = headers["authorization"] ?? ""
        guard authorization.hasPrefix("Bearer ") else { return fail(401, "Authorization must be \"Bearer <AccessToken>\"") }
        let token = String(authorization.dropFirst("Bearer ".count))
        switch await ledger.check(token, at: now()) {
        case .unknown: return fail(401, "the access token is invalid")
        case .expired: return fail(401, "the access token has expired")
        case .valid(let tokenAppKey):
            guard headers["x-app-key"] == tokenAppKey else { return fail(403, "X-APP-Key does not match the access token") }
        }
        guard Self.isJSON(headers["content-type"]) else { return fail(400, "Content-Type must be application/json") }
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
            return fail(400, "the body is not a JSON object")
        }

        guard case .string(let called)? = fields["called"], (1...32).contains(called.count), called.allSatisfy(\.isASCIIDigit) else {
            return refuse("5", "The value of caller or called is not transferred, or the format does not match the rule.")
        }
        let known: Set<String> =
            version == "v1"
            ? ["voiceContent", "callerPresent", "called", "callBackUrl", "priority"]
            : ["called", "playList", "callBackUrl", "callerPresent", "playTimes", "priority"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            return fail(400, "unknown field \(unknown)")
        }
        if let caller = fields["callerPresent"] {
            guard case .string(let text) = caller, (1...32).contains(text.count), text.allSatisfy(\.isASCIIDigit) else {
                return refuse("7", "callerPresent or agentPresent fails to pass the verification.")
            }
        }
        if version == "v1" {
            guard case .string(let content)? = fields["voiceContent"], Self.isVoiceContent(content) else {
                return refuse("8", "The value of voiceContent is empty, exceeds the upper limit, or does not exist.")
            }
        } else {
            if let playTimes = fields["playTimes"] {
                guard case .integer(let times) = playTimes, (1...5).contains(times) else {
                    return refuse("10", "The value of playTimes is not in the range 1-5.")
                }
            }
            guard case .array(let entries)? = fields["playList"], (1...5).contains(entries.count) else {
                return refuse("11", "playList is empty or has more than 5 entries.")
            }
            for entry in entries {
                guard case .object(let item) = entry else { return fail(400, "a playList entry is not an object") }
                if let unknown = item.keys.sorted().first(where: { !["voiceId", "voiceFileName", "templateId", "templateParams"].contains($0) }) {
                    return fail(400, "unknown playList field \(unknown)")
                }
                let ids = ["voiceId", "voiceFileName", "templateId"].compactMap { key -> String? in
                    if case .string(let id)? = item[key], !id.isEmpty { return id }
                    return nil
                }
                guard !ids.isEmpty else { return refuse("12", "voiceId and templateId are both empty.") }
                if let params = item["templateParams"] {
                    guard case .array(let values) = params, (1...10).contains(values.count) else {
                        return refuse("15", "templateParams is empty or has more than 10 entries.")
                    }
                    for value in values {
                        guard case .string(let text) = value, text.utf8.count <= 32 else {
                            return refuse("13", "The length of a variable exceeds 32 bytes.")
                        }
                        if text.contains(where: { "${}".contains($0) }) {
                            return refuse("14", "The value of templateParams contains $, { or }.")
                        }
                    }
                }
            }
        }
        if let priority = fields["priority"] {
            guard case .string(let text) = priority, text.count == 1, ("1"..."9").contains(text) else {
                return refuse("36", "The value of priority is in an incorrect format.")
            }
        }
        if let callBackUrl = fields["callBackUrl"] {
            guard case .string(let text) = callBackUrl, let url = Self.callbackURL(text, base64Only: version == "v1"),
                await ledger.trusts(URLComponents(string: url)?.host)
            else {
                return refuse("9", "The value of callBackUrl does not meet the requirements.")
            }
        }
        let serial = Self.randomSerial()
        await ledger.accept(AcceptedCall(version: version, called: called, callSerialNo: serial, body: String(decoding: body, as: UTF8.self)))
        return (
            200,
            #"{"retCode":"0","retMsg":"Created successfully.","result":{"callSerialNo":"\#(serial)"}}"#
        )
    }

    // MARK: - Callbacks

    /// `fields` with `timestamp`, `nonce` and the `signature` Huawei computes over them
    /// (VENDORS.md §2.7), by an implementation of the fake's own. POST ``callbackBody(_:)``
    /// of the result to a klaxon callback URL.
    public static func signedCallback(fields: [String: String], sharedKey: String, timestamp: String, nonce: String) -> [String: String] {
        // Java: new TreeMap<>(params).toString() → "{a=1, b=2}", then replace(" ", "") and strip the braces.
        let sortedNames = fields.keys.filter { !["timestamp", "nonce", "signature"].contains($0) }.sorted {
            Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16))
        }
        var treeMap = "{"
        for (index, name) in sortedNames.enumerated() {
            if index > 0 { treeMap += ", " }
            treeMap += name + "=" + fields[name]!
        }
        treeMap += "}"
        let noSpaces = treeMap.replacingOccurrences(of: " ", with: "")
        let params = String(noSpaces.dropFirst().dropLast())
        let toSign = [sharedKey, timestamp, nonce, params].joined(separator: "_")
        let mac = HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: SymmetricKey(data: Array(sharedKey.utf8)))
        var signed = fields
        signed["timestamp"] = timestamp
        signed["nonce"] = nonce
        signed["signature"] = Data(mac).base64EncodedString()
        return signed
    }

    /// A release event as AICC posts it (all values strings).
    public static func releaseEvent(callSerialNo: String, called: String, releaseReason: String, talkDuration: String = "0") -> [String: String] {
        [
            "callSerialNo": callSerialNo,
            "called": called,
            "createCallTime": "2022/02/17,13:10:06:836",
            "releaseTime": "2022/02/17,13:10:30:001",
            "talkDuration": talkDuration,
            "releaseReason": releaseReason,
        ]
    }

    /// `fields` as the JSON body of a callback (keys sorted).
    public static func callbackBody(_ fields: [String: String]) -> String {
        json(fields.mapValues { .string($0) })
    }

    // MARK: - Helpers

    private static func response(_ answer: (status: Int, body: String)) -> Response {
        Response(
            status: .init(code: answer.status),
            headers: [.contentType: "application/json;charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: answer.body))
        )
    }

    private static func headers(of request: Request) -> [String: String] {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        return headers
    }

    private static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        return contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    private static func isVoiceContent(_ content: String) -> Bool {
        guard !content.isEmpty, content.utf16.count <= 1000 else { return false }
        return content.split(separator: "~", omittingEmptySubsequences: false).allSatisfy { token in
            if token.hasPrefix("$") {
                return token.count >= 3 && token.hasSuffix("$") && !token.dropFirst().dropLast().contains("$")
            }
            return !token.isEmpty && !token.contains("$")
        }
    }

    /// The documented `-:./_#?&`, and no other character (not even `=`).
    private static let urlCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:./_#?&")

    /// The URL a `callBackUrl` carries, or nil when Huawei would refuse its form.
    private static func callbackURL(_ value: String, base64Only: Bool) -> String? {
        guard value.count <= 256 else { return nil }
        func isURL(_ url: String) -> Bool {
            (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.allSatisfy { urlCharacters.contains($0) }
        }
        if let data = Data(base64Encoded: value), let url = String(data: data, encoding: .utf8), isURL(url) { return url }
        return !base64Only && isURL(value) ? value : nil
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(generator.next(upperBound: UInt8(16)), radix: 16) }.joined()
    }

    private static func randomSerial() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(upperBound: UInt8(9)) + 1) + (1..<19).map { _ in String(generator.next(upperBound: UInt8(10))) }.joined()
    }

    private static func json(_ object: [String: JSONValue]) -> String {
        JSONValue.object(object).text
    }

    /// A JSON value with its JSON type kept (a number is not a string).
    enum JSONValue: Decodable, Sendable {
        case null
        case bool(Bool)
        case integer(Int)
        case double(Double)
        case string(String)
        case array([JSONValue])
        case object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int.self) {
                self = .integer(value)
            } else if let value = try? container.decode(Double.self) {
                self = .double(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([JSONValue].self) {
                self = .array(value)
            } else {
                self = .object(try container.decode([String: JSONValue].self))
            }
        }

        /// Compact JSON with sorted keys.
        var text: String {
            switch self {
            case .null: return "null"
            case .bool(let value): return value ? "true" : "false"
            case .integer(let value): return String(value)
            case .double(let value): return String(value)
            case .string(let value):
                let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
                return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
            case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
            case .object(let members):
                return "{" + members.keys.sorted().map { JSONValue.string($0).text + ":" + members[$0]!.text }.joined(separator: ",") + "}"
            }
        }
    }

    /// Tokens issued, calls accepted, and the switches tests flip.
    private actor Ledger {
        struct Issued {
            var appKey: String
            var expiresAt: Date
        }

        enum Check {
            case unknown
            case expired
            case valid(appKey: String)
        }

        private var tokens: [String: Issued] = [:]
        private(set) var tokenRequests = 0
        private(set) var accepted: [AcceptedCall] = []
        private var rejecting = false
        private var lifetimeField = LifetimeField.expires
        private var callbackTrustlist: Set<String>?

        func countTokenRequest() { tokenRequests += 1 }

        func issue(_ token: String, appKey: String, expiresAt: Date) -> LifetimeField {
            tokens[token] = Issued(appKey: appKey, expiresAt: expiresAt)
            return lifetimeField
        }

        func check(_ token: String, at now: Date) -> Check {
            guard !rejecting, let issued = tokens[token] else { return .unknown }
            return now < issued.expiresAt ? .valid(appKey: issued.appKey) : .expired
        }

        func accept(_ call: AcceptedCall) { accepted.append(call) }
        func revokeAll() { tokens = [:] }
        func expireAll() { for key in tokens.keys { tokens[key]?.expiresAt = .distantPast } }
        func setRejecting(_ value: Bool) { rejecting = value }
        func setLifetimeField(_ field: LifetimeField) { lifetimeField = field }
        func setCallbackTrustlist(_ hosts: Set<String>?) { callbackTrustlist = hosts }
        func trusts(_ host: String?) -> Bool {
            guard let callbackTrustlist else { return true }
            return host.map(callbackTrustlist.contains) ?? false
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
