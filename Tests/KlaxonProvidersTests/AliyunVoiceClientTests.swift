import AsyncHTTPClient
import Foundation
import KlaxonCore
import KlaxonProviders
import KlaxonTestSupport
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import VendorFakes

/// `AliyunVoiceClient` against `AliyunFake` over real HTTP on loopback.
@Suite struct AliyunVoiceClientTests {
    /// 2024-01-02T03:04:05Z, V-A3's timestamp.
    static let start = Date(timeIntervalSince1970: 1_704_164_645)
    static let secret = "S3cr3t+Value/With=Odd&Chars"
    static let voiceCode = "2d4c-4e78-8d2a-afbb06cf6216.wav"
    static let alice = CallRecipient(name: "alice", phone: "+8613700000000")

    /// A clock the client and the fake share; tests move it by hand.
    final class TestClock: Sendable {
        private let date: Mutex<Date>
        init(_ date: Date = AliyunVoiceClientTests.start) { self.date = Mutex(date) }
        var now: Date { date.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { date.withLock { $0 += seconds } }
    }

    static func fake(clock: TestClock = TestClock(), credentials: [String: String] = ["testid": secret]) -> AliyunFake {
        AliyunFake(credentials: credentials, showNumbers: ["4001112222"], voiceCodes: [voiceCode], ttsCodes: ["TTS_10001"], now: { clock.now })
    }

