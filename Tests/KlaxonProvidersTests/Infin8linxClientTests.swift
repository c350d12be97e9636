import AsyncHTTPClient
import Foundation
import KlaxonCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import VendorFakes

@testable import KlaxonProviders

@Suite struct Infin8linxClientTests {
    static let appID = "APPID1"
    static let accessKey = "KEY1-s3cr3t-acc355"
    static let anil = CallRecipient(name: "anil", phone: "+919876543210")
    static let priya = CallRecipient(name: "priya", phone: "+919876543211")
    static let callID = "klx42abcdefg"

    static func fake(acceptsDuplicates: Bool = false) -> Infin8linxFake {
        Infin8linxFake(appID: appID, accessKey: accessKey, acceptsDuplicates: acceptsDuplicates)
    }

    static func config(_ baseURL: String, options: [String: String] = [:], timeout: Duration = .seconds(30)) -> ProviderConfig {
        var all = ["appid": appID, "accesskey": accessKey, "nationcode": "in"]
        all.merge(options) { $1 }
        return ProviderConfig(name: "ivr-in", type: .infin8linx, endpoint: baseURL + Infin8linxFake.path, timeout: timeout, options: all)
    }

    static func client(
        _ baseURL: String,
        options: [String: String] = [:],
        timeout: Duration = .seconds(30),
        logs: RecordedLog = RecordedLog()
    ) throws -> Infin8linxClient {
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(log: logs) })
        return try Infin8linxClient(
            config: config(baseURL, options: options, timeout: timeout),
            environment: ProviderEnvironment(httpClient: .shared, logger: logger)
        )
    }

    static func call(
        _ recipients: [CallRecipient] = [anil, priya],
        prompt: VoicePrompt = .infin8linx(voiceFile: "disk_full.wav", voiceType: 1)
    )
        -> CallRequest
    {
        CallRequest(callID: callID, recipients: recipients, prompt: prompt)
    }

    // MARK: - The request on the wire

    @Test func oneMultipartPostByteForByte() async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call())
        }
        #expect(
            results == [
                RecipientResult(recipient: Self.anil, result: .accepted(vendorCallID: "klx42abcdefg:9876543210")),
                RecipientResult(recipient: Self.priya, result: .accepted(vendorCallID: "klx42abcdefg:9876543211")),
            ]
        )
        let recorded = await fake.state.requests
        let rejections = await fake.rejections()
        try #require(recorded.count == 1, "rejections: \(rejections)")
        let post = recorded[0]
        #expect(post.method == "POST")
        #expect(post.path == "/api/yunhu")
        #expect(post.query == nil)
        let contentType = try #require(post.headers["content-type"])
        #expect(contentType.hasPrefix("multipart/form-data; boundary=klaxon-"))
        let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
        #expect(post.headers["authorization"] == nil)
        let fields = [
            ("service", "App.Sip_Call.PlayVoice"),
            ("appid", Self.appID),
            ("accesskey", Self.accessKey),
            ("nationcode", "in"),
            ("destnumber", "9876543210,9876543211"),
            ("voicetype", "1"),
            ("voicefile", "disk_full.wav"),
            ("customuuid", Self.callID),
            ("todayonly", "1"),
        ]
        let expected =
            fields.map { "--\(boundary)\r\nContent-Disposition: form-data; name=\"\($0.0)\"\r\n\r\n\($0.1)\r\n" }.joined() + "--\(boundary)--\r\n"
        #expect(post.bodyText == expected)
        let batches = await fake.batches()
        #expect(batches.count == 1)
        #expect(batches.first?.fieldOrder == fields.map(\.0))
        #expect(batches.first?.numbers == ["9876543210", "9876543211"])
    }

    @Test func optionalFieldsWhenConfiguredInTheDocumentedOrder() async throws {
        let fake = Self.fake()
        let options = ["disnumber": "02566823420", "userkey": "1", "waittime": "45", "conntime": "120", "todayonly": "2"]
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, options: options).placeCalls(
                Self.call(prompt: .infin8linx(voiceFile: "https://cdn.example.com/a.mp3", voiceType: 2))
            )
        }
        let rejections = await fake.rejections()
        #expect(results.filter { !$0.result.isAccepted }.isEmpty, "rejections: \(rejections)")
        let batch = try #require(await fake.batches().first)
        #expect(
            batch.fieldOrder == [
                "service", "appid", "accesskey", "nationcode", "destnumber", "voicetype", "voicefile", "userkey", "disnumber", "customuuid",
                "waittime", "conntime", "todayonly",
            ]
        )
        #expect(batch.fields["voicetype"] == "2")
        #expect(batch.fields["voicefile"] == "https://cdn.example.com/a.mp3")
        #expect(batch.fields["userkey"] == "1")
        #expect(batch.fields["disnumber"] == "02566823420")
        #expect(batch.fields["waittime"] == "45")
        #expect(batch.fields["conntime"] == "120")
        #expect(batch.fields["todayonly"] == "2")
    }

    @Test func theDefaultEndpointIsTheDocumentedPlainHTTPURLAndThatIsLogged() throws {
        let config = ProviderConfig(name: "ivr-in", type: .infin8linx, options: ["appid": "a", "accesskey": Self.accessKey, "nationcode": "in"])
        let logs = RecordedLog()
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(log: logs) })
        let client = try Infin8linxClient(config: config, environment: ProviderEnvironment(httpClient: .shared, logger: logger))
        #expect(client.endpoint == "http://platform.infin8linx.com/api/yunhu")
        #expect(logs.entries.count == 1)
        #expect(logs.entries.first?.hasPrefix("notice infin8linx endpoint is plain http") == true)
        #expect(logs.entries.first?.contains(Self.accessKey) == false)
        // A loopback fake is not worth the notice.
        let quiet = RecordedLog()
        _ = try Self.client("http://127.0.0.1:9", logs: quiet)
        #expect(quiet.entries.isEmpty)
    }

    // MARK: - Batching

    @Test func aStepIsOnePostWithDuplicatesRemovedAndOrderKept() async throws {
        let fake = Self.fake()
        let again = CallRecipient(name: "anil-mobile", phone: Self.anil.phone)
        let third = CallRecipient(name: "ravi", phone: "+917000000001")
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call([Self.priya, Self.anil, again, third, Self.priya]))
        }
        #expect(results.map(\.recipient) == [Self.priya, Self.anil, again, third, Self.priya])
        #expect(
            results.map(\.result) == [
                .accepted(vendorCallID: "klx42abcdefg:9876543211"),
                .accepted(vendorCallID: "klx42abcdefg:9876543210"),
                .accepted(vendorCallID: "klx42abcdefg:9876543210"),
                .accepted(vendorCallID: "klx42abcdefg:7000000001"),
                .accepted(vendorCallID: "klx42abcdefg:9876543211"),
            ]
        )
        let batches = await fake.batches()
        let rejections = await fake.rejections()
        #expect(batches.count == 1, "rejections: \(rejections)")
        #expect(batches.first?.fields["destnumber"] == "9876543211,9876543210,7000000001")
    }

    @Test func numbersOfOtherCountriesAreRefusedAndTheRestSent() async throws {
        let fake = Self.fake()
        let budi = CallRecipient(name: "budi", phone: "+6281234567890")
        let li = CallRecipient(name: "li", phone: "+8613700000000")
        let national = CallRecipient(name: "local", phone: "9876543212")
        let logs = RecordedLog()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, logs: logs).placeCalls(Self.call([budi, Self.anil, li, national, Self.priya]))
        }
        #expect(results.map(\.recipient) == [budi, Self.anil, li, national, Self.priya])
        for index in [0, 2, 3] {
            guard case .permanent(let error) = results[index].result else {
                Issue.record("\(results[index].recipient.name) should be refused, got \(results[index].result)")
                continue
            }
            #expect(error.code == "klaxon.number_unsupported")
            #expect(error.message.contains("+91"))
        }
        #expect(results[1].result == .accepted(vendorCallID: "klx42abcdefg:9876543210"))
        #expect(results[4].result == .accepted(vendorCallID: "klx42abcdefg:9876543211"))
        #expect(await fake.batches().map(\.numbers) == [["9876543210", "9876543211"]])
        #expect(logs.entries.contains { $0.contains("+62812****7890") })
    }

    @Test func nobodyCallableMeansNoPost() async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, options: ["nationcode": "tha"]).placeCalls(Self.call())
        }
        #expect(results.count == 2)
        #expect(results.allSatisfy { if case .permanent(let error) = $0.result { error.code == "klaxon.number_unsupported" } else { false } })
        #expect(await fake.state.requests.isEmpty)
    }

    @Test(arguments: [
        ("in", "+919876543210", "9876543210"),
        ("id", "+6281234567890", "81234567890"),
        ("ph", "+639171234567", "9171234567"),
        ("mx", "+525512345678", "5512345678"),
        ("co", "+573001234567", "3001234567"),
        ("tha", "+66812345678", "812345678"),
    ])
    func eachNationCodeStripsItsCountryCode(nationCode: String, phone: String, national: String) {
        #expect(Infin8linxClient.nationalNumber(phone, nationCode: nationCode) == national)
        for other in Infin8linxClient.countryCodes.keys where other != nationCode {
            #expect(Infin8linxClient.nationalNumber(phone, nationCode: other) == nil, "\(phone) is not \(other)")
        }
    }

    @Test func twelveThousandAndOneNumbersAreThreePostsOfAtMost5000() async throws {
        let fake = Self.fake()
        let recipients = (0..<12_001).map { CallRecipient(name: "p\($0)", phone: "+91" + String(9_000_000_000 + $0)) }
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call(recipients))
        }
        #expect(results.count == 12_001)
        let rejections = await fake.rejections()
        #expect(results.filter { !$0.result.isAccepted }.isEmpty, "rejections: \(rejections)")
        #expect(results.last?.result == .accepted(vendorCallID: "klx42abcdefg:9000012000"))
        let batches = await fake.batches()
        #expect(batches.map(\.numbers.count).sorted() == [2001, 5000, 5000])
        let sent = batches.sorted { $0.numbers[0] < $1.numbers[0] }.flatMap(\.numbers)
        #expect(sent == recipients.map { String($0.phone.dropFirst(3)) })
        #expect(Set(batches.compactMap { $0.fields["customuuid"] }) == [Self.callID])
    }

    @Test func aRefusedPostFailsOnlyItsOwnNumbers() async throws {
        let fake = Self.fake()
        // Two posts of two numbers (limit lowered to 2); whichever arrives first gets a 500.
        await fake.state.enqueue(.respond(status: 500, body: ""))
        let recipients = (0..<4).map { CallRecipient(name: "p\($0)", phone: "+91" + String(9_000_000_000 + $0)) }
        let results = try await withFakeServer(fake.router()) { baseURL in
            let client = try Infin8linxClient(config: Self.config(baseURL), environment: ProviderEnvironment(httpClient: .shared), batchLimit: 2)
            return await client.placeCalls(Self.call(recipients))
        }
        #expect(await fake.state.requests.count == 2)
        let accepted = results.filter { $0.result.isAccepted }.map(\.recipient.name)
        let failed = results.filter { !$0.result.isAccepted }
        #expect(accepted == ["p0", "p1"] || accepted == ["p2", "p3"])
        #expect(failed.count == 2)
        for result in failed {
            #expect(result.result == .retryable(VendorError(code: "klaxon.http", message: "infin8linx answered HTTP 500", httpStatus: 500)))
        }
        let batches = await fake.batches()
        #expect(batches.map(\.numbers) == [accepted == ["p0", "p1"] ? ["9000000000", "9000000001"] : ["9000000002", "9000000003"]])
    }

    // MARK: - Prompt and configuration

    @Test(arguments: [
        (VoicePrompt.text("db down"), "klaxon.voice_missing"),
        (.infin8linx(voiceFile: "", voiceType: 1), "klaxon.voice_missing"),
        (.bitel(voiceID: "08e815cbcd724386805103ac0d45e4c2"), "klaxon.voice_missing"),
        (.infin8linx(voiceFile: "a.wav", voiceType: 3), "klaxon.voice_invalid"),
    ])
    func aPromptWithoutAnInfin8linxVoiceIsRefusedBeforeSending(prompt: VoicePrompt, code: String) async throws {
        let fake = Self.fake()
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call(prompt: prompt))
        }
        #expect(results.count == 2)
        #expect(results.allSatisfy { if case .permanent(let error) = $0.result { error.code == code } else { false } })
        #expect(await fake.state.requests.isEmpty)
    }

    @Test(
        arguments: [
            (["accesskey": "k", "nationcode": "in"], "appid is required"),
            (["appid": "a", "nationcode": "in"], "accesskey is required"),
            (["appid": "a", "accesskey": "k"], "nationcode is required"),
            (["appid": "a", "accesskey": "k", "nationcode": "IN"], "nationcode must be one of"),
            (["appid": "a", "accesskey": "k", "nationcode": "cn"], "nationcode must be one of"),
            (["appid": "a", "accesskey": "k", "nationcode": "in", "userkey": "yes"], "userkey must be 0 or 1"),
            (["appid": "a", "accesskey": "k", "nationcode": "in", "todayonly": "0"], "todayonly must be 1 or 2"),
            (["appid": "a", "accesskey": "k", "nationcode": "in", "waittime": "0"], "waittime must be"),
            (["appid": "a", "accesskey": "k", "nationcode": "in", "conntime": "1.5"], "conntime must be"),
            (["appid": "a", "accesskey": "k", "nationcode": "in", "disnumber": "+6221"], "disnumber must be digits"),
        ] as [([String: String], String)]
    )
    func badSettingsAreConfigErrors(options: [String: String], message: String) {
        let config = ProviderConfig(name: "ivr-in", type: .infin8linx, options: options)
        #expect {
            try Infin8linxClient(config: config, environment: ProviderEnvironment(httpClient: .shared))
        } throws: { error in
            guard let error = error as? ProviderConfigError else { return false }
            return error.message.contains(message) && error.provider == "ivr-in" && !error.description.contains("k\"")
        }
    }

    // MARK: - What the fake refuses, as infin8linx would

    @Test func aWrongAccessKeyIsPermanent601() async throws {
        let fake = Infin8linxFake(appID: Self.appID, accessKey: "another-key")
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call())
        }
        for result in results {
            guard case .permanent(let error) = result.result else {
                Issue.record("expected permanent, got \(result.result)")
                continue
            }
            #expect(error.code == "601")
            #expect(error.message.contains("appid is not authorized"))
            #expect(!error.description.contains(Self.accessKey))
        }
    }

    @Test func theFakeRefusesTheVendorDocumentsTraps() async throws {
        let fake = Self.fake()
        try await withFakeServer(fake.router()) { baseURL in
            for destnumber in ["133，134，135", "+919876543210", "133,,134", "133, 134", "133,134,135,135"] {
                var form = MultipartFormData()
                for (name, value) in [
                    ("service", "App.Sip_Call.PlayVoice"), ("appid", Self.appID), ("accesskey", Self.accessKey), ("nationcode", "id"),
                    ("destnumber", destnumber), ("voicetype", "1"), ("voicefile", "a.wav"),
                ] {
                    form.append(name, value)
                }
                var request = HTTPClientRequest(url: baseURL + Infin8linxFake.path)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: form.contentType)
                request.body = .bytes(form.encoded())
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
                #expect(body == #"{"ret":400,"data":[],"msg":"Illegal request: invalid parameter"}"#, "\(destnumber)")
                #expect(Infin8linxClient.classify(httpStatus: Int(response.status.code), body: Array(body.utf8)).isPermanent)
            }
        }
        #expect(await fake.batches().isEmpty)
        #expect(await fake.rejections().count == 5)
    }

    @Test func aLenientFakeRecordsDuplicates() async throws {
        let fake = Self.fake(acceptsDuplicates: true)
        try await withFakeServer(fake.router()) { baseURL in
            var form = MultipartFormData()
            for (name, value) in [
                ("service", "App.Sip_Call.PlayVoice"), ("appid", Self.appID), ("accesskey", Self.accessKey), ("nationcode", "id"),
                ("destnumber", "133,134,135,135"), ("voicetype", "1"), ("voicefile", "a.wav"),
            ] {
                form.append(name, value)
            }
            var request = HTTPClientRequest(url: baseURL + Infin8linxFake.path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: form.contentType)
            request.body = .bytes(form.encoded())
            _ = try await HTTPClient.shared.execute(request, timeout: .seconds(30)).body.collect(upTo: 1 << 16)
        }
        #expect(await fake.batches().map(\.duplicates) == [["135"]])
    }

    // MARK: - Every documented answer, classified

    enum Expected: Sendable, CustomStringConvertible {
        case accepted
        case permanent(String)
        case retryable(String)

        var description: String {
            switch self {
            case .accepted: "accepted"
            case .permanent(let code): "permanent \(code)"
            case .retryable(let code): "retryable \(code)"
            }
        }
    }

    static let answers: [(Int, String, Expected)] = [
        (
            200,
            #"{"code":200,"msg":"successful request","data":{"desc":"Play command sent successfully","reqtime":1588836407,"rsptime":1588836407}}"#,
            .accepted
        ),
        (200, #"{"ret":200,"data":{"status":0,"desc":"ok","reqtime":1,"rsptime":1},"msg":""}"#, .accepted),
        (200, #"{"code":"200","msg":"successful request","data":{"desc":"ok","errors":[]}}"#, .accepted),
        (200, #"{"ret":400,"data":[],"msg":"Illegal request: invalid parameter"}"#, .permanent("400")),
        (400, #"{"ret":400,"data":[],"msg":"Illegal request: invalid parameter"}"#, .permanent("400")),
        (200, #"{"ret":500,"data":[],"msg":"server error"}"#, .retryable("500")),
        (500, #"{"ret":500,"data":[],"msg":"server error"}"#, .retryable("500")),
        (200, #"{"ret":600,"data":[],"msg":"token invalid"}"#, .permanent("600")),
        (200, #"{"ret":601,"data":[],"msg":"appid is not authorized"}"#, .permanent("601")),
        (200, #"{"ret":602,"data":[],"msg":"appid authorization expired"}"#, .permanent("602")),
        (200, #"{"ret":603,"data":[],"msg":"module not licensed"}"#, .permanent("603")),
        (200, #"{"ret":604,"data":[],"msg":"ip not authorized"}"#, .permanent("604")),
        (200, #"{"code":601,"msg":"appid is not authorized","data":[]}"#, .permanent("601")),
        (
            200,
            #"{"ret":200,"data":{"status":1,"desc":"xxxfail","errors":{"code":"1001","codemsg":"Server connection failed"},"reqtime":1,"rsptime":1},"msg":""}"#,
            .retryable("1001")
        ),
        (
            200,
            #"{"ret":200,"data":{"status":1,"desc":"xxxfail","errors":{"code":"1002","codemsg":"Abnormal operation"},"reqtime":1,"rsptime":1},"msg":""}"#,
            .retryable("1002")
        ),
        (
            200,
            #"{"ret":200,"data":{"status":1,"desc":"xxxfail","errors":{"code":"1003","codemsg":"Authorization failed"},"reqtime":1,"rsptime":1},"msg":""}"#,
            .permanent("1003")
        ),
        (
            200, #"{"ret":200,"data":{"status":1,"desc":"xxxfail","errors":{"code":1003,"codemsg":"Authorization failed"}},"msg":""}"#,
            .permanent("1003")
        ),
        (200, #"{"ret":200,"data":{"status":1,"desc":"busy ext","errors":{"code":"1010","codemsg":"ext busy"}},"msg":""}"#, .permanent("1010")),
        (200, #"{"ret":200,"data":{"status":1,"desc":"xxxfail","errors":{"code":"1018","codemsg":"ext state"}},"msg":""}"#, .permanent("1018")),
        (200, #"{"ret":200,"data":{"status":1,"desc":"xxxfail"},"msg":""}"#, .permanent("status_1")),
        (200, #"{"ret":200,"data":{"status":1,"errors":"weird"},"msg":""}"#, .permanent("unknown")),
        // A data object klaxon cannot read may hold errors: not a success.
        (200, #"{"ret":200,"data":{"status":"fail","errors":{"code":"1003","codemsg":"x"}},"msg":""}"#, .retryable("klaxon.bad_response")),
        (200, #"{"ret":200,"data":{"desc":["busy"]},"msg":""}"#, .retryable("klaxon.bad_response")),
        (200, #"{"ret":200,"data":"queued","msg":""}"#, .retryable("klaxon.bad_response")),
        (200, #"{"ret":700,"data":[],"msg":"something new"}"#, .permanent("700")),
        (200, #"{"ret":503,"data":[],"msg":"overloaded"}"#, .retryable("503")),
        (200, "<html>captive portal</html>", .retryable("klaxon.bad_response")),
        (200, "", .retryable("klaxon.bad_response")),
        (200, #"{"msg":"no code"}"#, .retryable("klaxon.bad_response")),
        (502, "<html>bad gateway</html>", .retryable("klaxon.http")),
        (503, "", .retryable("klaxon.http")),
        (429, "", .retryable("klaxon.http")),
        (404, "<html>not found</html>", .permanent("klaxon.http")),
    ]

    @Test(arguments: answers)
    func everyAnswerIsClassifiedForEveryNumberOfThePost(status: Int, body: String, expected: Expected) async throws {
        let fake = Self.fake()
        await fake.state.enqueue(.respond(status: status, body: body))
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL).placeCalls(Self.call())
        }
        #expect(results.count == 2)
        #expect(results[0].result == results[1].result || expected.isAccepted)
        for result in results {
            switch (expected, result.result) {
            case (.accepted, .accepted(let id)):
                #expect(id.hasPrefix(Self.callID + ":"))
            case (.permanent(let code), .permanent(let error)), (.retryable(let code), .retryable(let error)):
                #expect(error.code == code)
                #expect(error.httpStatus == status)
            default:
                Issue.record("HTTP \(status) \(body): expected \(expected), got \(result.result)")
            }
        }
    }

    @Test func everyDocumentedCodeHasAClass() {
        let documented = ["400", "500", "600", "601", "602", "603", "604", "1001", "1002", "1003"] + (1010...1018).map(String.init)
        #expect(Set(Infin8linxClient.errorCodes.keys) == Set(documented))
        #expect(Infin8linxClient.errorCodes.filter(\.value.retryable).keys.sorted() == ["1001", "1002", "500"])
    }

    // MARK: - Transport

    @Test func aTimeoutIsRetryable() async throws {
        let fake = Self.fake()
        await fake.state.setStandingFault(.hang)
        let results = try await withFakeServer(fake.router()) { baseURL in
            try await Self.client(baseURL, timeout: .milliseconds(200)).placeCalls(Self.call())
        }
        #expect(results.allSatisfy { if case .retryable(let error) = $0.result { error.code == "klaxon.timeout" } else { false } })
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let results = try await Self.client("http://127.0.0.1:1", timeout: .milliseconds(300)).placeCalls(Self.call())
        #expect(results.allSatisfy { if case .retryable(let error) = $0.result { error.code == "klaxon.transport" } else { false } })
    }

    // MARK: - Secrets and numbers

    @Test func theAccessKeyIsInNoResultErrorLogOrDescription() async throws {
        let fake = Self.fake()
        let logs = RecordedLog()
        await fake.state.enqueue(
            .respond(status: 200, body: #"{"ret":601,"data":[],"msg":"accesskey \#(Self.accessKey) is not authorized"}"#),
            .respond(status: 500, body: ""),
            .respond(status: 200, body: #"{"ret":200,"data":{"status":1,"errors":{"code":"1003","codemsg":"bad key \#(Self.accessKey)"}},"msg":""}"#)
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
                for result in await client.placeCalls(Self.call()) { seen.append(String(reflecting: result.result)) }
            }
            return seen
        }
        seen += logs.entries
        #expect(!logs.entries.isEmpty)
        for text in seen {
            #expect(!text.contains(Self.accessKey), "access key leaked: \(text)")
        }
        for line in logs.entries {
            #expect(!line.contains("9876543210") && !line.contains("9876543211"), "number in: \(line)")
        }
    }
}

extension CallResult {
    fileprivate var isPermanent: Bool {
        if case .permanent = self { return true }
        return false
    }
}

extension Infin8linxClientTests.Expected {
    fileprivate var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }
}
