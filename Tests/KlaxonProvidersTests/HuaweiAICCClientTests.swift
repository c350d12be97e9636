import AsyncHTTPClient
import Foundation
import KlaxonCore
import KlaxonProviders
import Logging
import Synchronization
import Testing
import VendorFakes

/// What the Huawei suites share: a clock the client and the fake both read, a log capture,
/// and builders for the fake and the client.
enum HuaweiTestSupport {
    static let appKey = "2049230d-0000-0000-0000-000000000001"
    static let appSecret = "s3cr3t-Huawei-App-Secret"
    /// 2023-11-14T22:13:20Z.
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    static let alice = CallRecipient(name: "alice", phone: "+8613700000000")
    static let bob = CallRecipient(name: "bob", phone: "+8613911112222")
    /// Not VENDORS.md's V-H2 (`...callback?src=bridge`): Huawei's documents allow no `=` in it.
    static let callbackURL = "https://alerts.example.com/aicc/callback/bridge-token"
    static let callbackBase64 = "aHR0cHM6Ly9hbGVydHMuZXhhbXBsZS5jb20vYWljYy9jYWxsYmFjay9icmlkZ2UtdG9rZW4="

    /// A wall clock tests move by hand.
    final class Clock: Sendable {
        private let date: Mutex<Date>
        init(_ date: Date = HuaweiTestSupport.start) { self.date = Mutex(date) }
        var now: Date { date.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { date.withLock { $0 += seconds } }
    }

    static func fake(clock: Clock) -> HuaweiAICCFake {
        HuaweiAICCFake(appKey: appKey, appSecret: appSecret, now: { clock.now })
    }

    static func config(
        _ baseURL: String,
        version: String = "v2",
        options: [String: String] = [:],
        timeout: Duration = .seconds(30)
    ) -> ProviderConfig {
        var all = ["app_key": appKey, "app_secret": appSecret]
        all.merge(options) { $1 }
        return ProviderConfig(name: "huawei-main", type: .huaweiAICC, endpoint: baseURL, timeout: timeout, apiVersion: version, options: all)
    }

    static func environment(clock: Clock, logs: RecordedLog = RecordedLog()) -> ProviderEnvironment {
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(log: logs) })
        return ProviderEnvironment(httpClient: .shared, logger: logger, now: { clock.now })
    }

    static func client(
        _ baseURL: String,
        clock: Clock,
        version: String = "v2",
        options: [String: String] = [:],
        timeout: Duration = .seconds(30),
        logs: RecordedLog = RecordedLog()
    ) throws -> HuaweiAICCClient {
        try HuaweiAICCClient(
            config: config(baseURL, version: version, options: options, timeout: timeout),
            environment: environment(clock: clock, logs: logs)
        )
    }

    static let template = VoicePrompt.huaweiAICC(playList: [.template(id: "100001", params: ["db-1", "97%"])])

    static func call(
        _ prompt: VoicePrompt = template,
        to recipients: [CallRecipient] = [alice],
        priority: Int = 1,
        callbackURL: String? = callbackURL
    ) -> CallRequest {
        CallRequest(callID: "0123456789ab", recipients: recipients, prompt: prompt, priority: priority, callbackURL: callbackURL)
    }

    /// The business requests the fake received (token requests left out).
    static func businessRequests(_ fake: HuaweiAICCFake) async -> [RecordedRequest] {
        await fake.state.requests.filter { $0.path != HuaweiAICCFake.tokenPath }
    }

    static func result(_ results: [RecipientResult]) throws -> CallResult {
        try #require(results.count == 1)
        return results[0].result
    }

    static func error(_ result: CallResult) -> (retryable: Bool, error: VendorError)? {
        switch result {
        case .accepted: nil
        case .retryable(let error): (true, error)
        case .permanent(let error): (false, error)
        }
    }
}

/// `HuaweiAICCClient` against `HuaweiAICCFake` over real HTTP on loopback.
@Suite struct HuaweiAICCClientTests {
    typealias Support = HuaweiTestSupport

    // MARK: - The request on the wire

