import AsyncHTTPClient
import Hummingbird
import KlaxonCore
import KlaxonProviders
import Testing
import VendorFakes

/// A vendor that closes the connection mid-answer: every client must call it retryable,
/// since the call may not have been placed and a retry (or the next provider) must follow.
@Suite struct DroppedConnectionTests {
    static let environment = ProviderEnvironment(httpClient: .shared)

    func firstResult(
        _ router: Router<BasicRequestContext>,
        state: FakeVendorState,
        client: @Sendable (String) throws -> any VoiceProvider,
        call: CallRequest
    ) async throws -> CallResult {
        try await withFakeServer(router) { baseURL in
            await state.enqueue(.dropConnection)
            return try await client(baseURL).placeCalls(call)[0].result
        }
    }

    func expectRetryable(_ result: CallResult, _ vendor: String) {
        guard case .retryable = result else {
            Issue.record("\(vendor): a dropped connection should be retryable, got \(result)")
            return
        }
    }

    @Test func aliyun() async throws {
        let fake = AliyunFake()
        let call = CallRequest(
            callID: "0123456789ab",
            recipients: [CallRecipient(name: "a", phone: "+8613700000001")],
            prompt: .aliyunVoice(voiceCode: "v.wav")
        )
        let result = try await firstResult(
            fake.router(),
            state: fake.state,
            client: { baseURL in
                try AliyunVoiceClient(
                    config: ProviderConfig(
                        name: "ali",
                        type: .aliyun,
                        endpoint: baseURL,
                        options: ["access_key_id": "testid", "access_key_secret": "testsecret"]
                    ),
                    environment: Self.environment
                )
            },
            call: call
        )
        expectRetryable(result, "aliyun")
    }

    @Test func bitel() async throws {
        let fake = BitelFake()
        let call = CallRequest(
            callID: "0123456789ab",
            recipients: [CallRecipient(name: "a", phone: "+989120000001")],
            prompt: .bitel(voiceID: "08e815cbcd724386805103ac0d45e4c2")
        )
        let result = try await firstResult(
            fake.router(),
            state: fake.state,
            client: { baseURL in
                try BitelClient(
                    config: ProviderConfig(name: "bt", type: .bitel, endpoint: baseURL, options: ["token": "test-jwt"]),
                    environment: Self.environment
                )
            },
            call: call
        )
        expectRetryable(result, "bitel")
    }

    @Test func infin8linx() async throws {
        let fake = Infin8linxFake()
        let call = CallRequest(
            callID: "0123456789ab",
            recipients: [CallRecipient(name: "a", phone: "+919812345678")],
            prompt: .infin8linx(voiceFile: "a.wav", voiceType: 1)
        )
        let result = try await firstResult(
            fake.router(),
            state: fake.state,
            client: { baseURL in
                try Infin8linxClient(
                    config: ProviderConfig(
                        name: "ivr",
                        type: .infin8linx,
                        endpoint: baseURL + Infin8linxFake.path,
                        options: ["appid": "APPID1", "accesskey": "KEY1", "nationcode": "in"]
                    ),
                    environment: Self.environment
                )
            },
            call: call
        )
        expectRetryable(result, "infin8linx")
    }

    /// The first request of a fresh client is the token request: dropping it must not lose the call either.
    @Test func huaweiAICC() async throws {
        let fake = HuaweiAICCFake(appKey: "k", appSecret: "s")
        let call = CallRequest(
            callID: "0123456789ab",
            recipients: [CallRecipient(name: "a", phone: "+8613700000001")],
            prompt: .huaweiAICC(playList: [.voiceID("1133")])
        )
        let result = try await firstResult(
            fake.router(),
            state: fake.state,
            client: { baseURL in
                try HuaweiAICCClient(
                    config: ProviderConfig(name: "hw", type: .huaweiAICC, endpoint: baseURL, options: ["app_key": "k", "app_secret": "s"]),
                    environment: Self.environment
                )
            },
            call: call
        )
        expectRetryable(result, "huawei-aicc")
    }
}
