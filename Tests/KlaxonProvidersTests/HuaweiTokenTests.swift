import AsyncHTTPClient
import Foundation
import KlaxonCore
import KlaxonProviders
import Logging
import Testing
import VendorFakes

/// `HuaweiTokenProvider` (and the client's use of it) against `HuaweiAICCFake`: caching,
/// refresh on the injected clock, single flight, invalidation, lifetime fallbacks.
@Suite struct HuaweiTokenTests {
    typealias Support = HuaweiTestSupport

    static func provider(
        _ baseURL: String,
        clock: Support.Clock,
        secret: String = Support.appSecret,
        lifetime: Int = 600,
        logs: RecordedLog = RecordedLog()
    )
        -> HuaweiTokenProvider
    {
        HuaweiTokenProvider(
            endpoint: baseURL,
            appKey: Support.appKey,
            appSecret: secret,
            requestedLifetime: lifetime,
            timeout: .seconds(30),
            httpClient: .shared,
            logger: Logger(label: "test", factory: { _ in RecordingLogHandler(log: logs) }),
            now: { clock.now }
        )
    }

    /// V-H1's answer, verbatim.
    static let vectorAnswer =
        #"{"AccessToken":"tok-1","ApplyType":"Bearer","CreateTime":"1700000000","Expires":"600","Scope":"default","AppKey":"2049230d-0000-0000-0000-000000000001","UserID":"Anonymous"}"#