    /// One request a recipient; each accepted call is told as its request returns.
    @Test func eachAcceptedCallIsToldAsItComes() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            let told = Mutex<[RecipientResult]>([])
            let results = await client.placeCalls(Support.call(to: [Support.alice, Support.bob])) { result in told.withLock { $0.append(result) } }
            #expect(results.allSatisfy { $0.result.isAccepted })
            #expect(Set(told.withLock { $0 }) == Set(results))
        }
    }

    @Test func v2RequestFieldByField() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, options: ["caller_present": "2222201", "play_times": "2"])
            let results = await client.placeCalls(Support.call())

            let accepted = await fake.acceptedCalls()
            try #require(accepted.count == 1)
            #expect(results == [RecipientResult(recipient: Support.alice, result: .accepted(vendorCallID: accepted[0].callSerialNo))])
            #expect(accepted[0].callSerialNo.count == 19)
            #expect(accepted[0].version == "v2")

            let requests = await fake.state.requests
            try #require(requests.count == 2)
            let token = requests[0]
            #expect(token.method == "POST")
            #expect(token.path == "/apigovernance/api/oauth/tokenByAkSk")
            #expect(token.headers["content-type"] == "application/json")
            #expect(token.headers["x-token-expire"] == "600")
            #expect(token.bodyText == #"{"app_key":"2049230d-0000-0000-0000-000000000001","app_secret":"s3cr3t-Huawei-App-Secret"}"#)

            let business = requests[1]
            #expect(business.method == "POST")
            #expect(business.path == "/apiaccess/rest/voiceNotification/v2/createVoiceNotification")
            #expect(business.query == nil)
            #expect(business.headers["content-type"] == "application/json;charset=UTF-8")
            #expect(business.headers["x-app-key"] == Support.appKey)
            let authorization = try #require(business.headers["authorization"])
            #expect(authorization.hasPrefix("Bearer "))
            #expect(authorization.count == "Bearer ".count + 32)
            // V-H4 with klaxon's E.164 number, '+' removed.
            #expect(
                business.bodyText
                    == #"{"called":"8613700000000","playList":[{"templateId":"100001","templateParams":["db-1","97%"]}],"playTimes":2,"callerPresent":"2222201","callBackUrl":"\#(Support.callbackBase64)","priority":"1"}"#
            )

            // JSON types, read strictly: playTimes a number, priority and called strings.
            struct V2Body: Decodable {
                struct Entry: Decodable {
                    var templateId: String
                    var templateParams: [String]
                }
                var called: String
                var playList: [Entry]
                var playTimes: Int
                var callerPresent: String
                var callBackUrl: String
                var priority: String
            }
            let body = try JSONDecoder().decode(V2Body.self, from: Data(business.body))
            #expect(body.playTimes == 2)
            #expect(body.priority == "1")
            #expect(String(decoding: try #require(Data(base64Encoded: body.callBackUrl)), as: UTF8.self) == Support.callbackURL)
        }
    }

    @Test func v2PlayListKinds() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            let prompt = VoicePrompt.huaweiAICC(playList: [
                .voiceID("1133000000000999"), .voiceFileName("disk_full.wav"), .template(id: "T1", params: []),
            ])
            let results = await client.placeCalls(Support.call(prompt, priority: 5, callbackURL: nil))
            #expect(try Support.result(results).isAccepted)
            let business = try #require(await Support.businessRequests(fake).first)
            #expect(
                business.bodyText
                    == #"{"called":"8613700000000","playList":[{"voiceId":"1133000000000999"},{"voiceFileName":"disk_full.wav"},{"templateId":"T1"}],"priority":"5"}"#
            )
        }
    }

    @Test func v1RequestFieldByField() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            // base64_callback_url false does not apply to V1: V1 always wants Base64.
            let client = try Support.client(baseURL, clock: clock, version: "v1", options: ["base64_callback_url": "false"])
            let results = await client.placeCalls(Support.call(.huaweiV1(voiceContent: "1133000000000999~$Disk full on db-1$")))
            let accepted = await fake.acceptedCalls()
            try #require(accepted.count == 1)
            #expect(try Support.result(results) == .accepted(vendorCallID: accepted[0].callSerialNo))

            let business = try #require(await Support.businessRequests(fake).first)
            #expect(business.path == "/apiaccess/rest/voiceNotification/v1/createVoiceNotification")
            #expect(business.headers["content-type"] == "application/json;charset=UTF-8")
            #expect(business.headers["x-app-key"] == Support.appKey)
            // V-H3 with klaxon's number.
            #expect(
                business.bodyText
                    == #"{"voiceContent":"1133000000000999~$Disk full on db-1$","called":"8613700000000","callBackUrl":"\#(Support.callbackBase64)","priority":"1"}"#
            )
        }
    }

    @Test func v1WithCallerPresentAndJoinedVoiceIDs() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, version: "v1", options: ["caller_present": "2222201", "play_times": "3"])
            let prompt = VoicePrompt.huaweiAICC(playList: [.voiceID("1133000000000999"), .voiceID("2225000000000149")])
            let results = await client.placeCalls(Support.call(prompt, priority: 9, callbackURL: nil))
            #expect(try Support.result(results).isAccepted)
            let business = try #require(await Support.businessRequests(fake).first)
            // playTimes does not exist in V1 and is not sent.
            #expect(
                business.bodyText
                    == #"{"voiceContent":"1133000000000999~2225000000000149","callerPresent":"2222201","called":"8613700000000","priority":"9"}"#
            )
        }
    }

    @Test func v2PlainCallbackURLWhenBase64IsOff() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, options: ["base64_callback_url": "false"])
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            let business = try #require(await Support.businessRequests(fake).first)
            #expect(business.bodyText.contains(#""callBackUrl":"https://alerts.example.com/aicc/callback/bridge-token""#))
        }
    }

    @Test func callbackURLHuaweiWouldRefuseIsLeftOutWithAWarning() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, logs: logs)
            for url in [
                "https://alerts.example.com/cb?token=a%20b", "ftp://alerts.example.com/cb",
                "https://a.example.com/" + String(repeating: "x", count: 200),
            ] {
                #expect(try Support.result(await client.placeCalls(Support.call(callbackURL: url))).isAccepted)
            }
            let bodies = await Support.businessRequests(fake).map(\.bodyText)
            #expect(bodies.count == 3)
            #expect(bodies.allSatisfy { !$0.contains("callBackUrl") })
            #expect(logs.entries.filter { $0.contains("callback URL left out") }.count == 3)
        }
    }

    @Test(arguments: ["v1", "v2"])
    func callbackURLHuaweiRefusesIsDroppedAndTheCallSentAgain(version: String) async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        let logs = RecordedLog()
        await fake.setCallbackTrustlist(["klaxon.example.com"])
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, version: version, logs: logs)
            let prompt: VoicePrompt = version == "v1" ? .huaweiV1(voiceContent: "1133") : Support.template
            let result = try Support.result(await client.placeCalls(Support.call(prompt)))
            #expect(result.isAccepted)
            let bodies = await Support.businessRequests(fake).map(\.bodyText)
            #expect(bodies.count == 2)
            #expect(bodies.first?.contains("callBackUrl") == true)
            #expect(bodies.last?.contains("callBackUrl") == false)
            #expect(await fake.acceptedCalls().count == 1)
            #expect(logs.entries.filter { $0.contains("no status report will arrive") }.count == 1)

            // A trusted URL goes through the first time.
            let trusted = "https://klaxon.example.com/callbacks/huawei"
            #expect(try Support.result(await client.placeCalls(Support.call(prompt, callbackURL: trusted))).isAccepted)
            #expect(await Support.businessRequests(fake).count == 3)
        }
    }

    @Test func retCode9IsPermanentWhenThereIsNoCallbackURLToDrop() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            // Warm the token so that each queued answer meets a business request.
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            let refused = #"{"retCode":"9","retMsg":"The value of callBackUrl does not meet the requirements."}"#
            // Sent without a callback URL: nothing to drop, so no second request.
            await fake.state.enqueue(.respond(status: 200, body: refused))
            let plain = try #require(Support.error(try Support.result(await client.placeCalls(Support.call(callbackURL: nil)))))
            #expect(!plain.retryable && plain.error.code == "9")
            #expect(await Support.businessRequests(fake).count == 2)
            // Refused again without it: the second answer stands, and there is no third request.
            await fake.state.enqueue(.respond(status: 200, body: refused), .respond(status: 200, body: refused))
            let twice = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
            #expect(!twice.retryable && twice.error.code == "9")
            #expect(await Support.businessRequests(fake).count == 4)
        }
    }

    @Test func priorityIsClampedIntoOneToNine() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            _ = await client.placeCalls(Support.call(priority: 0, callbackURL: nil))
            _ = await client.placeCalls(Support.call(priority: 12, callbackURL: nil))
            let bodies = await Support.businessRequests(fake).map(\.bodyText)
            #expect(bodies.count == 2)
            #expect(bodies.first?.hasSuffix(#""priority":"1"}"#) == true)
            #expect(bodies.last?.hasSuffix(#""priority":"9"}"#) == true)
        }
    }

    @Test func oneRequestPerRecipientInOrderAndBadNumbersRefusedBeforeSending() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            let desk = CallRecipient(name: "desk", phone: "8899")
            let results = await client.placeCalls(Support.call(to: [Support.alice, desk, Support.bob]))
            #expect(results.map(\.recipient) == [Support.alice, desk, Support.bob])
            #expect(results[0].result.isAccepted)
            #expect(results[2].result.isAccepted)
            let refused = try #require(Support.error(results[1].result))
            #expect(!refused.retryable)
            #expect(refused.error.code == "klaxon.number_unsupported")

            let accepted = await fake.acceptedCalls()
            #expect(Set(accepted.map(\.called)) == ["8613700000000", "8613911112222"])
            #expect(Set(results.compactMap { if case .accepted(let id) = $0.result { id } else { nil } }) == Set(accepted.map(\.callSerialNo)))
            #expect(await Support.businessRequests(fake).count == 2)
        }
    }

    // MARK: - Prompts that cannot be sent

    @Test(arguments: [
        ("v2", VoicePrompt.huaweiV1(voiceContent: "1133")),
        ("v2", VoicePrompt.aliyunVoice(voiceCode: "x.wav")),
        ("v2", VoicePrompt.text("disk full")),
        ("v1", VoicePrompt.huaweiAICC(playList: [.template(id: "T1", params: ["a"])])),
        ("v1", VoicePrompt.huaweiAICC(playList: [.voiceID("1133"), .voiceFileName("a.wav")])),
        ("v1", VoicePrompt.huaweiAICC(playList: [])),
        ("v1", VoicePrompt.huaweiV1(voiceContent: "")),
        ("v2", VoicePrompt.huaweiAICC(playList: [.voiceID("")])),
    ])
    func promptThatDoesNotFitTheVersionIsNotSent(version: String, prompt: VoicePrompt) async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, version: version)
            let results = await client.placeCalls(Support.call(prompt, to: [Support.alice, Support.bob]))
            #expect(results.count == 2)
            for result in results {
                let failure = try #require(Support.error(result.result))
                #expect(!failure.retryable)
                #expect(failure.error.code == "klaxon.voice_missing")
            }
            #expect(await fake.state.requests.isEmpty)
        }
    }

    @Test(arguments: [
        ("v2", VoicePrompt.huaweiAICC(playList: Array(repeating: .voiceID("1"), count: 6))),
        ("v2", VoicePrompt.huaweiAICC(playList: [])),
        ("v2", VoicePrompt.huaweiAICC(playList: [.template(id: "T", params: (1...11).map(String.init))])),
        ("v2", VoicePrompt.huaweiAICC(playList: [.template(id: "T", params: [String(repeating: "x", count: 33)])])),
        ("v2", VoicePrompt.huaweiAICC(playList: [.template(id: "T", params: [String(repeating: "磁", count: 11)])])),
        ("v2", VoicePrompt.huaweiAICC(playList: [.template(id: "T", params: ["${x}"])])),
        ("v1", VoicePrompt.huaweiV1(voiceContent: "$" + String(repeating: "x", count: 999) + "$")),
    ])
    func promptOverTheVendorsLimitsIsNotSent(version: String, prompt: VoicePrompt) async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, version: version)
            let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call(prompt)))))
            #expect(!failure.retryable)
            #expect(failure.error.code.hasPrefix("klaxon."))
            #expect(["klaxon.prompt_limit", "klaxon.voice_missing"].contains(failure.error.code))
            #expect(await fake.state.requests.isEmpty)
        }
    }

    @Test func limitsAtTheEdgeAreSent() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let v2 = try Support.client(baseURL, clock: clock)
            let entries = Array(
                repeating: HuaweiPlayEntry.template(id: "T", params: (1...10).map { _ in String(repeating: "磁", count: 10) + "xy" }),
                count: 5
            )
            #expect(try Support.result(await v2.placeCalls(Support.call(.huaweiAICC(playList: entries)))).isAccepted)
            let v1 = try Support.client(baseURL, clock: clock, version: "v1")
            let content = "$" + String(repeating: "x", count: 998) + "$"
            #expect(try Support.result(await v1.placeCalls(Support.call(.huaweiV1(voiceContent: content)))).isAccepted)
            #expect(await fake.acceptedCalls().count == 2)
        }
    }

    // MARK: - Classifying answers

    /// Every documented retCode of V1 and V2, and one undocumented, with klaxon's verdict.
    static let retCodes: [(code: String, retryable: Bool)] = [
        ("1", true), ("2", false), ("3", true), ("4", false), ("5", false), ("6", false), ("7", false), ("8", false),
        ("9", false), ("10", false), ("11", false), ("12", false), ("13", false), ("14", false), ("15", false), ("16", false),
        ("17", false), ("18", false), ("19", false), ("20", false), ("21", false), ("22", false), ("23", false), ("24", false),
        ("36", false), ("99", false),
    ]

    @Test func everyRetCodeIsClassifiedOverTheWire() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            for version in ["v1", "v2"] {
                let client = try Support.client(baseURL, clock: clock, version: version)
                let prompt: VoicePrompt = version == "v1" ? .huaweiV1(voiceContent: "1133") : Support.template
                // Warm the token so that each queued answer meets a business request.
                #expect(try Support.result(await client.placeCalls(Support.call(prompt))).isAccepted)
                for (code, retryable) in Self.retCodes {
                    await fake.state.enqueue(.respond(status: 200, body: #"{"retCode":"\#(code)","retMsg":"vendor says \#(code)"}"#))
                    // Without a callback URL, so that 9 is not answered by a second request without one.
                    let result = try Support.result(await client.placeCalls(Support.call(prompt, callbackURL: nil)))
                    let failure = try #require(Support.error(result), "retCode \(code) (\(version))")
                    #expect(failure.retryable == retryable, "retCode \(code) (\(version))")
                    #expect(failure.error.code == code)
                    #expect(failure.error.httpStatus == 200)
                    #expect(failure.error.message.contains("vendor says \(code)"))
                }
            }
        }
    }

    @Test func retCodeTableCoversEveryDocumentedCode() {
        let documented = Set(Self.retCodes.map(\.code)).subtracting(["99"])
        #expect(Set(HuaweiRetCode.table.keys) == documented)
        for (code, retryable) in Self.retCodes {
            let result = HuaweiRetCode.classify(retCode: code, retMsg: nil, callSerialNo: nil)
            #expect(Support.error(result)?.retryable == retryable, "retCode \(code)")
            #expect(Support.error(result)?.error.message.isEmpty == false)
        }
        #expect(
            HuaweiRetCode.classify(retCode: "0", retMsg: "Created successfully.", callSerialNo: "1308434073450058757")
                == .accepted(vendorCallID: "1308434073450058757")
        )
    }

    @Test func answersTheFakeRefusesCarryTheVendorsCode() async throws {
        // The fake refuses with its documented retCode; the client passes the code through.
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, options: ["caller_present": "not-digits"])
            let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
            #expect(!failure.retryable)
            #expect(failure.error.code == "7")
            #expect(failure.error.message.contains("callerPresent"))
        }
    }

    @Test func httpErrorsAndUnreadableAnswers() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            let cases: [(status: Int, body: String, code: String, retryable: Bool)] = [
                (500, "Business failure", "klaxon.http_500", true),
                (502, "<html>bad gateway</html>", "klaxon.http_502", true),
                (503, "", "klaxon.http_503", true),
                (429, "slow down", "klaxon.http_429", true),
                (400, "Incorrect request", "klaxon.http_400", false),
                (404, "not found", "klaxon.http_404", false),
                (500, #"{"retCode":"5","retMsg":"called is bad"}"#, "5", false),
                (200, "<html>maintenance</html>", "klaxon.bad_response", true),
                (200, #"{"retMsg":"no code"}"#, "klaxon.bad_response", true),
            ]
            for item in cases {
                await fake.state.enqueue(.respond(status: item.status, body: item.body))
                let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))), "HTTP \(item.status)")
                #expect(failure.error.code == item.code, "HTTP \(item.status) \(item.body)")
                #expect(failure.retryable == item.retryable, "HTTP \(item.status) \(item.body)")
                #expect(failure.error.httpStatus == item.status)
            }
        }
    }

    @Test func acceptedWithoutSerialNumberIsStillAccepted() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            await fake.state.enqueue(.respond(status: 200, body: #"{"retCode":"0","retMsg":"Created successfully."}"#))
            #expect(try Support.result(await client.placeCalls(Support.call())) == .accepted(vendorCallID: "huawei-no-serial-0123456789ab-0000"))
            await fake.state.enqueue(.respond(status: 200, body: #"{"retCode":"0","result":{"callSerialNo":1308434073450058757}}"#))
            #expect(try Support.result(await client.placeCalls(Support.call())) == .accepted(vendorCallID: "1308434073450058757"))
        }
    }

    @Test(arguments: [200, 201, 202, 299])
    func anyTwoHundredWithRetCodeZeroIsAccepted(status: Int) async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            await fake.state.enqueue(.respond(status: status, body: #"{"retCode":"0","result":{"callSerialNo":"1308434073450058757"}}"#))
            #expect(try Support.result(await client.placeCalls(Support.call())) == .accepted(vendorCallID: "1308434073450058757"))
        }
    }

    @Test func timeoutIsRetryable() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, timeout: .seconds(1))
            // Calls until one is accepted, so that the token is fetched and only the timed call's
            // own request can time out: on a loaded machine (the whole suite at once) even the
            // token request has taken over the second.
            var warmedUp = false
            for _ in 0..<5 where !warmedUp {
                warmedUp = try Support.result(await client.placeCalls(Support.call())).isAccepted
            }
            #expect(warmedUp)
            let before = await Support.businessRequests(fake).count
            await fake.state.enqueue(.delay(.seconds(3)))
            let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
            #expect(failure.retryable)
            #expect(failure.error.code == "klaxon.timeout")
            #expect(failure.error.message.contains("createVoiceNotification timed out"))
            #expect(await Support.businessRequests(fake).count == before + 1, "one request for the call: a timeout is not retried inside the client")
        }
    }

    @Test func tokenTimeoutIsRetryable() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, timeout: .seconds(1))
            await fake.state.enqueue(.delay(.milliseconds(1500)))
            let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
            #expect(failure.retryable)
            #expect(failure.error.code == "klaxon.timeout")
            #expect(await Support.businessRequests(fake).isEmpty)
        }
    }

    @Test func connectionRefusedIsRetryable() async throws {
        // Port 1 on loopback: nothing listens there. AsyncHTTPClient keeps trying to connect
        // until the deadline, then reports the connection error.
        let client = try Support.client("http://127.0.0.1:1", clock: Support.Clock(), timeout: .milliseconds(300))
        let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
        #expect(failure.retryable)
        #expect(failure.error.code == "klaxon.transport")
    }

    @Test func tokenServer5xxIsRetryableAndBadCredentialsPermanent() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            await fake.state.enqueue(.respond(status: 503, body: "busy"))
            let busy = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
            #expect(busy.retryable)
            #expect(busy.error.code == "klaxon.http_503")

            let wrong = try Support.client(baseURL, clock: clock, options: ["app_secret": "wrong-secret-value"])
            let refused = try #require(Support.error(try Support.result(await wrong.placeCalls(Support.call()))))
            #expect(!refused.retryable)
            #expect(refused.error.code == "klaxon.auth")
            #expect(refused.error.httpStatus == 401)
            #expect(!refused.error.description.contains("wrong-secret-value"))
            #expect(await Support.businessRequests(fake).isEmpty)
        }
    }

    // MARK: - Token refusal: one refresh and one retry

    @Test func revokedTokenIsRefreshedOnceAndTheCallRetried() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            await fake.revokeAllTokens()
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            #expect(await fake.tokenRequestCount() == 2)
            let business = await Support.businessRequests(fake)
            #expect(business.count == 3)
            #expect(business[0].headers["authorization"] == business[1].headers["authorization"])
            #expect(business[1].headers["authorization"] != business[2].headers["authorization"])
            #expect(business[1].bodyText == business[2].bodyText)
            #expect(await fake.acceptedCalls().count == 2)
        }
    }

    @Test func forbiddenIsAlsoRetriedWithAFreshToken() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            await fake.state.enqueue(.respond(status: 403, body: "Authentication fails."))
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            #expect(await fake.tokenRequestCount() == 2)
        }
    }

    @Test func tokenRefusedTwiceIsPermanentAuth() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            await fake.setRejectingAllTokens(true)
            let failure = try #require(Support.error(try Support.result(await client.placeCalls(Support.call()))))
            #expect(!failure.retryable)
            #expect(failure.error.code == "klaxon.auth")
            #expect(failure.error.httpStatus == 401)
            #expect(await fake.tokenRequestCount() == 2)
            #expect(await Support.businessRequests(fake).count == 3)
        }
    }

    // MARK: - Secrets and numbers

    @Test func secretsAndTokensNeverInErrorsOrLogs() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, logs: logs)
            var results: [CallResult] = []
            results += await client.placeCalls(Support.call()).map(\.result)
            await fake.revokeAllTokens()
            results += await client.placeCalls(Support.call()).map(\.result)
            await fake.setRejectingAllTokens(true)
            results += await client.placeCalls(Support.call()).map(\.result)
            await fake.setRejectingAllTokens(false)
            // A vendor that echoes the token in its error body.
            let issued = await Support.businessRequests(fake).compactMap { $0.headers["authorization"]?.dropFirst("Bearer ".count) }.map(String.init)
            await fake.state.enqueue(.respond(status: 400, body: "bad token \(issued.last ?? "")"))
            results += await client.placeCalls(Support.call()).map(\.result)
            let wrong = try Support.client(baseURL, clock: clock, options: ["app_secret": "another-secret-xyz"], logs: logs)
            results += await wrong.placeCalls(Support.call()).map(\.result)

            let tokens = Set(
                await Support.businessRequests(fake).compactMap { $0.headers["authorization"]?.dropFirst("Bearer ".count) }.map(String.init)
            )
            #expect(tokens.count >= 3)
            let secrets = [Support.appSecret, "another-secret-xyz"] + Array(tokens)
            let texts =
                results.map { "\($0)" } + [logs.text, "\(client)", String(reflecting: client)] + [
                    {
                        var out = ""
                        dump(client, to: &out)
                        return out
                    }()
                ]
            for secret in secrets {
                for text in texts { #expect(!text.contains(secret), "a secret leaked into: \(text)") }
            }
            #expect(!logs.entries.isEmpty)
            // Numbers are masked in logs.
            #expect(logs.text.contains("+86137****0000"))
            #expect(!logs.text.contains("13700000000"))
        }
    }

    @Test func calleeNumbersQuotedByHuaweiAreMasked() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, logs: logs)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            let echo = "called 8613700000000 (+8613700000000, 13700000000, 013700000000) refused; serial 1308434073450058757"
            await fake.state.enqueue(
                .respond(status: 200, body: #"{"retCode":"5","retMsg":"\#(echo)"}"#),
                .respond(status: 400, body: echo)
            )
            var messages: [String] = []
            for _ in 0..<2 {
                messages.append(try #require(Support.error(try Support.result(await client.placeCalls(Support.call())))).error.message)
            }
            for text in messages + [logs.text] {
                #expect(!text.contains("3700000000"), "a number leaked into: \(text)")
            }
            for message in messages {
                #expect(message.contains("called +86137****0000 (+86137****0000, +86137****0000, +86137****0000) refused"))
                #expect(message.contains("serial 1308434073450058757"))
            }
        }
    }

    // MARK: - Configuration

    @Test(arguments: [
        ["app_key": ""],
        ["app_secret": ""],
        ["api_version": "v3"],
        ["token_expire": "5000"],
        ["token_expire": "abc"],
        ["play_times": "9"],
        ["caller_present": String(repeating: "1", count: 33)],
        ["base64_callback_url": "yes"],
    ])
    func badOptionsAreRefused(options: [String: String]) throws {
        var config = Support.config("http://127.0.0.1:9", options: options)
        config.apiVersion = options["api_version"]
        #expect(throws: ProviderConfigError.self) {
            try HuaweiAICCClient(config: config, environment: Support.environment(clock: Support.Clock()))
        }
    }

    @Test func defaultsAndEndpoint() throws {
        var config = Support.config("http://127.0.0.1:9/", options: [:])
        config.apiVersion = nil
        let client = try HuaweiAICCClient(config: config, environment: Support.environment(clock: Support.Clock()))
        #expect(client.apiVersion == .v2)
        #expect(client.endpoint == "http://127.0.0.1:9")
        #expect(client.type == .huaweiAICC)
        config.endpoint = nil
        #expect(
            try HuaweiAICCClient(config: config, environment: Support.environment(clock: Support.Clock())).endpoint == "https://service.besclouds.com"
        )
        config.endpoint = "not a url"
        #expect(throws: ProviderConfigError.self) { try HuaweiAICCClient(config: config, environment: Support.environment(clock: Support.Clock())) }
    }
}