    static func client(
        _ baseURL: String,
        clock: TestClock = TestClock(),
        options: [String: String] = [:],
        timeout: Duration = .seconds(30),
        logs: RecordedLog = RecordedLog()
    ) throws -> AliyunVoiceClient {
        var all = ["access_key_id": "testid", "access_key_secret": secret]
        all.merge(options) { $1 }
        let config = ProviderConfig(name: "aliyun-main", type: .aliyun, endpoint: baseURL, timeout: timeout, options: all)
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(log: logs) })
        return try AliyunVoiceClient(config: config, environment: ProviderEnvironment(httpClient: .shared, logger: logger, now: { clock.now }))
    }

    static func call(
        _ prompt: VoicePrompt = .aliyunVoice(voiceCode: voiceCode),
        to recipients: [CallRecipient] = [alice],
        callID: String = "0123456789ab"
    )
        -> CallRequest
    {
        CallRequest(callID: callID, recipients: recipients, prompt: prompt)
    }

    // MARK: - The request on the wire

    @Test func singleCallByVoiceRequestFieldByField() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let options = [
                "called_show_number": "4001112222", "volume": "100", "play_times": "3", "region_id": "cn-hangzhou", "out_id_prefix": "klx",
            ]
            let client = try Self.client(baseURL, clock: clock, options: options)
            let results = await client.placeCalls(Self.call())

            let accepted = await fake.acceptedCalls()
            try #require(accepted.count == 1)
            #expect(results == [RecipientResult(recipient: Self.alice, result: .accepted(vendorCallID: accepted[0].callID))])
            #expect(accepted[0].callID.contains("^"))

            let requests = await fake.state.requests
            try #require(requests.count == 1)
            let request = requests[0]
            #expect(request.method == "POST")
            #expect(request.path == "/")
            #expect(request.query == nil)
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8")

            let fields = AliyunFake.decodeForm(request.bodyText)
            let nonce = try #require(fields["SignatureNonce"])
            #expect(UUID(uuidString: nonce) != nil)
            let expected: [String: String] = [
                "AccessKeyId": "testid",
                "Action": "SingleCallByVoice",
                "CalledNumber": "13700000000",
                "CalledShowNumber": "4001112222",
                "Format": "JSON",
                "OutId": "klx0123456789ab",
                "PlayTimes": "3",
                "RegionId": "cn-hangzhou",
                "SignatureMethod": "HMAC-SHA1",
                "SignatureNonce": nonce,
                "SignatureVersion": "1.0",
                "Timestamp": "2024-01-02T03:04:05Z",
                "Version": "2017-05-25",
                "VoiceCode": Self.voiceCode,
                "Volume": "100",
            ]
            var unsigned = fields
            let signature = unsigned.removeValue(forKey: "Signature")
            #expect(unsigned == expected)
            #expect(signature == AliyunRPCSigner.signature(expected, method: "POST", secret: Self.secret))
            // The body is the canonical query string plus the signature, byte for byte.
            #expect(request.bodyText == AliyunRPCSigner.signedQuery(expected, method: "POST", secret: Self.secret))
            #expect(accepted[0].parameters == expected)
        }
    }

    @Test func singleCallByTtsRequestFieldByField() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL, clock: clock)
            let prompt = VoicePrompt.aliyunTTS(ttsCode: "TTS_10001", params: ["name": "db-1", "alert": "磁盘 满/full \"x\"", "Count": "3"])
            let results = await client.placeCalls(Self.call(prompt, to: [CallRecipient(name: "ops", phone: "+8657112345678")]))
            #expect(results.first?.result.isAccepted == true)

            let request = try #require(await fake.state.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/")
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8")
            var fields = AliyunFake.decodeForm(request.bodyText)
            let signature = fields.removeValue(forKey: "Signature")
            let expected: [String: String] = [
                "AccessKeyId": "testid",
                "Action": "SingleCallByTts",
                "CalledNumber": "057112345678",
                "Format": "JSON",
                "OutId": "0123456789ab",
                "SignatureMethod": "HMAC-SHA1",
                "SignatureNonce": fields["SignatureNonce"] ?? "",
                "SignatureVersion": "1.0",
                "Timestamp": "2024-01-02T03:04:05Z",
                "TtsCode": "TTS_10001",
                "TtsParam": #"{"Count":"3","alert":"磁盘 满/full \"x\"","name":"db-1"}"#,
                "Version": "2017-05-25",
            ]
            #expect(fields == expected)
            #expect(signature == AliyunRPCSigner.signature(expected, method: "POST", secret: Self.secret))
        }
    }

    @Test func oneRequestPerRecipientInOrderWithFreshNonces() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL, clock: clock)
            let recipients = (0..<6).map { CallRecipient(name: "p\($0)", phone: "+861370000000\($0)") }
            let abroad = CallRecipient(name: "bob", phone: "+14155550100")
            let results = await client.placeCalls(Self.call(to: Array(recipients[0..<3]) + [abroad] + Array(recipients[3...])))

            #expect(results.map(\.recipient) == Array(recipients[0..<3]) + [abroad] + Array(recipients[3...]))
            let accepted = await fake.acceptedCalls()
            #expect(accepted.count == 6)
            for (index, result) in results.enumerated() where index != 3 {
                let number = String(result.recipient.phone.dropFirst(3))
                let call = accepted.first { $0.parameters["CalledNumber"] == number }
                #expect(result.result == .accepted(vendorCallID: call?.callID ?? "missing"))
            }
            guard case .permanent(let error) = results[3].result else {
                Issue.record("a +1 number must be refused, got \(results[3].result)")
                return
            }
            #expect(error.code == "klaxon.number_unsupported")
            let nonces = Set(accepted.compactMap { $0.parameters["SignatureNonce"] })
            #expect(nonces.count == 6)
            #expect(await fake.state.requests.count == 6)
        }
    }

    // MARK: - Numbers, prompts and OutId refused before sending

    @Test(arguments: [
        ("+8613700000000", "13700000000"), ("+8619912345678", "19912345678"), ("+8657112345678", "057112345678"),
        ("+861012345678", "01012345678"), ("+862112345678", "02112345678"),
    ])
    func mainlandNumbersLoseTheirCountryCode(phone: String, expected: String) throws {
        #expect(try AliyunVoiceClient.calledNumber(phone) == expected)
    }

    @Test(arguments: [
        ("+14155550100", "klaxon.number_unsupported"), ("+85291234567", "klaxon.number_unsupported"),
        ("+8612345", "klaxon.number_unsupported"), ("13700000000", "klaxon.number_invalid"), ("+86 137 0000 0000", "klaxon.number_invalid"),
        ("", "klaxon.number_invalid"),
        // A mobile with a digit missing: only Beijing's area code 10 starts with 1.
        ("+861381234567", "klaxon.number_unsupported"), ("+861991234567", "klaxon.number_unsupported"),
        ("+86101234567", "klaxon.number_unsupported"),
    ])
    func otherNumbersAreRefused(phone: String, code: String) {
        #expect {
            try AliyunVoiceClient.calledNumber(phone)
        } throws: { error in
            (error as? VendorError)?.code == code && !((error as? VendorError)?.message.contains("55550100") ?? true)
        }
    }

    @Test func refusalsSendNothing() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL, clock: clock, options: ["out_id_prefix": "klx"])
            let two = [Self.alice, CallRecipient(name: "carol", phone: "+8613900000000")]

            let abroad = await client.placeCalls(Self.call(to: [CallRecipient(name: "bob", phone: "+14155550100")]))
            #expect(Self.code(abroad) == ["permanent klaxon.number_unsupported"])
            #expect(Self.message(abroad)?.contains("2022") == true)
            #expect(Self.message(abroad)?.contains("+14155550100") == false)

            let shortMobile = await client.placeCalls(Self.call(to: [CallRecipient(name: "dave", phone: "+861381234567")]))
            #expect(Self.code(shortMobile) == ["permanent klaxon.number_unsupported"])
            #expect(Self.message(shortMobile)?.contains("11 digits") == true)

            let text = await client.placeCalls(Self.call(.text("disk full"), to: two))
            #expect(Self.code(text) == ["permanent klaxon.voice_missing", "permanent klaxon.voice_missing"])
            let huawei = await client.placeCalls(Self.call(.huaweiV1(voiceContent: "x"), to: two))
            #expect(Self.code(huawei) == ["permanent klaxon.voice_missing", "permanent klaxon.voice_missing"])
            let emptyCode = await client.placeCalls(Self.call(.aliyunVoice(voiceCode: ""), to: [Self.alice]))
            #expect(Self.code(emptyCode) == ["permanent klaxon.voice_missing"])

            // "klx" + 14 characters = 17 bytes.
            let long = await client.placeCalls(Self.call(to: two, callID: "0123456789abcd"))
            #expect(Self.code(long) == ["permanent klaxon.out_id_too_long", "permanent klaxon.out_id_too_long"])

            #expect(await fake.state.requests.isEmpty)
        }
    }

    // MARK: - Configuration

    @Test(arguments: [
        (["access_key_id": "testid"], "access_key_secret is required"),
        (["access_key_secret": secret], "access_key_id is required"),
        (["access_key_id": "testid", "access_key_secret": ""], "access_key_secret is required"),
        (["access_key_id": "testid", "access_key_secret": secret, "volume": "101"], "volume must be an integer from 0 to 100"),
        (["access_key_id": "testid", "access_key_secret": secret, "play_times": "0"], "play_times must be an integer from 1 to 3"),
        (["access_key_id": "testid", "access_key_secret": secret, "play_times": "two"], "play_times must be an integer from 1 to 3"),
        (["access_key_id": "testid", "access_key_secret": secret, "out_id_prefix": "klax"], "out_id_prefix \"klax\" is 4 bytes"),
    ])
    func badOptionsAreConfigErrors(options: [String: String], fragment: String) {
        let config = ProviderConfig(name: "aliyun-main", type: .aliyun, options: options)
        #expect {
            try AliyunVoiceClient(config: config, environment: ProviderEnvironment(httpClient: .shared))
        } throws: { error in
            let description = String(describing: error)
            return description.contains(fragment) && description.contains("aliyun-main") && !description.contains(Self.secret)
        }
    }

    @Test(arguments: ["ftp://dyvmsapi.aliyuncs.com/", "dyvmsapi.aliyuncs.com", "http://127.0.0.1:8080/?Action=x", "http:///"])
    func badEndpointsAreConfigErrors(endpoint: String) {
        let config = ProviderConfig(name: "a", type: .aliyun, endpoint: endpoint, options: ["access_key_id": "i", "access_key_secret": "s"])
        #expect(throws: ProviderConfigError.self) {
            try AliyunVoiceClient(config: config, environment: ProviderEnvironment(httpClient: .shared))
        }
    }

    @Test func endpointWithoutPathPostsToSlash() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            // withFakeServer's URL has no trailing slash.
            #expect(!baseURL.hasSuffix("/"))
            let results = try await Self.client(baseURL, clock: clock).placeCalls(Self.call())
            #expect(results.first?.result.isAccepted == true)
            #expect(await fake.state.requests.first?.path == "/")
        }
        let config = ProviderConfig(name: "a", type: .aliyun, options: ["access_key_id": "i", "access_key_secret": "s"])
        let client = try AliyunVoiceClient(config: config, environment: ProviderEnvironment(httpClient: .shared))
        #expect(client.name == "a")
        #expect(client.type == .aliyun)
        #expect(AliyunVoiceClient.defaultEndpoint == "https://dyvmsapi.aliyuncs.com/")
    }

    // MARK: - Classification of every documented code

    /// Code, HTTP status, expected class. Written out here, not read from the classifier.
    static let codeTable: [(code: String, status: Int, retryable: Bool)] = [
        ("isv.BUSINESS_LIMIT_CONTROL", 400, true),
        ("isv.OUT_OF_SERVICE", 400, false),
        ("isv.AMOUNT_NOT_ENOUGH", 400, false),
        ("isv.AMOUNT_NOT_ENOUG", 400, false),
        ("isv.PRODUCT_UN_SUBSCRIPT", 400, false),
        ("isv.PRODUCT_UNSUBSCRIBE", 400, false),
        ("isv.ACCOUNT_NOT_EXISTS", 400, false),
        ("isv.ACCOUNT_ABNORMAL", 400, false),
        ("isv.MOBILE_NUMBER_ILLEGAL", 400, false),
        ("isv.DISPLAY_NUMBER_ILLEGAL", 400, false),
        ("isv.VOICE_FILE_ILLEGAL", 400, false),
        ("isv.INVALID_PARAMETERS", 400, false),
        ("InvalidParameters", 400, false),
        ("isv.PARAM_LENGTH_LIMIT", 400, false),
        ("isv.BLACK_KEY_CONTROL_LIMIT", 400, false),
        ("isv.COMPLAINT_REJECT", 400, false),
        ("isv.VOICE_CALL_FAIL", 400, true),
        ("isv.BILLID_NOT_EXIST", 400, false),
        ("isp.RAM_PERMISSION_DENY", 400, false),
        ("isp.SYSTEM_ERROR", 500, true),
        ("isp.GATEWAY_ERROR", 500, true),
        ("InternalError", 500, true),
        ("SignatureDoesNotMatch", 400, false),
        ("SignatureNonceUsed", 400, true),
        ("InvalidTimeStamp.Expired", 400, false),
        ("InvalidAccessKeyId.NotFound", 404, false),
        ("MissingParameter", 400, false),
        ("Throttling.User", 400, true),
        // Business errors in an HTTP 200 (older behaviour) keep their class.
        ("isv.BUSINESS_LIMIT_CONTROL", 200, true),
        ("isv.MOBILE_NUMBER_ILLEGAL", 200, false),
        ("isp.SYSTEM_ERROR", 200, true),
        // Unknown codes: the HTTP status decides.
        ("isv.SOMETHING_NEW", 400, false),
        ("isv.SOMETHING_NEW", 200, false),
        ("isp.SOMETHING_NEW", 503, true),
        ("ServiceUnavailable", 503, true),
        ("Throttling.Something", 400, true),
        ("Unknown", 429, true),
    ]

    @Test(arguments: codeTable)
    func everyCodeIsClassified(code: String, status: Int, retryable: Bool) async throws {
        let fake = Self.fake()
        let message = "message for \(code) 被叫 13700000000"
        await fake.state.enqueue(.respond(status: status, body: #"{"RequestId":"A57FBFD7","Message":"\#(message)","Code":"\#(code)"}"#))
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL).placeCalls(Self.call())
            let result = try #require(results.first?.result)
            let error: VendorError
            switch result {
            case .retryable(let e) where retryable: error = e
            case .permanent(let e) where !retryable: error = e
            default:
                Issue.record("\(code) with HTTP \(status) classified as \(result)")
                return
            }
            #expect(error.code == code)
            #expect(error.message.contains("message for \(code) 被叫"))
            #expect(!error.message.contains("13700000000"))
            #expect(error.message.contains("137****0000"))
            #expect(error.httpStatus == status)
            // After a failure that may have rung the number, it waits out Aliyun's minute.
            let spaced = ["isv.BUSINESS_LIMIT_CONTROL", "isv.VOICE_CALL_FAIL", "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "InternalError"].contains(
                code
            )
            #expect(error.retryAfter == (spaced ? .seconds(60) : nil))
            #expect(error.retryUsesQuota == spaced)
        }
    }

    @Test func successWithCallIdIsAccepted() async throws {
        let fake = Self.fake()
        await fake.state.enqueue(
            .respond(
                status: 200,
                body: #"{"Message":"OK","RequestId":"E50FFA85-0B79-4421-A7BD-00B0A271966F","Code":"OK","CallId":"116004767703^102806207703"}"#
            )
        )
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL).placeCalls(Self.call())
            #expect(results.first?.result == .accepted(vendorCallID: "116004767703^102806207703"))
        }
    }

    @Test(arguments: [
        (502, "<html><body>Bad Gateway</body></html>"),
        (200, "<?xml version='1.0'?><SingleCallByVoiceResponse><Code>OK</Code></SingleCallByVoiceResponse>"),
        (200, ""), (200, #"{"Message":"OK"}"#), (200, "[]"),
    ])
    func bodiesThatAreNotTheEnvelopeAreRetryable(status: Int, body: String) async throws {
        let fake = Self.fake()
        await fake.state.enqueue(.respond(status: status, body: body))
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL).placeCalls(Self.call())
            guard case .retryable(let error) = results.first?.result else {
                Issue.record("expected retryable, got \(String(describing: results.first?.result))")
                return
            }
            #expect(error.code == "klaxon.bad_response")
            #expect(error.httpStatus == status)
        }
    }

    // MARK: - Real refusals from the fake

    @Test func wrongSecretIsSignatureDoesNotMatchAndPermanent() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock, credentials: ["testid": "the-real-secret"])
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL, clock: clock, logs: logs).placeCalls(Self.call())
            guard case .permanent(let error) = results.first?.result else {
                Issue.record("expected permanent, got \(String(describing: results.first?.result))")
                return
            }
            #expect(error.code == "SignatureDoesNotMatch")
            #expect(error.httpStatus == 400)
            #expect(error.message.hasPrefix("Specified signature is not matched with our calculation."))
            #expect(error.message.contains("check access_key_secret"))
            // The server's string to sign (every parameter, the number included) is cut off.
            #expect(!error.message.contains("string to sign"))
            #expect(!error.message.contains("13700000000"))
            let sent = await fake.state.requests
            let signature = try #require(sent.first.flatMap { AliyunFake.decodeForm($0.bodyText)["Signature"] })
            Self.expectNoSecrets(in: [String(describing: error), String(reflecting: error)] + logs.entries, signature: signature)
        }
    }

    @Test func unknownAccessKeyIsPermanent() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock, credentials: ["someone-else": Self.secret])
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL, clock: clock).placeCalls(Self.call())
            #expect(Self.code(results) == ["permanent InvalidAccessKeyId.NotFound"])
            #expect(Self.status(results) == 404)
        }
    }

    @Test func skewedClockIsPermanent() async throws {
        let fakeClock = TestClock()
        let hostClock = TestClock(Self.start.addingTimeInterval(-16 * 60))
        let fake = Self.fake(clock: fakeClock)
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL, clock: hostClock).placeCalls(Self.call())
            #expect(Self.code(results) == ["permanent InvalidTimeStamp.Expired"])
            #expect(Self.message(results)?.contains("NTP") == true)
            // 14 minutes off is still fine.
            hostClock.advance(2 * 60)
            let later = try Self.client(baseURL, clock: hostClock)
            #expect(await later.placeCalls(Self.call()).first?.result.isAccepted == true)
        }
    }

    @Test func throttledNumberIsRetryableAfterAMinute() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL, clock: clock)
            #expect(await client.placeCalls(Self.call()).first?.result.isAccepted == true)
            clock.advance(30)
            let throttled = await client.placeCalls(Self.call())
            guard case .retryable(let error) = throttled.first?.result else {
                Issue.record("expected retryable, got \(String(describing: throttled.first?.result))")
                return
            }
            #expect(error.code == "isv.BUSINESS_LIMIT_CONTROL")
            #expect(error.retryAfter == .seconds(60))
            #expect(error.httpStatus == 400)
            #expect(error.message.contains("该被叫号触发被叫流控"))
            // Another number is not affected; the same one is again after a minute.
            #expect(await client.placeCalls(Self.call(to: [CallRecipient(name: "c", phone: "+8613900000000")])).first?.result.isAccepted == true)
            clock.advance(31)
            #expect(await client.placeCalls(Self.call()).first?.result.isAccepted == true)
        }
    }

    // MARK: - Transport

    @Test func connectionRefusedIsRetryable() async throws {
        let logs = RecordedLog()
        // AsyncHTTPClient retries refused connections until the deadline, then reports the refusal.
        let client = try Self.client("http://127.0.0.1:1", timeout: .milliseconds(500), logs: logs)
        let results = await client.placeCalls(Self.call())
        guard case .retryable(let error) = results.first?.result else {
            Issue.record("expected retryable, got \(String(describing: results.first?.result))")
            return
        }
        #expect(error.code == "klaxon.transport")
        #expect(error.message.contains("could not reach Aliyun"))
        #expect(error.httpStatus == nil)
        Self.expectNoSecrets(in: [String(describing: error)] + logs.entries)
    }

    @Test func closedPortIsRetryable() async throws {
        // A port that was just listening and is now closed: held, bound but not listening,
        // so that another test's server cannot take it and answer meanwhile.
        var url = ""
        var held: Int32?
        for _ in 0..<20 where held == nil {
            url = try await withFakeServer(Self.fake().router()) { $0 }
            held = URLComponents(string: url)?.port.flatMap(FreePort.holdClosed)
        }
        let socket = try #require(held)
        defer { close(socket) }
        let results = try await Self.client(url, timeout: .milliseconds(500)).placeCalls(Self.call())
        guard case .retryable(let error) = results.first?.result else {
            Issue.record("expected retryable, got \(String(describing: results.first?.result))")
            return
        }
        #expect(error.code == "klaxon.transport")
    }

    @Test func hangingVendorTimesOutRetryable() async throws {
        let fake = Self.fake()
        await fake.state.enqueue(.hang)
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let results = try await Self.client(baseURL, timeout: .milliseconds(300), logs: logs).placeCalls(Self.call())
            guard case .retryable(let error) = results.first?.result else {
                Issue.record("expected retryable, got \(String(describing: results.first?.result))")
                return
            }
            #expect(error.code == "klaxon.timeout")
            Self.expectNoSecrets(in: [String(describing: error)] + logs.entries)
        }
    }

    @Test func delayedVendorWithinTheTimeoutIsAccepted() async throws {
        let fake = Self.fake()
        await fake.state.enqueue(.delay(.milliseconds(50)))
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL)
            #expect(await client.placeCalls(Self.call()).first?.result.isAccepted == true)
        }
    }

    // MARK: - Logs

    @Test func logsMaskNumbersAndCarryNoSecrets() async throws {
        let clock = TestClock()
        let fake = Self.fake(clock: clock)
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL, clock: clock, logs: logs)
            _ = await client.placeCalls(Self.call(to: [Self.alice, CallRecipient(name: "bob", phone: "+14155550100")]))
            await fake.state.enqueue(.respond(status: 500, body: #"{"Code":"isp.SYSTEM_ERROR","Message":"系统错误"}"#))
            clock.advance(61)
            _ = await client.placeCalls(Self.call())
            let signatures = await fake.state.requests.compactMap { AliyunFake.decodeForm($0.bodyText)["Signature"] }
            #expect(signatures.count == 2)
            let entries = logs.entries
            #expect(entries.contains { $0.contains("aliyun call accepted") && $0.contains("+86137****0000") && $0.contains("call_id=0123456789ab") })
            #expect(entries.contains { $0.contains("refused before sending") && $0.contains("klaxon.number_unsupported") })
            #expect(entries.contains { $0.contains("aliyun call failed") && $0.contains("isp.SYSTEM_ERROR") })
            for signature in signatures { Self.expectNoSecrets(in: entries, signature: signature) }
            #expect(!entries.contains { $0.contains("4155550100") })
        }
    }

    // MARK: - The fake itself

    @Test func fakeAcceptsTheVendorVectorsOverGETAndPOST() async throws {
        // V-A3 exactly as the official SDK signs it, as a GET query and as a POST body.
        let fake = AliyunFake(credentials: ["testid": "testsecret"], now: { Self.start })
        try await withFakeServer(fake.router()) { baseURL in
            var parameters = AliyunSignerTests.va3
            let get = try await Self.send(baseURL + "/?" + AliyunRPCSigner.signedQuery(parameters, method: "GET", secret: "testsecret"), method: .GET)
            #expect(get.status == 200)
            #expect(get.body.contains(#""Code":"OK""#))
            // The same nonce again within 15 minutes.
            let replay = try await Self.send(
                baseURL + "/?" + AliyunRPCSigner.signedQuery(parameters, method: "GET", secret: "testsecret"),
                method: .GET
            )
            #expect(replay.status == 400)
            #expect(replay.body.contains(#""Code":"SignatureNonceUsed""#))

            // V-A6: the old SDK's SignatureType= is signed and accepted (another number, another nonce).
            parameters["SignatureType"] = ""
            parameters["SignatureNonce"] = UUID().uuidString
            parameters["CalledNumber"] = "13700000001"
            let post = try await Self.send(baseURL + "/", body: AliyunRPCSigner.signedQuery(parameters, method: "POST", secret: "testsecret"))
            #expect(post.status == 200)
            #expect(post.body.contains(#""CallId":""#))

            // A signature made for GET does not verify on POST.
            parameters["SignatureNonce"] = UUID().uuidString
            parameters["CalledNumber"] = "13700000002"
            let wrongMethod = try await Self.send(baseURL + "/", body: AliyunRPCSigner.signedQuery(parameters, method: "GET", secret: "testsecret"))
            #expect(wrongMethod.status == 400)
            #expect(wrongMethod.body.contains("server string to sign is:POST&%2F&AccessKeyId%3Dtestid"))

            // A Signature whose `+` is not encoded reads as a space, as on the real gateway.
            parameters["SignatureNonce"] = "c0ffee00-1234-4abc-8def-0123456789ab"
            parameters["SignatureType"] = nil
            parameters["CalledNumber"] = "13700000003"
            let signature = AliyunRPCSigner.signature(parameters, method: "POST", secret: "testsecret")
            if signature.contains("+") {
                let raw = try await Self.send(baseURL + "/", body: AliyunRPCSigner.canonicalQuery(parameters) + "&Signature=" + signature)
                #expect(raw.status == 400)
            }
            // Without the form content type the body is not read: parameters are missing.
            let noType = try await Self.send(
                baseURL + "/",
                body: AliyunRPCSigner.signedQuery(parameters, method: "POST", secret: "testsecret"),
                contentType: nil
            )
            #expect(noType.status == 400)
            #expect(noType.body.contains("MissingParameter"))
        }
    }

    @Test func fakeMergesQueryAndBodyParametersOnPOST() async throws {
        // The current SDK's shape: some parameters in the query string, the rest in the form body.
        let fake = AliyunFake(credentials: ["testid": "testsecret"], now: { Self.start })
        try await withFakeServer(fake.router()) { baseURL in
            let parameters = AliyunSignerTests.va3
            let signature = AliyunRPCSigner.signature(parameters, method: "POST", secret: "testsecret")
            let query = ["AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp", "Version"]
                .map { "\($0)=\(AliyunRPCSigner.percentEncode(parameters[$0]!))" }.joined(separator: "&")
            let body = ["CalledNumber", "CalledShowNumber", "OutId", "PlayTimes", "RegionId", "VoiceCode", "Volume"]
                .map { "\($0)=\(AliyunRPCSigner.percentEncode(parameters[$0]!))" }.joined(separator: "&")
            let answer = try await Self.send(
                baseURL + "/?" + query + "&Signature=" + AliyunRPCSigner.percentEncode(signature),
                body: body
            )
            #expect(answer.status == 200)
            #expect(await fake.acceptedCalls().first?.parameters == parameters)
        }
    }

    /// The fake's refusals, each from an otherwise valid, correctly signed request.
    static let fakeRefusals: [(change: [String: String?], status: Int, code: String)] = [
        (["CalledNumber": "+8613700000000"], 400, "isv.MOBILE_NUMBER_ILLEGAL"),
        (["CalledNumber": "8613700000000"], 400, "isv.MOBILE_NUMBER_ILLEGAL"),
        (["CalledNumber": "12345"], 400, "isv.MOBILE_NUMBER_ILLEGAL"),
        (["CalledNumber": nil], 400, "MissingParameter"),
        (["VoiceCode": nil], 400, "MissingParameter"),
        (["VoiceCode": "other.wav"], 400, "isv.VOICE_FILE_ILLEGAL"),
        (["CalledShowNumber": "4009998888"], 400, "isv.DISPLAY_NUMBER_ILLEGAL"),
        (["OutId": "0123456789abcdef"], 400, "isv.PARAM_LENGTH_LIMIT"),
        (["PlayTimes": "4"], 400, "isv.INVALID_PARAMETERS"),
        (["PlayTimes": "0"], 400, "isv.INVALID_PARAMETERS"),
        (["Volume": "101"], 400, "isv.INVALID_PARAMETERS"),
        (["Volume": "loud"], 400, "isv.INVALID_PARAMETERS"),
        (["Timestamp": "2024-01-02 03:04:05"], 400, "InvalidTimeStamp.Format"),
        (["Timestamp": "2024-01-02T03:20:06Z"], 400, "InvalidTimeStamp.Expired"),
        (["Timestamp": "2024-01-02T02:49:04Z"], 400, "InvalidTimeStamp.Expired"),
        (["SignatureNonce": nil], 400, "MissingParameter"),
        (["AccessKeyId": "nobody"], 404, "InvalidAccessKeyId.NotFound"),
        (["Version": "2017-05-26"], 400, "InvalidVersion"),
        (["Action": "SingleCallByVoices"], 404, "InvalidAction.NotFound"),
        (["Action": "SingleCallByTts", "TtsCode": "TTS_10001", "TtsParam": "[1]"], 400, "isv.INVALID_PARAMETERS"),
        (["Action": "SingleCallByTts"], 400, "MissingParameter"),
        (["Action": "SingleCallByTts", "TtsCode": "TTS_99"], 400, "isv.TTS_TEMPLATE_ILLEGAL"),
    ]

    @Test(arguments: fakeRefusals)
    func fakeRefusesAsTheVendorDoes(change: [String: String?], status: Int, code: String) async throws {
        let fake = Self.fake()
        var parameters = AliyunSignerTests.va3
        parameters["SignatureNonce"] = UUID().uuidString
        for (key, value) in change { parameters[key] = value }
        let secret = parameters["AccessKeyId"] == "testid" ? Self.secret : "x"
        var signed = parameters
        signed["Signature"] = AliyunRPCSigner.signature(parameters, method: "POST", secret: secret)
        let answer = await fake.answer(method: "POST", parameters: signed)
        #expect(answer.status == status)
        #expect(answer.body.contains(#""Code":"\#(code)""#))
        #expect(await fake.acceptedCalls().isEmpty)
    }

    @Test func fakeAnswersXMLWhenFormatIsLeftOut() async throws {
        let fake = Self.fake()
        var parameters = AliyunSignerTests.va3
        parameters["Format"] = nil
        parameters["Signature"] = AliyunRPCSigner.signature(parameters, method: "POST", secret: Self.secret)
        let answer = await fake.answer(method: "POST", parameters: parameters)
        #expect(answer.xml)
        #expect(answer.body.contains("<Code>OK</Code>"))
    }

    // MARK: - Helpers

    static func code(_ results: [RecipientResult]) -> [String] {
        results.map {
            switch $0.result {
            case .accepted(let id): "accepted \(id)"
            case .retryable(let error): "retryable \(error.code)"
            case .permanent(let error): "permanent \(error.code)"
            }
        }
    }

    static func vendorError(_ results: [RecipientResult]) -> VendorError? {
        switch results.first?.result {
        case .retryable(let error), .permanent(let error): error
        default: nil
        }
    }

    static func message(_ results: [RecipientResult]) -> String? { vendorError(results)?.message }
    static func status(_ results: [RecipientResult]) -> Int? { vendorError(results)?.httpStatus }

    static func expectNoSecrets(in texts: [String], signature: String? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for text in texts {
            #expect(!text.contains(secret), "secret in: \(text)", sourceLocation: sourceLocation)
            #expect(!text.contains("S3cr3t"), "secret in: \(text)", sourceLocation: sourceLocation)
            if let signature {
                #expect(!text.contains(signature), "signature in: \(text)", sourceLocation: sourceLocation)
                #expect(!text.contains(AliyunRPCSigner.percentEncode(signature)), "signature in: \(text)", sourceLocation: sourceLocation)
            }
            #expect(!text.contains("13700000000"), "full number in: \(text)", sourceLocation: sourceLocation)
        }
    }

    static func send(
        _ url: String,
        method: HTTPMethod = .POST,
        body: String? = nil,
        contentType: String? = "application/x-www-form-urlencoded"
    )
        async throws -> (status: Int, body: String)
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 16)
        return (Int(response.status.code), String(buffer: bytes))
    }
}
