import AsyncHTTPClient
import KlaxonCore
import KlaxonProviders
import KlaxonTestSupport
import Testing
import VendorFakes

/// Retry and failover with real clients over real HTTP: the first vendor is down, the
/// second takes the calls.
@Suite struct FailoverOverHTTPTests {
    @Test func aDownVendorIsRetriedWithBackoffThenTheNextProviderTakesTheCall() async throws {
        let huawei = HuaweiAICCFake(appKey: "k", appSecret: "s")
        let alice = CallRecipient(name: "alice", phone: "+8613700000001")
        let outcomes = try await withFakeServer(huawei.router()) { huaweiURL in
            let environment = ProviderEnvironment(httpClient: .shared)
            // Nothing listens on port 1: every attempt is refused.
            let down = try AliyunVoiceClient(
                config: ProviderConfig(
                    name: "aliyun",
                    type: .aliyun,
                    endpoint: "http://127.0.0.1:1",
                    timeout: .milliseconds(500),
                    options: ["access_key_id": "id", "access_key_secret": "secret"]
                ),
                environment: environment
            )
            let up = try HuaweiAICCClient(
                config: ProviderConfig(
                    name: "huawei",
                    type: .huaweiAICC,
                    endpoint: huaweiURL,
                    timeout: .seconds(30),
                    options: ["app_key": "k", "app_secret": "s"]
                ),
                environment: environment
            )
            let clock = ManualClock()
            let dispatcher = CallDispatcher(clock: clock, jitter: { 1 })
            let legs = [
                CallDispatcher<ManualClock>.Leg(
                    provider: down,
                    request: CallRequest(callID: "0123456789ab", recipients: [alice], prompt: .aliyunVoice(voiceCode: "v.wav")),
                    retry: RetryPolicy(attempts: 3, initialBackoff: .seconds(5), maxBackoff: .seconds(60))
                ),
                CallDispatcher<ManualClock>.Leg(
                    provider: up,
                    request: CallRequest(callID: "0123456789ab", recipients: [alice], prompt: .huaweiAICC(playList: [.voiceID("1133")])),
                    retry: RetryPolicy(attempts: 3, initialBackoff: .seconds(5), maxBackoff: .seconds(60))
                ),
            ]
            let task = Task { await dispatcher.dispatch(legs) }
            for delay in [5, 10] {
                await clock.waitForSleepers()
                clock.advance(by: .seconds(delay))
            }
            let outcomes = await task.value
            #expect(clock.sleeps == [.seconds(5), .seconds(10)])
            return outcomes
        }
        #expect(outcomes.count == 1)
        #expect(outcomes[0].provider == "huawei")
        #expect(outcomes[0].result.isAccepted)
        #expect(await huawei.acceptedCalls().count == 1)
    }
}