    @Test func tokenExchangeMatchesVectorH1() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let tokens = Self.provider(baseURL, clock: clock)
            await fake.state.enqueue(.respond(status: 200, body: Self.vectorAnswer))
            #expect(try await tokens.token() == "tok-1")
            let request = try #require(await fake.state.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/apigovernance/api/oauth/tokenByAkSk")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["x-token-expire"] == "600")
            #expect(request.bodyText == #"{"app_key":"2049230d-0000-0000-0000-000000000001","app_secret":"s3cr3t-Huawei-App-Secret"}"#)
        }
    }

    @Test func tokenExpireOptionIsSent() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock, options: ["token_expire": "3600"])
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            #expect(await fake.state.requests.first?.headers["x-token-expire"] == "3600")
        }
    }

    @Test func tokenIsCachedAcrossCalls() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            for _ in 0..<3 {
                #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
                clock.advance(100)
            }
            #expect(await fake.tokenRequestCount() == 1)
            let authorizations = Set(await Support.businessRequests(fake).compactMap { $0.headers["authorization"] })
            #expect(authorizations.count == 1)
        }
    }

    @Test func tokenIsRefreshedAfterExpiry() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            clock.advance(601)
            // The fake shares the clock: the old token would now get 401.
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            #expect(await fake.tokenRequestCount() == 2)
            let business = await Support.businessRequests(fake)
            #expect(business.count == 2)
            #expect(business[0].headers["authorization"] != business[1].headers["authorization"])
        }
    }

    @Test func tokenIsRefreshedWhenTheMarginIsReached() async throws {
        // Lifetime 600 s: margin max(60 s, 20 % = 120 s) = 120 s, so refresh from 480 s on.
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let tokens = Self.provider(baseURL, clock: clock)
            let first = try await tokens.token()
            clock.advance(479)
            #expect(try await tokens.token() == first)
            clock.advance(2)
            let second = try await tokens.token()
            #expect(second != first)
            #expect(await tokens.requestCount == 2)
            #expect(await fake.tokenRequestCount() == 2)
        }
    }

    @Test(arguments: [
        // (answer, seconds still cached, seconds refreshed): margin = max(60, 20 %), at most half.
        (#"{"AccessToken":"tok-1","Expires":"600"}"#, 479.0, 481.0),
        (#"{"AccessToken":"tok-1","expiresIn":3300}"#, 2639.0, 2641.0),
        (#"{"AccessToken":"tok-1","expiresIn":"3300"}"#, 2639.0, 2641.0),
        (#"{"AccessToken":"tok-1","Expires":"3600","expiresIn":100}"#, 2879.0, 2881.0),
        (#"{"AccessToken":"tok-1"}"#, 959.0, 961.0),
        (#"{"AccessToken":"tok-1","Expires":"0"}"#, 959.0, 961.0),
        (#"{"AccessToken":"tok-1","Expires":"60"}"#, 29.0, 31.0),
        (#"{"AccessToken":"tok-1","Expires":"200"}"#, 139.0, 141.0),
    ])
    func lifetimeComesFromExpiresThenExpiresInThenTheRequest(answer: String, cached: Double, refreshed: Double) async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            // Asks for 1200 s, so the fallback (margin 240 s) refreshes from 960 s.
            let tokens = Self.provider(baseURL, clock: clock, lifetime: 1200)
            await fake.state.enqueue(.respond(status: 200, body: answer))
            let first = try await tokens.token()
            #expect(first == "tok-1")
            clock.advance(cached)
            #expect(try await tokens.token() == "tok-1")
            #expect(await tokens.requestCount == 1)
            clock.advance(refreshed - cached)
            #expect(try await tokens.token() != "tok-1")
            #expect(await tokens.requestCount == 2)
        }
    }

    @Test(arguments: [HuaweiAICCFake.LifetimeField.expires, .expiresIn, .omitted])
    func clientWorksWithEveryLifetimeField(field: HuaweiAICCFake.LifetimeField) async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            await fake.setLifetimeField(field)
            let client = try Support.client(baseURL, clock: clock)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            clock.advance(300)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            clock.advance(300)
            #expect(try Support.result(await client.placeCalls(Support.call())).isAccepted)
            #expect(await fake.tokenRequestCount() == 2)
        }
    }

    @Test func hundredConcurrentCallsMakeOneTokenRequest() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            // The hundred wait their turn for the shared client's few connections to the fake:
            // with the whole suite on two cores the last took over 30 s, and timed out.
            let client = try Support.client(baseURL, clock: clock, timeout: .seconds(180))
            let results = await withTaskGroup(of: [RecipientResult].self) { group in
                for _ in 0..<100 { group.addTask { await client.placeCalls(Support.call()) } }
                var all: [RecipientResult] = []
                for await results in group { all += results }
                return all
            }
            #expect(results.count == 100)
            #expect(results.allSatisfy { $0.result.isAccepted })
            #expect(await fake.tokenRequestCount() == 1)
            #expect(await fake.acceptedCalls().count == 100)
        }
    }

    @Test func hundredConcurrentWaitersShareOneRefresh() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let tokens = Self.provider(baseURL, clock: clock)
            // Slow the token answer so that every waiter arrives while it is in flight.
            await fake.state.enqueue(.delay(.milliseconds(50)))
            let values = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 { group.addTask { try await tokens.token() } }
                var all: [String] = []
                for try await value in group { all.append(value) }
                return all
            }
            #expect(values.count == 100)
            #expect(Set(values).count == 1)
            #expect(await tokens.requestCount == 1)
            #expect(await fake.tokenRequestCount() == 1)
        }
    }

    @Test func invalidateDropsOnlyTheRefusedToken() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let tokens = Self.provider(baseURL, clock: clock)
            let first = try await tokens.token()
            await tokens.invalidate("someone-elses-token")
            #expect(try await tokens.token() == first)
            await tokens.invalidate(first)
            let second = try await tokens.token()
            #expect(second != first)
            // A late invalidation of the old token leaves the new one alone.
            await tokens.invalidate(first)
            #expect(try await tokens.token() == second)
            #expect(await tokens.requestCount == 2)
        }
    }

    @Test func failedRefreshFallsBackToTheUnexpiredToken() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        let logs = RecordedLog()
        try await withFakeServer(fake.router()) { baseURL in
            let tokens = Self.provider(baseURL, clock: clock, logs: logs)
            let first = try await tokens.token()
            clock.advance(500)
            await fake.state.enqueue(.respond(status: 503, body: "busy"))
            #expect(try await tokens.token() == first)
            #expect(logs.text.contains("refresh failed"))
            // Past expiry there is nothing to fall back to.
            clock.advance(200)
            await fake.state.enqueue(.respond(status: 503, body: "busy"))
            await #expect(throws: HuaweiTokenProvider.Failure.self) { try await tokens.token() }
            // The failure is not cached: the next call asks again.
            #expect(try await tokens.token() != first)
        }
    }

    @Test func failuresAreClassifiedAndCarryNoSecret() async throws {
        let clock = Support.Clock()
        let fake = Support.fake(clock: clock)
        try await withFakeServer(fake.router()) { baseURL in
            let secret = "wrong-secret-9f8e7d"
            let wrong = Self.provider(baseURL, clock: clock, secret: secret)
            do throws(HuaweiTokenProvider.Failure) {
                _ = try await wrong.token()
                Issue.record("wrong credentials should throw")
            } catch {
                #expect(!error.isRetryable)
                #expect(error.code == "klaxon.auth")
                #expect(error.httpStatus == 401)
                #expect(!error.description.contains(secret))
            }
            // A vendor that echoes the request in its error body.
            let tokens = Self.provider(baseURL, clock: clock)
            await fake.state.enqueue(.respond(status: 400, body: #"{"error_msg":"bad app_secret \#(Support.appSecret)"}"#))
            do throws(HuaweiTokenProvider.Failure) {
                _ = try await tokens.token()
                Issue.record("400 should throw")
            } catch {
                #expect(!error.isRetryable)
                #expect(!error.description.contains(Support.appSecret))
                #expect(error.description.contains("***"))
            }
            for (status, body, code, retryable) in [
                (500, "oops", "klaxon.http_500", true), (429, "", "klaxon.http_429", true), (200, "not json", "klaxon.bad_response", true),
                (200, #"{"Expires":"600"}"#, "klaxon.bad_response", true),
            ] {
                await fake.state.enqueue(.respond(status: status, body: body))
                do throws(HuaweiTokenProvider.Failure) {
                    _ = try await tokens.token()
                    Issue.record("HTTP \(status) \(body) should throw")
                } catch {
                    #expect(error.code == code, "HTTP \(status) \(body)")
                    #expect(error.isRetryable == retryable)
                }
            }
            var out = ""
            dump(tokens, to: &out)
            #expect(!out.contains(Support.appSecret))
        }
    }
}
