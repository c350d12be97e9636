import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import Synchronization
import Testing
import VendorFakes

@testable import KlaxonProviders

@Suite struct BitelClientTests {
    static let token = "test-jwt-7b1f0c2e9d"
    static let voiceID = "08e815cbcd724386805103ac0d45e4c2"
    static let alice = CallRecipient(name: "alice", phone: "+989121234567")
    static let bob = CallRecipient(name: "bob", phone: "+989351112222")

    static func fake(ids: [String] = []) -> BitelFake {
        let queue = Mutex(ids)
        return BitelFake(
            token: token,
            voices: [voiceID],
            servers: ["srv-1"],
            makeID: {
                queue.withLock { $0.isEmpty ? UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() : $0.removeFirst() }
            }
        )
    }

    static func client(
        _ endpoint: String,
        options: [String: String] = [:],
        timeout: Duration = .seconds(30),
        logs: RecordedLog = RecordedLog()
    ) throws -> BitelClient {
        var all = ["token": token]
        all.merge(options) { $1 }
        let config = ProviderConfig(name: "bitel-ir", type: .bitel, endpoint: endpoint, timeout: timeout, options: all)
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(log: logs) })
        return try BitelClient(config: config, environment: ProviderEnvironment(httpClient: .shared, logger: logger))
    }

    static func call(_ recipients: [CallRecipient] = [alice], prompt: VoicePrompt = .bitel(voiceID: voiceID)) -> CallRequest {
        CallRequest(callID: "0123456789ab", recipients: recipients, prompt: prompt)
    }

    // MARK: - The request on the wire

    @Test func singleCallRequestByteForByte() async throws {
        let fake = Self.fake(ids: ["69b9e312e3b64b3880760639f5dfdffa"])
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call())
        }
        #expect(results == [RecipientResult(recipient: Self.alice, result: .accepted(vendorCallID: "69b9e312e3b64b3880760639f5dfdffa"))])
        let recorded = await fake.state.requests
        try #require(recorded.count == 1)
        #expect(recorded[0].method == "POST")
        #expect(recorded[0].path == "/api/v2/voice/single")
        #expect(recorded[0].query == nil)
        #expect(recorded[0].headers["authorization"] == "Bearer \(Self.token)")
        #expect(recorded[0].headers["content-type"] == "application/json")
        #expect(recorded[0].bodyText == #"{"phoneNumber":"09121234567","voiceId":"08e815cbcd724386805103ac0d45e4c2","retryCount":0}"#)
        #expect(await fake.rejections().isEmpty)
        let calls = await fake.calls()
        #expect(calls.map(\.phoneNumber) == ["09121234567"])
        #expect(calls.first?.retryCount == 0)
        #expect(calls.first?.serverID == nil)
    }

    @Test func serverIDAndRetryCountWhenConfigured() async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, options: ["server_id": "srv-1", "retry_count": "1"]).placeCalls(Self.call())
        }
        #expect(results.filter { !$0.result.isAccepted }.isEmpty)
        #expect(
            await fake.state.requests.first?.bodyText
                == #"{"phoneNumber":"09121234567","voiceId":"08e815cbcd724386805103ac0d45e4c2","retryCount":1,"serverId":"srv-1"}"#
        )
        #expect(await fake.calls().first?.serverID == "srv-1")
    }

    @Test func theDefaultEndpointIsBitelsAndAnOverrideIsABaseURL() throws {
        let config = ProviderConfig(name: "bitel-ir", type: .bitel, options: ["token": Self.token])
        #expect(try BitelClient(config: config, environment: ProviderEnvironment(httpClient: .shared)).endpoint == "https://api.bitel.rest")
        #expect(try Self.client("http://127.0.0.1:9/").endpoint == "http://127.0.0.1:9")
    }

    @Test func oneCallPerNumberInRecipientOrderAndSharedNumbersCalledOnce() async throws {
        let fake = Self.fake(ids: ["a0000000000000000000000000000001", "b0000000000000000000000000000002"])
        let carol = CallRecipient(name: "carol", phone: Self.alice.phone)
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call([Self.alice, Self.bob, carol]))
        }
        #expect(results.map(\.recipient) == [Self.alice, Self.bob, carol])
        #expect(results.filter { !$0.result.isAccepted }.isEmpty)
        #expect(results[0].result == results[2].result)
        #expect(results[0].result != results[1].result)
        #expect(await fake.calls().map(\.phoneNumber).sorted() == ["09121234567", "09351112222"])
    }

    // MARK: - Numbers

    @Test(arguments: [
        ("+989121234567", "09121234567"),
        ("+989000000000", "09000000000"),
        ("+989999999999", "09999999999"),
    ])
    func iranianMobilesBecomeNational(phone: String, national: String) {
        #expect(BitelClient.nationalNumber(phone) == national)
    }

    @Test(arguments: [
        "+982188776655",  // Tehran landline
        "+98912123456",  // one digit short
        "+9891212345678",  // one digit long
        "+8613700000000",  // China
        "+19121234567",  // another country, same digits
        "09121234567",  // national, not E.164
        "989121234567",  // no plus
        "+98 912 123 4567",  // spaces
        "",
    ])
    func otherNumbersAreRefusedBeforeSending(phone: String) async throws {
        #expect(BitelClient.nationalNumber(phone) == nil)
        let fake = Self.fake()
        let stranger = CallRecipient(name: "stranger", phone: phone)
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call([stranger]))
        }
        guard case .permanent(let error) = results.first?.result else {
            Issue.record("expected a permanent refusal, got \(results)")
            return
        }
        #expect(error.code == "klaxon.number_unsupported")
        #expect(await fake.state.requests.isEmpty)
    }

    /// Each accepted call is told as its request returns, once for each recipient of its
    /// number, so the engine records it before the other requests are answered.
    @Test func eachAcceptedCallIsToldAsItComes() async throws {
        let fake = Self.fake(ids: ["a0000000000000000000000000000001", "b0000000000000000000000000000002"])
        let carol = CallRecipient(name: "carol", phone: Self.alice.phone)
        let told = Mutex<[RecipientResult]>([])
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call([Self.alice, Self.bob, carol])) { result in told.withLock { $0.append(result) } }
        }
        #expect(Set(told.withLock { $0 }) == Set(results))
        #expect(told.withLock { $0 }.count == 3)
    }

    @Test func aRefusedNumberDoesNotStopTheOthers() async throws {
        let fake = Self.fake()
        let foreign = CallRecipient(name: "li", phone: "+8613700000000")
        let logs = RecordedLog()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, logs: logs).placeCalls(Self.call([foreign, Self.alice]))
        }
        #expect(results.map(\.recipient) == [foreign, Self.alice])
        #expect(results[0].result == .permanent(VendorError(code: "klaxon.number_unsupported", message: results[0].errorMessage)))
        #expect(results[1].result.isAccepted)
        #expect(await fake.state.requests.count == 1)
        #expect(!results[0].errorMessage.contains("13700000000"))
        #expect(logs.entries.contains { $0.contains("+86137****0000") })
    }

    @Test(arguments: [VoicePrompt.text("db down"), .bitel(voiceID: ""), .aliyunVoice(voiceCode: "x.wav")])
    func aVoiceWithoutABitelIDIsRefusedBeforeSending(prompt: VoicePrompt) async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call([Self.alice, Self.bob], prompt: prompt))
        }
        #expect(results.count == 2)
        for result in results {
            guard case .permanent(let error) = result.result else {
                Issue.record("expected permanent, got \(result.result)")
                continue
            }
            #expect(error.code == "klaxon.voice_missing")
        }
        #expect(await fake.state.requests.isEmpty)
    }

    // MARK: - Configuration

    @Test(
        arguments: [
            ([:], "token is required"),
            (["token": ""], "token is required"),
            (["token": "t", "retry_count": "2"], "retry_count must be 0 or 1"),
            (["token": "t", "retry_count": "-1"], "retry_count must be 0 or 1"),
            (["token": "t", "retry_count": "one"], "retry_count must be 0 or 1"),
            (["token": "t", "server_id": ""], "server_id is empty"),
        ] as [([String: String], String)]
    )
    func badSettingsAreConfigErrors(options: [String: String], message: String) {
        let config = ProviderConfig(name: "bitel-ir", type: .bitel, options: options)
        #expect {
            try BitelClient(config: config, environment: ProviderEnvironment(httpClient: .shared))
        } throws: { error in
            (error as? ProviderConfigError)?.message.contains(message) == true && (error as? ProviderConfigError)?.provider == "bitel-ir"
        }
    }

    @Test func aBadEndpointIsAConfigError() {
        let config = ProviderConfig(name: "bitel-ir", type: .bitel, endpoint: "ftp://example.com", options: ["token": "t"])
        #expect(throws: ProviderConfigError.self) { try BitelClient(config: config, environment: ProviderEnvironment(httpClient: .shared)) }
    }

    // MARK: - What the fake refuses, as Bitel would

    @Test func aWrongTokenIsAPermanentAuthFailure() async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            var config = ProviderConfig(name: "bitel-ir", type: .bitel, endpoint: baseURL, options: ["token": "not-the-token"])
            config.timeout = .seconds(30)
            return try await BitelClient(config: config, environment: ProviderEnvironment(httpClient: .shared)).placeCalls(Self.call())
        }
        guard case .permanent(let error) = results.first?.result else {
            Issue.record("expected permanent, got \(results)")
            return
        }
        #expect(error.code == "klaxon.auth")
        #expect(error.httpStatus == 401)
        #expect(error.message.contains("never expire"))
        #expect(!error.description.contains("not-the-token"))
    }

    @Test func anUnknownServerIsInvalidServer() async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, options: ["server_id": "bogus"]).placeCalls(Self.call())
        }
        guard case .permanent(let error) = results.first?.result else {
            Issue.record("expected permanent, got \(results)")
            return
        }
        #expect(error.code == "InvalidServer")
        #expect(error.httpStatus == 400)
        #expect(error.message.contains("server_id"))
    }

    @Test func aVoiceBitelDoesNotHaveIsInvalidRequest() async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call(prompt: .bitel(voiceID: "ffffffffffffffffffffffffffffffff")))
        }
        guard case .permanent(let error) = results.first?.result else {
            Issue.record("expected permanent, got \(results)")
            return
        }
        #expect(error.code == "InvalidRequest")
        #expect(await fake.rejections() == ["InvalidRequest: voiceId is not an uploaded voice"])
    }

    // MARK: - Every documented answer, classified

    enum Expected: Sendable, CustomStringConvertible {
        case permanent(String)
        case retryable(String)

        var description: String {
            switch self {
            case .permanent(let code): "permanent \(code)"
            case .retryable(let code): "retryable \(code)"
            }
        }
    }

    @Test(
        arguments: [
            (400, #"{"result":null,"error":"InvalidRequest"}"#, Expected.permanent("InvalidRequest")),
            (400, #"{"result":null,"error":"InvalidServer"}"#, .permanent("InvalidServer")),
            (400, #"{"result":null,"error":"InvalidPhoneNumber"}"#, .permanent("InvalidPhoneNumber")),
            (404, #"{"result":null,"error":"NotFound"}"#, .permanent("NotFound")),
            (402, #"{"result":null,"error":"InsufficientBalance"}"#, .permanent("InsufficientBalance")),
            (400, #"{"result":null,"error":"InsufficientBalance"}"#, .permanent("InsufficientBalance")),
            (401, #"{"result":null,"error":"Unauthorized"}"#, .permanent("klaxon.auth")),
            (401, "", .permanent("klaxon.auth")),
            (403, #"{"result":null,"error":"Forbidden"}"#, .permanent("klaxon.auth")),
            (422, #"{"result":null,"error":"SomethingNew"}"#, .permanent("SomethingNew")),
            (400, "<html>bad</html>", .permanent("klaxon.http")),
            (200, #"{"result":null,"error":"InvalidRequest"}"#, .permanent("InvalidRequest")),
            (429, #"{"result":null,"error":"TooManyRequests"}"#, .retryable("TooManyRequests")),
            (429, "", .retryable("klaxon.http")),
            (500, #"{"result":null,"error":"InternalError"}"#, .retryable("InternalError")),
            (502, "<html>bad gateway</html>", .retryable("klaxon.http")),
            (503, "", .retryable("klaxon.http")),
            (200, "<html>captive portal</html>", .retryable("klaxon.bad_response")),
            (200, #"{"result":{"status":"WAITING"},"error":null}"#, .retryable("klaxon.bad_response")),
            (200, #"{"result":null,"error":null}"#, .retryable("klaxon.bad_response")),
        ] as [(Int, String, Expected)]
    )
    func everyAnswerIsClassified(status: Int, body: String, expected: Expected) async throws {
        let fake = Self.fake()
        await fake.state.enqueue(.respond(status: status, body: body))
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call())
        }
        let result = try #require(results.first?.result)
        switch (expected, result) {
        case (.permanent(let code), .permanent(let error)), (.retryable(let code), .retryable(let error)):
            #expect(error.code == code)
            #expect(error.httpStatus == status)
        default:
            Issue.record("HTTP \(status) \(body): expected \(expected), got \(result)")
        }
    }

    @Test func theSuccessSampleOfTheVendorDocumentIsAccepted() {
        let body = #"""
            {"result":{"id":"69b9e312e3b64b3880760639f5dfdffa","phoneNumber":"0912*******","status":"WAITING","statusCode":0,"billSec":0,"requestDate":1564640750,"executionDate":0,"price":0.0},"error":null}
            """#
        #expect(
            BitelClient.classify(httpStatus: 200, body: Array(body.utf8), retryAfter: nil)
                == .accepted(vendorCallID: "69b9e312e3b64b3880760639f5dfdffa")
        )
    }

    /// Only the id of an accepted call is read: a field klaxon has no use for, in a shape
    /// it does not expect, made the answer retryable, and the retry placed a second call.
    @Test func anAcceptedCallWithAnOddUnusedFieldIsAccepted() {
        let body = #"""
            {"result":{"id":"69b9e312e3b64b3880760639f5dfdffa","status":"WAITING","statusCode":"queued","billSec":12.5,"requestDate":"2019-08-01T10:25:50Z","price":"n/a"},"error":null}
            """#
        #expect(
            BitelClient.classify(httpStatus: 200, body: Array(body.utf8), retryAfter: nil)
                == .accepted(vendorCallID: "69b9e312e3b64b3880760639f5dfdffa")
        )
    }

    @Test func retryAfterIsKeptOnThrottling() {
        let result = BitelClient.classify(httpStatus: 429, body: [], retryAfter: .seconds(30))
        #expect(
            result
                == .retryable(
                    VendorError(
                        code: "klaxon.http",
                        message: "Bitel answered HTTP 429 without an error code",
                        httpStatus: 429,
                        retryAfter: .seconds(30)
                    )
                )
        )
        guard case .permanent(let error) = BitelClient.classify(httpStatus: 400, body: [], retryAfter: .seconds(30)) else {
            Issue.record("400 should be permanent")
            return
        }
        #expect(error.retryAfter == nil)
    }

    // MARK: - Transport

    @Test func aTimeoutIsRetryable() async throws {
        let fake = Self.fake()
        await fake.state.setStandingFault(.hang)
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, timeout: .milliseconds(200)).placeCalls(Self.call())
        }
        guard case .retryable(let error) = results.first?.result else {
            Issue.record("expected retryable, got \(results)")
            return
        }
        #expect(error.code == "klaxon.timeout")
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let results = try await Self.client("http://127.0.0.1:1", timeout: .milliseconds(300)).placeCalls(Self.call())
        guard case .retryable(let error) = results.first?.result else {
            Issue.record("expected retryable, got \(results)")
            return
        }
        #expect(error.code == "klaxon.transport")
    }

    // MARK: - Secrets and numbers

    @Test func theTokenIsInNoResultErrorLogOrDescription() async throws {
        let fake = Self.fake()
        let logs = RecordedLog()
        // A vendor that echoes the token back in its error code must not leak it either.
        await fake.state.enqueue(
            .respond(status: 400, body: #"{"result":null,"error":"bad token \#(Self.token)"}"#),
            .respond(status: 500, body: ""),
            .respond(status: 401, body: #"{"result":null,"error":"Unauthorized"}"#)
        )
        var seen = try await withFakeServer(fake.router()) { baseURL in
            var seen: [String] = []
            let client = try Self.client(baseURL, logs: logs)
            seen.append("\(client)")
            seen.append(String(reflecting: client))
            var dumped = ""
            dump(client, to: &dumped)
            seen.append(dumped)
            for _ in 0..<4 {
                for result in await client.placeCalls(Self.call([Self.alice, Self.bob])) { seen.append(String(reflecting: result.result)) }
            }
            do {
                _ = try await client.callStatus(vendorCallID: "unknown")
            } catch {
                seen.append(String(reflecting: error))
            }
            return seen
        }
        seen += logs.entries
        #expect(!logs.entries.isEmpty)
        for text in seen {
            #expect(!text.contains(Self.token), "token leaked: \(text)")
        }
        for line in logs.entries {
            #expect(!line.contains("9121234567") && !line.contains("9351112222"), "full number in: \(line)")
        }
        #expect(logs.entries.contains { $0.contains("+98912****4567") })
    }

    // MARK: - Call status

    @Test func callStatusReadsTheCallDetail() async throws {
        let fake = Self.fake(ids: ["755021ff0e6a4c6c9c3fbc6f2d0c1a2b"])
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL)
            let placed = await client.placeCalls(Self.call())
            #expect(placed.first?.result == .accepted(vendorCallID: "755021ff0e6a4c6c9c3fbc6f2d0c1a2b"))
            #expect(try await client.callStatus(vendorCallID: "755021ff0e6a4c6c9c3fbc6f2d0c1a2b") == nil)
            #expect(await fake.setStatus("NORMAL", billSec: 12, for: "755021ff0e6a4c6c9c3fbc6f2d0c1a2b"))
            let report = try await client.callStatus(vendorCallID: "755021ff0e6a4c6c9c3fbc6f2d0c1a2b")
            #expect(
                report
                    == CallStatusReport(
                        vendorCallID: "755021ff0e6a4c6c9c3fbc6f2d0c1a2b",
                        callee: "09121234567",
                        status: .answered,
                        duration: .seconds(12),
                        vendorCode: "NORMAL"
                    )
            )
        }
        let lookup = try #require(await fake.state.requests.last)
        #expect(lookup.method == "GET")
        #expect(lookup.path == "/api/v2/voice/status/755021ff0e6a4c6c9c3fbc6f2d0c1a2b")
        #expect(lookup.headers["authorization"] == "Bearer \(Self.token)")
        #expect(lookup.body.isEmpty)
    }

    @Test(arguments: [
        ("NORMAL", CallStatus.answered),
        ("NO_ANSWER", .noAnswer),
        ("USER_BUSY", .busy),
        ("EXPIRED", .failed),
        ("ERROR", .failed),
        ("UNKNOWN", .failed),
    ])
    func everyFinalStatusMaps(status: String, expected: CallStatus) async throws {
        let fake = Self.fake(ids: ["c0ffee00c0ffee00c0ffee00c0ffee00"])
        let report = try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL)
            _ = await client.placeCalls(Self.call())
            await fake.setStatus(status, billSec: status == "NORMAL" ? 30 : 0, for: "c0ffee00c0ffee00c0ffee00c0ffee00")
            return try await client.callStatus(vendorCallID: "c0ffee00c0ffee00c0ffee00c0ffee00")
        }
        #expect(report?.status == expected)
        #expect(report?.vendorCode == status)
        #expect(report?.duration == .seconds(status == "NORMAL" ? 30 : 0))
    }

    @Test func callStatusErrors() async throws {
        let fake = Self.fake()
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Self.client(baseURL)
            await #expect(throws: VendorError(code: "NotFound", message: "Bitel refused the call: Bitel does not know this id", httpStatus: 404)) {
                try await client.callStatus(vendorCallID: "0000000000000000000000000000dead")
            }
            let unauthorized = try Self.client(baseURL, options: ["token": "wrong"])
            do throws(VendorError) {
                _ = try await unauthorized.callStatus(vendorCallID: "0000000000000000000000000000dead")
                Issue.record("a wrong token should throw")
            } catch {
                #expect(error.code == "klaxon.auth")
            }
            await fake.state.enqueue(.respond(status: 503, body: ""), .respond(status: 200, body: "{}"), .respond(status: 200, body: "nope"))
            for expected in ["klaxon.http", "klaxon.bad_response", "klaxon.bad_response"] {
                do throws(VendorError) {
                    _ = try await client.callStatus(vendorCallID: "0000000000000000000000000000dead")
                    Issue.record("expected \(expected)")
                } catch {
                    #expect(error.code == expected)
                }
            }
            let before = await fake.state.requests.count
            for bad in ["../single", "a/b", "", "id?x=1", "ünïcode"] {
                await #expect(throws: VendorError.self) { try await client.callStatus(vendorCallID: bad) }
            }
            #expect(await fake.state.requests.count == before)
        }
        let unreachable = try Self.client("http://127.0.0.1:1", timeout: .milliseconds(300))
        do throws(VendorError) {
            _ = try await unreachable.callStatus(vendorCallID: "abc")
            Issue.record("a refused connection should throw")
        } catch {
            #expect(error.code == "klaxon.transport")
        }
    }

    // MARK: - Status parsing (call detail and webhook)

    static let documentedDetail =
        #"{"id":"755021ff0e6a4c6c9c3fbc6f2d0c1a2b","phoneNumber":"0912*******","status":"NORMAL","statusCode":1,"billSec":12,"requestDate":1564643999,"executionDate":1564645842,"price":-34.2}"#

    @Test func theDocumentedCallDetailBareOrWrapped() throws {
        let expected = CallStatusReport(
            vendorCallID: "755021ff0e6a4c6c9c3fbc6f2d0c1a2b",
            callee: "0912*******",
            status: .answered,
            duration: .seconds(12),
            vendorCode: "NORMAL"
        )
        #expect(try BitelStatusParser.callDetail(Array(Self.documentedDetail.utf8)) == expected)
        let wrapped = #"{"result":"# + Self.documentedDetail + #","error":null}"#
        #expect(try BitelStatusParser.callDetail(Array(wrapped.utf8)) == expected)
    }

    @Test(
        arguments: [
            (#""status":"WAITING","statusCode":0"#, nil as CallStatus?, "WAITING"),
            (#""statusCode":0"#, nil, ""),
            (#""statusCode":3"#, .busy, "statusCode 3"),
            (#""status":"RINGING_NEW","statusCode":2"#, .noAnswer, "RINGING_NEW"),
            (#""status":"RINGING_NEW","statusCode":99"#, .failed, "RINGING_NEW"),
            (#""status":"NO_ANSWER","statusCode":1"#, .noAnswer, "NO_ANSWER"),
            (#""status":"EXPIRED","statusCode":"10""#, .failed, "EXPIRED"),
            (#""billSec":3"#, .failed, "no status"),
        ] as [(String, CallStatus?, String)]
    )
    func statusNamesThenCodesDecide(fields: String, status: CallStatus?, vendorCode: String) throws {
        let report = try BitelStatusParser.callDetail(Array((#"{"id":"abc","# + fields + "}").utf8))
        #expect(report?.status == status)
        if status != nil { #expect(report?.vendorCode == vendorCode) }
    }

    @Test(arguments: [
        "",
        "nope",
        "[]",
        #"{"result":null,"error":"NotFound"}"#,
        #"{"result":null,"error":null}"#,
        #"{"status":"NORMAL","statusCode":1}"#,  // no id
        #"{"id":"abc","status":"NORMAL","billSec":"twelve"}"#,
        #"{"id":"abc","status":{"name":"NORMAL"}}"#,
    ])
    func unreadableCallDetailsThrow(body: String) {
        #expect(throws: BitelStatusParser.Failure.self) { try BitelStatusParser.callDetail(Array(body.utf8)) }
    }

    @Test func theWebhookSampleOfVENDORSmd() throws {
        let body =
            #"{"requestId":"69b9e312e3b64b3880760639f5dfdffa","campaignId":null,"balanceSubtracted":34.2,"cause":"NORMAL","billSec":12,"number":"09121234567","requestDate":1700000000}"#
        #expect(
            try BitelStatusParser.webhook(Array(body.utf8))
                == CallStatusReport(
                    vendorCallID: "69b9e312e3b64b3880760639f5dfdffa",
                    callee: "09121234567",
                    status: .answered,
                    duration: .seconds(12),
                    vendorCode: "NORMAL"
                )
        )
        #expect(try BitelStatusParser.webhook(Array(#"{"requestId":"x","cause":"USER_BUSY","billSec":0}"#.utf8))?.status == .busy)
        #expect(try BitelStatusParser.webhook(Array(#"{"requestId":"x","cause":"WAITING"}"#.utf8)) == nil)
        for bad in ["", "{}", #"{"requestId":"x"}"#, #"{"cause":"NORMAL"}"#, #"{"requestId":"x","cause":"NORMAL","billSec":[]}"#] {
            #expect(throws: BitelStatusParser.Failure.self, "\(bad)") { try BitelStatusParser.webhook(Array(bad.utf8)) }
        }
    }
}

extension RecipientResult {
    /// The message of a refusal, or "" for an accepted call.
    fileprivate var errorMessage: String {
        switch result {
        case .accepted: ""
        case .retryable(let error), .permanent(let error): error.message
        }
    }
}