/// The fake refuses what Huawei refuses, with Huawei's codes, so a client bug fails a test.
@Suite struct HuaweiAICCFakeTests {
    typealias Support = HuaweiTestSupport

    /// A valid token for `fake`, and the headers a correct client sends with it.
    static func headers(_ fake: HuaweiAICCFake) async throws -> [String: String] {
        let answer = await fake.tokenAnswer(
            headers: ["content-type": "application/json", "x-token-expire": "600"],
            body: Array(#"{"app_key":"\#(Support.appKey)","app_secret":"\#(Support.appSecret)"}"#.utf8)
        )
        #expect(answer.status == 200)
        let token = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])["AccessToken"] as? String
        return ["content-type": "application/json;charset=UTF-8", "x-app-key": Support.appKey, "authorization": "Bearer \(try #require(token))"]
    }

    static func retCode(_ answer: (status: Int, body: String)) -> String? {
        guard answer.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] else { return nil }
        return object["retCode"] as? String
    }

    @Test(arguments: [
        (#"{"reqBody":{"called":"8899","playList":[{"voiceId":"1"}]}}"#, "5"),
        (#"{"requestBody":{"called":"8899","playList":[{"voiceId":"1"}]}}"#, "5"),
        (#"{"called":"+8613700000000","playList":[{"voiceId":"1"}]}"#, "5"),
        (#"{"called":8899,"playList":[{"voiceId":"1"}]}"#, "5"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"callerPresent":"abc"}"#, "7"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"playTimes":"2"}"#, "10"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"playTimes":6}"#, "10"),
        (#"{"called":"8899","playList":[]}"#, "11"),
        (#"{"called":"8899"}"#, "11"),
        (#"{"called":"8899","playList":[{"voiceId":"1"},{"voiceId":"1"},{"voiceId":"1"},{"voiceId":"1"},{"voiceId":"1"},{"voiceId":"1"}]}"#, "11"),
        (#"{"called":"8899","playList":[{"templateParams":["a"]}]}"#, "12"),
        (#"{"called":"8899","playList":[{"templateId":"T","templateParams":["123456789012345678901234567890123"]}]}"#, "13"),
        (#"{"called":"8899","playList":[{"templateId":"T","templateParams":["a$b"]}]}"#, "14"),
        (#"{"called":"8899","playList":[{"templateId":"T","templateParams":[]}]}"#, "15"),
        (#"{"called":"8899","playList":[{"templateId":"T","templateParams":["1","2","3","4","5","6","7","8","9","10","11"]}]}"#, "15"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"priority":1}"#, "36"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"priority":"10"}"#, "36"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"callBackUrl":"not a url"}"#, "9"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"callBackUrl":"http://xx.xx.xx.xx:8800/callbackTest"}"#, "0"),
        (#"{"called":"8899","playList":[{"voiceId":"1"}],"callBackUrl":"aHR0cDovL3h4Lnh4Lnh4Lnh4Ojg4MDAvY2FsbGJhY2tUZXN0"}"#, "0"),
        (
            #"{"called":"8899","playList":[{"voiceId":"100001","templateParams":["100","200"]}],"playTimes":1,"callerPresent":"2222201","callBackUrl":"http://xx.xx.xx.xx:8800/callbackTest"}"#,
            "0"
        ),
    ])
    func v2Bodies(body: String, expected: String) async throws {
        let fake = HuaweiAICCFake(appKey: Support.appKey, appSecret: Support.appSecret)
        let answer = await fake.callAnswer(version: "v2", headers: try await Self.headers(fake), body: Array(body.utf8))
        #expect(Self.retCode(answer) == expected, "\(body) → \(answer)")
    }

    @Test(arguments: [
        (#"{"reqBody":{"voiceContent":"1133","called":"88880000"}}"#, "5"),
        (#"{"voiceContent":"","called":"88880000"}"#, "8"),
        (#"{"called":"88880000"}"#, "8"),
        (#"{"voiceContent":"1133~$unclosed","called":"88880000"}"#, "8"),
        (#"{"voiceContent":"1133~~2225","called":"88880000"}"#, "8"),
        (#"{"voiceContent":"1133","called":"88880000","priority":"0"}"#, "36"),
        (#"{"voiceContent":"1133","called":"88880000","priority":9}"#, "36"),
        (#"{"voiceContent":"1133","called":"88880000","callBackUrl":"http://xx.xx.xx.xx:8800/callbackTest"}"#, "9"),
        (#"{"voiceContent":"1133","called":"88880000","callBackUrl":"aHR0cDovL3h4Lnh4Lnh4Lnh4Ojg4MDAvY2FsbGJhY2tUZXN0"}"#, "0"),
        // VENDORS.md's V-H2: its URL (`...callback?src=bridge`) holds `=`, which Huawei's
        // documents do not allow in a callback URL.
        (
            #"{"voiceContent":"1133000000000999~$Disk full on db-1$","called":"88880000","callBackUrl":"aHR0cHM6Ly9hbGVydHMuZXhhbXBsZS5jb20vYWljYy9jYWxsYmFjaz9zcmM9YnJpZGdl","priority":"1"}"#,
            "9"
        ),
        (
            #"{"voiceContent":"1133000000000999~$Disk full on db-1$","called":"88880000","callBackUrl":"aHR0cHM6Ly9hbGVydHMuZXhhbXBsZS5jb20vYWljYy9jYWxsYmFjay9icmlkZ2UtdG9rZW4=","priority":"1"}"#,
            "0"
        ),
    ])
    func v1Bodies(body: String, expected: String) async throws {
        let fake = HuaweiAICCFake(appKey: Support.appKey, appSecret: Support.appSecret)
        let answer = await fake.callAnswer(version: "v1", headers: try await Self.headers(fake), body: Array(body.utf8))
        #expect(Self.retCode(answer) == expected, "\(body) → \(answer)")
    }

    @Test func unknownFieldsAndBadHeadersAreRefused() async throws {
        let fake = HuaweiAICCFake(appKey: Support.appKey, appSecret: Support.appSecret)
        let headers = try await Self.headers(fake)
        let ok = Array(#"{"called":"8899","playList":[{"voiceId":"1"}]}"#.utf8)
        #expect(await fake.callAnswer(version: "v2", headers: headers, body: ok).status == 200)
        #expect(
            await fake.callAnswer(version: "v2", headers: headers, body: Array(#"{"called":"8899","playList":[{"voiceId":"1"}],"volume":1}"#.utf8))
                .status == 400
        )
        #expect(
            await fake.callAnswer(version: "v1", headers: headers, body: Array(#"{"voiceContent":"1","called":"8899","playTimes":1}"#.utf8)).status
                == 400
        )
        var wrongKey = headers
        wrongKey["x-app-key"] = "someone-else"
        #expect(await fake.callAnswer(version: "v2", headers: wrongKey, body: ok).status == 403)
        var noKey = headers
        noKey["x-app-key"] = nil
        #expect(await fake.callAnswer(version: "v2", headers: noKey, body: ok).status == 403)
        var badToken = headers
        badToken["authorization"] = "Bearer nope"
        #expect(await fake.callAnswer(version: "v2", headers: badToken, body: ok).status == 401)
        var twoSpaces = headers
        twoSpaces["authorization"] = headers["authorization"]!.replacingOccurrences(of: "Bearer ", with: "Bearer  ")
        #expect(await fake.callAnswer(version: "v2", headers: twoSpaces, body: ok).status == 401)
        var form = headers
        form["content-type"] = "application/x-www-form-urlencoded"
        #expect(await fake.callAnswer(version: "v2", headers: form, body: ok).status == 400)
        await fake.expireAllTokens()
        #expect(await fake.callAnswer(version: "v2", headers: headers, body: ok).status == 401)
    }

    @Test func tokenRequestsAreChecked() async throws {
        let fake = HuaweiAICCFake(appKey: Support.appKey, appSecret: Support.appSecret)
        let body = Array(#"{"app_key":"\#(Support.appKey)","app_secret":"\#(Support.appSecret)"}"#.utf8)
        #expect(await fake.tokenAnswer(headers: ["content-type": "application/json", "x-token-expire": "3601"], body: body).status == 400)
        #expect(await fake.tokenAnswer(headers: ["content-type": "application/json"], body: body).status == 400)
        #expect(await fake.tokenAnswer(headers: ["x-token-expire": "600"], body: body).status == 400)
        let wrong = Array(#"{"app_key":"\#(Support.appKey)","app_secret":"nope"}"#.utf8)
        #expect(await fake.tokenAnswer(headers: ["content-type": "application/json", "x-token-expire": "600"], body: wrong).status == 401)
        let answer = await fake.tokenAnswer(headers: ["content-type": "application/json", "x-token-expire": "3600"], body: body)
        #expect(answer.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        #expect(object["Expires"] as? String == "3600")
        #expect(object["ApplyType"] as? String == "Bearer")
        #expect(object["AppKey"] as? String == Support.appKey)
        #expect(await fake.tokenRequestCount() == 5)
    }
}
