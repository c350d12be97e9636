import AsyncHTTPClient
import Foundation
import Hummingbird
import KlaxonCore
import KlaxonProviders
import Testing
import VendorFakes

@Suite struct WebhookProviderTests {
    func router(_ state: FakeVendorState, answer: String = #"{"ok": true, "id": 7}"#) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/hooks/klaxon") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            if let fault = try await state.intercept(request, body: body) { return fault }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        return router
    }

    /// Generous timeouts: the suite runs in parallel on 2 cores; only the hang test wants a short one.
    func provider(_ baseURL: String, _ options: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> WebhookProvider {
        var all = ["url": baseURL + "/hooks/klaxon", "success_field": "ok", "success_value": "true"]
        all.merge(options) { _, new in new }
        let config = ProviderConfig(
            name: "chat",
            type: .webhook,
            timeout: timeout,
            options: all,
            maps: ["headers": ["Authorization": "Bearer s3cret"]]
        )
        return try WebhookProvider(config: config, environment: ProviderEnvironment(httpClient: .shared))
    }

    let request = CallRequest(
        callID: "0123456789ab",
        recipients: [CallRecipient(name: "alice", phone: "+8613700000001"), CallRecipient(name: "bob", phone: "+8613700000002")],
        prompt: .text("db-1 is down"),
        params: ["db-1"],
        text: "db-1 is down",
        priority: 2
    )

    @Test func postsOneRequestPerStepWithTheDefaultBody() async throws {
        let state = FakeVendorState()
        try await withFakeServer(router(state)) { baseURL in
            let results = try await provider(baseURL).placeCalls(request)
            #expect(results.map(\.result) == [.accepted(vendorCallID: "webhook-0123456789ab"), .accepted(vendorCallID: "webhook-0123456789ab")])
        }
        let recorded = await state.requests
        #expect(recorded.count == 1)
        #expect(recorded[0].method == "POST")
        #expect(recorded[0].headers["authorization"] == "Bearer s3cret")
        #expect(recorded[0].headers["content-type"] == "application/json")
        #expect(
            recorded[0].bodyText
                == #"{"call_id":"0123456789ab","params":["db-1"],"priority":2,"recipients":[{"name":"alice","phone":"+8613700000001"},{"name":"bob","phone":"+8613700000002"}],"text":"db-1 is down"}"#
        )
    }

    @Test func sendsTheRenderedBodyWhenThereIsOne() async throws {
        let state = FakeVendorState()
        var edited = request
        edited.body = #"{"msg":"db-1 is down"}"#
        let custom = edited
        try await withFakeServer(router(state)) { baseURL in
            _ = try await provider(baseURL).placeCalls(custom)
        }
        #expect(await state.requests.first?.bodyText == #"{"msg":"db-1 is down"}"#)
    }

    @Test func classifiesStatusesAndTheSuccessField() async throws {
        let state = FakeVendorState()
        try await withFakeServer(router(state, answer: #"{"ok": false}"#)) { baseURL in
            let client = try provider(baseURL)
            await state.enqueue(.respond(status: 503, body: "down"), .respond(status: 400, body: "bad"), .respond(status: 429, body: "slow"))
            guard case .retryable(let e503) = await client.placeCalls(request)[0].result else {
                Issue.record("503 should be retryable")
                return
            }
            #expect(e503.httpStatus == 503)
            guard case .permanent = await client.placeCalls(request)[0].result else {
                Issue.record("400 should be permanent")
                return
            }
            guard case .retryable = await client.placeCalls(request)[0].result else {
                Issue.record("429 should be retryable")
                return
            }
            guard case .permanent(let mismatch) = await client.placeCalls(request)[0].result else {
                Issue.record("ok=false should fail")
                return
            }
            #expect(mismatch.code == "webhook.unexpected_answer")
            #expect(!mismatch.description.contains("s3cret"))
        }
    }

    @Test func transportFailuresAndTimeoutsAreRetryable() async throws {
        let state = FakeVendorState()
        try await withFakeServer(router(state)) { baseURL in
            await state.setStandingFault(.hang)
            guard case .retryable(let error) = try await provider(baseURL, timeout: .milliseconds(300)).placeCalls(request)[0].result else {
                Issue.record("a hanging server should give a retryable failure")
                return
            }
            #expect(error.code == "klaxon.transport")
            await state.setStandingFault(nil)
        }
        try await withFakeServer(router(state)) { baseURL in
            await state.enqueue(.dropConnection)
            let result = try await provider(baseURL).placeCalls(request)[0].result
            guard case .retryable(let error) = result else {
                Issue.record("a dropped connection should give a retryable failure, got \(result)")
                return
            }
            #expect(error.code == "klaxon.transport")
        }
        let closed = try provider("http://127.0.0.1:1", timeout: .seconds(2))
        guard case .retryable = await closed.placeCalls(request)[0].result else {
            Issue.record("connection refused should be retryable")
            return
        }
    }
}
